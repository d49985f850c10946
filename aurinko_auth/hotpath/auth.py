"""Authenticating API callers, free of DRF so any view (and benchmarks) can use it.

* account token: ``Authorization: Bearer aat_...``: one indexed query (token -> account -> app);
* client credentials: ``Authorization: Basic base64(clientId:clientSecret)``;
* user session: the ``AUR{appId}`` cookie or ``X-Aurinko-Session``: one indexed query
  (session -> user -> app), see :func:`user_from_session`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import BaseCache, caches
from django.db import DatabaseError, InterfaceError, OperationalError, connections, router
from django.db.models import Field, Model
from django.utils import timezone

from aurinko_auth import crypto, usersessions
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AuthenticationFailed, CsrfFailed, InvalidRequest
from aurinko_auth.hotpath.rowquery import (
    Converters,
    convert,
    converters_for,
    model_builder,
    readable_fields,
)
from aurinko_auth.models import Account, AccountToken, App, AppUser, UserSession
from aurinko_auth.security import origins


@dataclass
class Principal:
    """Who is calling: an app, and for account tokens the account."""

    app: App
    account: Account | None = None
    via: str = "client"  # "token" | "client" | "session"
    user: AppUser | None = None
    session: UserSession | None = None
    from_cookie: bool = False

    is_authenticated = True
    is_anonymous = False


def parse_authorization(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    return scheme.lower(), value.strip()


# Bump the version when the cached value's shape changes.
TOKEN_CACHE_PREFIX = "aurinko:tok:v3:"


def auth_cache() -> BaseCache | None:
    alias = aurinko_settings.AUTH_CACHE
    return caches[alias] if alias else None


def token_cache_key(token_hash: str) -> str:
    return TOKEN_CACHE_PREFIX + token_hash


# What the lookup returns and the cache keeps: the account's column values, the app's column
# values and the token's expiry, as plain Python values (cheap to pickle, no model state).
TokenRow = tuple[tuple[Any, ...], tuple[Any, ...], Any]


@dataclass(frozen=True)
class Columns:
    """Which account and app fields a token lookup reads (attnames; None: every field but
    the encrypted ones). The others are deferred on the instances: they load on access."""

    name: str
    account: tuple[str, ...] | None = None
    app: tuple[str, ...] | None = None

    def fields(self, model: type[Model]) -> tuple[Field, ...]:
        return readable_fields(model, self.account if model is Account else self.app)


# What authentication returns and the cache keeps.
ALL_COLUMNS = Columns("all")


@dataclass(frozen=True)
class _TokenQuery:
    """The hot-path lookup (token -> account -> app) as SQL compiled once per database.

    Building this query through the ORM on every request cost about three times the database
    round trip (bench/); the columns and the value converters still come from the models'
    ``_meta``, and instances are made with ``Model.from_db``, so the query follows the models.
    Encrypted fields (the account's provider credentials, the app's user-signing key) are left
    out (deferred): authentication never needs them, and decrypting them on every request
    would cost time and keep secrets in memory."""

    sql: str
    n_account: int
    n_app: int
    converters: Converters
    # PostgreSQL: the same query as a prepared statement (name, PREPARE, EXECUTE).
    prepared: tuple[str, str, str] | None

    @classmethod
    def compile(cls, conn: Any, columns: Columns) -> _TokenQuery:
        qn = conn.ops.quote_name
        account_fields = columns.fields(Account)
        app_fields = columns.fields(App)
        expires = AccountToken._meta.get_field("expires_at")
        selected = (
            [(f, "a") for f in account_fields] + [(f, "p") for f in app_fields] + [(expires, "t")]
        )
        token_fk = AccountToken._meta.get_field("account").column
        app_fk = Account._meta.get_field("app").column
        # Identifiers come from the models' _meta and are quoted; the token hash is a parameter.
        sql = (
            "SELECT "  # noqa: S608
            + ", ".join(f"{alias}.{qn(f.column)}" for f, alias in selected)  # noqa: S608
            + f" FROM {qn(AccountToken._meta.db_table)} t"
            + f" JOIN {qn(Account._meta.db_table)} a ON a.{qn(Account._meta.pk.column)} = t.{qn(token_fk)}"
            + f" JOIN {qn(App._meta.db_table)} p ON p.{qn(App._meta.pk.column)} = a.{qn(app_fk)}"
            + f" WHERE t.{qn(AccountToken._meta.get_field('token_hash').column)} = %s"
        )
        converters = converters_for(conn, selected)
        prepared = None
        if conn.vendor == "postgresql":
            # Named after the SQL, so a statement of that name is always this statement.
            name = "aurinko_token_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
            prepared = (
                name,
                f"PREPARE {name} AS " + sql.replace("%s", "$1"),
                f"EXECUTE {name}(%s)",
            )
        return cls(sql, len(account_fields), len(app_fields), converters, prepared)

    def run(self, conn: Any, token_hash: str) -> TokenRow | None:
        with conn.cursor() as cursor:
            if (
                self.prepared is not None
                and aurinko_settings.AUTH_PREPARED_QUERY
                and not conn.in_atomic_block
            ):
                self._execute_prepared(conn, cursor, token_hash)
            else:
                cursor.execute(self.sql, [token_hash])
            row = cursor.fetchone()
        if row is None:
            return None
        values = convert(row, self.converters, conn)
        n, m = self.n_account, self.n_account + self.n_app
        return tuple(values[:n]), tuple(values[n:m]), values[m]

    def _execute_prepared(self, conn: Any, cursor: Any, token_hash: str) -> None:
        """PostgreSQL plans the three-table join anew for every plain query, which costs
        several times its execution; a statement prepared once per connection skips that.
        Only in autocommit (outside transactions), where a failed statement harms nothing:
        a statement the server no longer has (a pooler reset the session) is prepared again."""
        name, prepare, execute = self.prepared  # type: ignore[misc]
        prepared_on = conn.__dict__.setdefault("_aurinko_prepared", {})
        if prepared_on.get(name) is not conn.connection:
            _prepare(cursor, prepare)
            prepared_on[name] = conn.connection
        try:
            cursor.execute(execute, [token_hash])
        except DatabaseError as exc:
            if _sqlstate(exc) != "26000":  # invalid_sql_statement_name
                raise
            _prepare(cursor, prepare)
            cursor.execute(execute, [token_hash])


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def _prepare(cursor: Any, statement: str) -> None:
    try:
        cursor.execute(statement)
    except DatabaseError as exc:
        if _sqlstate(exc) != "42P05":  # duplicate_prepared_statement: it is this statement
            raise


_token_queries: dict[tuple[str, str], _TokenQuery] = {}
_builders: dict[str, tuple[Any, Any]] = {}


def _query(conn: Any, columns: Columns) -> _TokenQuery:
    query = _token_queries.get((conn.alias, columns.name))
    if query is None:
        query = _token_queries[conn.alias, columns.name] = _TokenQuery.compile(conn, columns)
    return query


def _lookup_token(
    token_hash: str,
    columns: Columns = ALL_COLUMNS,
) -> tuple[str, TokenRow | None]:
    """One indexed query: ``(database alias, row)``; the row is None for an unknown token."""
    conn = connections[router.db_for_read(AccountToken)]
    query = _query(conn, columns)
    if (
        getattr(conn, "health_check_enabled", False)
        and not conn.health_check_done
        and conn.connection is not None
        and not conn.in_atomic_block
    ):
        # CONN_HEALTH_CHECKS would send "SELECT 1" before this query, a second round trip
        # on every request. This read is the health check instead: if the persistent
        # connection turns out to be dead, it is closed and the read retried once on a new
        # one, which is what the health check would have done. Outside transactions only.
        conn.health_check_done = True
        try:
            return conn.alias, query.run(conn, token_hash)
        except (OperationalError, InterfaceError):
            conn.close()
    return conn.alias, query.run(conn, token_hash)


_active_indexes: dict[str, int] = {}


def _active_index(columns: Columns) -> int:
    """Where ``App.active`` is in the app's values."""
    index = _active_indexes.get(columns.name)
    if index is None:
        index = _active_indexes[columns.name] = columns.fields(App).index(
            App._meta.get_field("active")
        )
    return index


