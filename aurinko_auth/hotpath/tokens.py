"""The account-token lookup: ``Authorization: Bearer aat_...`` -> the account and its app in
one indexed query (token -> account -> app, compiled once by
:class:`~aurinko_auth.hotpath.rowquery.ChainQuery`), none when the token cache holds it.

Encrypted fields (the account's provider credentials, the app's user-signing key) are never
read (deferred): authentication never needs them, and decrypting them on every request would
cost time and keep secrets in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import router
from django.db.models import Field, Model
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AuthenticationFailed
from aurinko_auth.hotpath import cache as token_cache
from aurinko_auth.hotpath import channel
from aurinko_auth.hotpath.auth import Principal
from aurinko_auth.hotpath.rowquery import ChainQuery
from aurinko_auth.models import Account, AccountToken, App

# What the lookup returns and the cache keeps: the account's column values, the app's column
# values and the token's expiry, as plain Python values (cheap to pickle, no model state).
TokenRow = tuple[tuple[Any, ...], tuple[Any, ...], Any]

# Prepared statements of the token lookup are named aurinko_token_<hash of the SQL>.
STATEMENT = "aurinko_token"


@dataclass(frozen=True)
class Columns:
    """Which account and app fields a token lookup reads (names or attnames; None: every
    field but the encrypted ones). The others are deferred on the instances: they load on
    access."""

    name: str
    account: tuple[str, ...] | None = None
    app: tuple[str, ...] | None = None
    query: ChainQuery = field(init=False, compare=False, repr=False)
    active_index: int = field(init=False, compare=False, repr=False)  # App.active in app values
    account_pk: int = field(init=False, compare=False, repr=False)  # Account.pk in its values
    app_pk: int = field(init=False, compare=False, repr=False)  # App.pk in its values

    def __post_init__(self) -> None:
        chain = ChainQuery(
            [(AccountToken, ("expires_at",)), (Account, self.account), (App, self.app)],
            ["account", "app"],
            where="token_hash",
            statement=STATEMENT,
        )
        object.__setattr__(self, "query", chain)
        object.__setattr__(
            self, "active_index", chain.fields[2].index(App._meta.get_field("active"))
        )
        object.__setattr__(self, "account_pk", chain.fields[1].index(Account._meta.pk))
        object.__setattr__(self, "app_pk", chain.fields[2].index(App._meta.pk))

    def fields(self, model: type[Model]) -> tuple[Field, ...]:
        return self.query.fields[self.query.models.index(model)]


# What authentication returns and the cache keeps.
ALL_COLUMNS = Columns("all")


def lookup(token_hash: str, columns: Columns = ALL_COLUMNS) -> tuple[str, TokenRow | None]:
    """One indexed query: ``(database alias, row)``; the row is None for an unknown token."""
    db = router.db_for_read(AccountToken)
    found = columns.query.values(db, [token_hash])
    if not found:
        return db, None
    token, account, app = found[0]
    return db, (account, app, token[0])


def principal_from_row(db: str, row: TokenRow, columns: Columns = ALL_COLUMNS) -> Principal:
    """The principal of a (cached or fresh) :func:`token_entry` row read with ``columns``."""
    _, build_account, build_app = columns.query.builders  # the token itself is not needed
    account = build_account(db, row[0])
    account.app = build_app(db, row[1])
    return Principal(app=account.app, account=account, via="token")


def caching() -> bool:
    """Whether a token cache is on (shared ``AUTH_CACHE`` or local ``AUTH_LOCAL_CACHE``)."""
    return token_cache.auth_cache() is not None or bool(channel.local_cache())


def token_entry(
    token: str, derive: Callable[[str, TokenRow], Any] | None = None, columns: Columns = ALL_COLUMNS
) -> tuple[str, TokenRow, Any]:
    """``(database alias, row, derived)`` of a valid account token: at most one query, none
    when a cache holds it: first this process's (``AUTH_LOCAL_CACHE``), then the shared one
    (``AUTH_CACHE``). Raises AuthenticationFailed for an unknown, malformed or expired token,
    or when the app is disabled.

    ``derive(db, row)``, if given, computes something from the row alone (the lean
    GET /v1/account renders its JSON body): it is cached with the row when the row is read
    from the database, so it shares the row's invalidation; None when nothing derived it.
    Only rows of ``ALL_COLUMNS`` are cached; other ``columns`` always query (use them when
    there is no cache)."""
    if not token.startswith(crypto.PREFIX_ACCOUNT_TOKEN) or len(token) > 200:
        raise AuthenticationFailed("Invalid account token.", code=Code.TOKEN_INVALID)
    token_hash = crypto.hash_token(token)
    cached = columns is ALL_COLUMNS
    local = channel.local_cache() if cached else None
    key = "t:" + token_hash
    # Taken before reading: a put after an invalidation of what was read is refused.
    generation = local.begin() if local is not None else 0
    found = local.get(key) if local is not None else None
    missed = found is None
    if missed:
        found = _shared_entry(token_hash, derive, columns, cached)
    db, row, derived = found
    if row is None:
        raise AuthenticationFailed("Invalid account token.", code=Code.TOKEN_INVALID)
    if derived is None and derive is not None:
        derived, missed = derive(db, row), True
    if missed and local is not None:
        tags = (f"a:{row[0][columns.account_pk]}", f"p:{row[1][columns.app_pk]}")
        local.put(key, (db, row, derived), tags, generation)
    expires_at = row[2]
    if expires_at is not None and expires_at <= timezone.now():
        raise AuthenticationFailed("Invalid account token.", code=Code.TOKEN_INVALID)
    if not row[1][columns.active_index]:
        raise AuthenticationFailed("The app is disabled.", code=Code.CLIENT_INACTIVE)
    return db, row, derived


def _shared_entry(
    token_hash: str,
    derive: Callable[[str, TokenRow], Any] | None,
    columns: Columns,
    cached: bool,
) -> tuple[str, TokenRow | None, Any]:
    """The entry from the shared cache, or else from the database (then added to it)."""
    cache = token_cache.auth_cache() if cached else None
    found = token_cache.cached_entry(cache, token_hash) if cache is not None else None
    if found is not None:
        return found
    db, row = lookup(token_hash, columns)
    derived = derive(db, row) if derive is not None and row is not None else None
    if row is not None and cache is not None:
        token_cache.store_entry(cache, token_hash, (db, row, derived))
    return db, row, derived


def account_from_token(token: str) -> Principal:
    db, row, _ = token_entry(token)
    return principal_from_row(db, row)