def principal_from_row(db: str, row: TokenRow, columns: Columns = ALL_COLUMNS) -> Principal:
    """The principal of a (cached or fresh) :func:`token_entry` row read with ``columns``."""
    builders = _builders.get(columns.name)
    if builders is None:
        builders = _builders[columns.name] = (
            model_builder(Account, columns.fields(Account)),
            model_builder(App, columns.fields(App)),
        )
    account = builders[0](db, row[0])
    account.app = builders[1](db, row[1])
    return Principal(app=account.app, account=account, via="token")


def token_entry(
    token: str, derive: Callable[[str, TokenRow], Any] | None = None, columns: Columns = ALL_COLUMNS
) -> tuple[str, TokenRow, Any]:
    """``(database alias, row, derived)`` of a valid account token: at most one query, none
    when the cache (``AUTH_CACHE``) holds it. Raises AuthenticationFailed for an unknown,
    malformed or expired token, or when the app is disabled.

    ``derive(db, row)``, if given, computes something from the row alone (the lean
    GET /v1/account renders its JSON body): it is cached with the row when the row is read
    from the database, so it shares the row's invalidation; None when nothing derived it.
    Only rows of ``ALL_COLUMNS`` are cached; other ``columns`` always query (use them when
    there is no cache)."""
    if not token.startswith(crypto.PREFIX_ACCOUNT_TOKEN) or len(token) > 200:
        raise AuthenticationFailed("Invalid account token.", code=Code.TOKEN_INVALID)
    token_hash = crypto.hash_token(token)
    cache = auth_cache() if columns is ALL_COLUMNS else None
    found = cache.get(token_cache_key(token_hash)) if cache is not None else None
    if found is None:
        db, row = _lookup_token(token_hash, columns)
        derived = derive(db, row) if derive is not None and row is not None else None
        if row is not None and cache is not None:
            cache.set(
                token_cache_key(token_hash), (db, row, derived), aurinko_settings.AUTH_CACHE_TIMEOUT
            )
    else:
        db, row, derived = found
        if derived is None and derive is not None:
            derived = derive(db, row)
    if row is None:
        raise AuthenticationFailed("Invalid account token.", code=Code.TOKEN_INVALID)
    expires_at = row[2]
    if expires_at is not None and expires_at <= timezone.now():
        raise AuthenticationFailed("Invalid account token.", code=Code.TOKEN_INVALID)
    if not row[1][_active_index(columns)]:
        raise AuthenticationFailed("The app is disabled.", code=Code.CLIENT_INACTIVE)
    return db, row, derived


def account_from_token(token: str) -> Principal:
    db, row, _ = token_entry(token)
    return principal_from_row(db, row)


def app_from_basic(value: str) -> Principal:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("Malformed Basic credentials.") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id or not secret or len(client_id) > 64:
        raise AuthenticationFailed("Malformed Basic credentials.")
    return app_from_credentials(client_id, secret)


def app_from_credentials(client_id: str, secret: str) -> Principal:
    app = App.objects.filter(client_id=client_id).first()
    # Compare even when the app is unknown, so timing does not reveal which client ids exist.
    stored = app.client_secret_hash if app is not None else crypto.hash_token("")
    if not crypto.check_token(secret, stored) or app is None:
        raise AuthenticationFailed("Invalid client credentials.", code=Code.CLIENT_INVALID)
    if not app.active:
        raise AuthenticationFailed("The app is disabled.", code=Code.CLIENT_INACTIVE)
    return Principal(app=app, via="client")


def user_from_session(
    *,
    header: str | None,
    cookies: Mapping[str, str],
    origin: str | None,
    client_id: str | None = None,
) -> Principal | None:
    """The signed-in app user, from ``X-Aurinko-Session`` (``header``) or a session cookie.
    Returns None when the request carries neither; raises AuthenticationFailed (401) for a
    forged, expired, revoked or logged-out session.

    A browser sends the cookies of every app it signed in to, whichever page asks: a cookie
    only counts when the request's ``Origin`` (if any) is one of its app's origins, so one
    app's page can never read another app's user. ``client_id`` picks one app when a browser
    holds sessions of several."""
    if header is not None:
        header = header.strip()
        found = usersessions.find([header])
        if not found:
            raise AuthenticationFailed("Invalid session.", code=Code.SESSION_INVALID)
        return _valid_principal(found[0], from_cookie=False)
    by_app = usersessions.session_cookies(cookies)
    if not by_app:
        return None
    candidates = [
        s
        for s in usersessions.find(by_app.values())
        if by_app.get(s.user.app_id) and crypto.check_token(by_app[s.user.app_id], s.token_hash)
    ]
    if client_id:
        candidates = [s for s in candidates if s.user.app.client_id == client_id]
    if origin:
        allowed = [s for s in candidates if origins.is_allowed_for_app(origin, s.user.app)]
        if candidates and not allowed:
            raise CsrfFailed(
                "The session cookie belongs to an app that does not allow this origin.",
                code=Code.ORIGIN_NOT_ALLOWED,
            )
        candidates = allowed
    if not candidates:
        raise AuthenticationFailed("Invalid session.", code=Code.SESSION_INVALID)
    valid = [s for s in candidates if s.is_valid()]
    if not valid:
        raise AuthenticationFailed(
            "The session has ended; sign in again.", code=usersessions.failure_reason(candidates[0])
        )
    if len(valid) > 1:
        raise InvalidRequest(
            "This browser is signed in to several apps: pass clientId.", code=Code.SESSION_AMBIGUOUS
        )
    return _valid_principal(valid[0], from_cookie=True)


def _valid_principal(session: UserSession, *, from_cookie: bool) -> Principal:
    if not session.is_valid():
        raise AuthenticationFailed(
            "The session has ended; sign in again.", code=usersessions.failure_reason(session)
        )
    app = session.user.app
    if not app.active:
        raise AuthenticationFailed("The app is disabled.", code=Code.CLIENT_INACTIVE)
    usersessions.touch(session)
    return Principal(
        app=app, via="session", user=session.user, session=session, from_cookie=from_cookie
    )


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(
    principal: Principal, *, method: str, origin: str | None, requested_with: str | None
) -> None:
    """CSRF rule for cookie-authenticated requests that change state: the ``Origin`` must be
    one of the app's origins, or the request carries ``X-Requested-With`` (a header no page
    can send cross-site without passing a CORS preflight, which only allowed origins pass).
    Requests authenticated by a header token carry no ambient credential and need neither."""
    if not principal.from_cookie or method.upper() in SAFE_METHODS:
        return
    if origin and origins.normalize(origin):
        if origins.is_allowed_for_app(origin, principal.app):
            return
        raise CsrfFailed("The request's Origin is not one of the app's origins.")
    if requested_with:
        return
    raise CsrfFailed()
