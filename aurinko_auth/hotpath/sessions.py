"""The session lookup: the signed-in app user of a request, from ``X-Aurinko-Session`` or the
``AUR{appId}`` cookie, in one indexed query (session -> user -> app,
:func:`aurinko_auth.usersessions.find`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import router

from aurinko_auth import usersessions
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AuthenticationFailed, CsrfFailed, InvalidRequest
from aurinko_auth.hotpath import channel
from aurinko_auth.hotpath.auth import Principal
from aurinko_auth.hotpath.rowquery import ChainQuery
from aurinko_auth.models import Account, AppUser, UserSession
from aurinko_auth.security import origins


def user_from_session(
    *,
    header: str | None,
    cookies: Mapping[str, str],
    origin: str | None,
    client_id: str | None = None,
    find: Callable[[Iterable[str]], list[UserSession]] = usersessions.find,
    mailbox_info: str = "",
) -> Principal | None:
    """The signed-in app user, from ``X-Aurinko-Session`` (``header``) or a session cookie.
    Returns None when the request carries neither; raises AuthenticationFailed (401) for a
    forged, expired, revoked or logged-out session.

    A browser sends the cookies of every app it signed in to, whichever page asks: a cookie
    only counts when the request's ``Origin`` (if any) is one of its app's origins, so one
    app's page can never read another app's user. ``client_id`` picks one app when a browser
    holds sessions of several. ``find`` looks the sessions up (the lean ``GET /v1/user``
    passes one that reads the user's accounts in the same query). ``mailbox_info`` (the
    request's ``X-Aurinko-Mailbox-Info``) picks that mailbox's cookie of a multi-client setup."""
    if header is not None:
        header = header.strip()
        found = find([header])
        if not found:
            raise AuthenticationFailed("Invalid session.", code=Code.SESSION_INVALID)
        return _valid_principal(found[0], from_cookie=False)
    sent = usersessions.session_cookies(cookies)
    if not sent:
        return None
    # Each session counts only under its own app's cookie name (never another app's).
    candidates = [s for s in find(sent) if usersessions.sent_by_name(s, cookies, mailbox_info)]
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


def user_accounts(
    user: AppUser,
    query: ChainQuery,
    derive: Callable[[AppUser, list[Account]], Any] | None = None,
) -> tuple[list[Account] | None, Any]:
    """The accounts of ``user`` read by ``query`` (a one-model ChainQuery of Account where
    ``user``, reading the ``id`` field: what the caller renders), and ``derive(user, accounts)`` if
    given (the caller's rendering): one indexed query, none when this process's cache
    (``AUTH_LOCAL_CACHE``) holds them, with what was derived (then the accounts are None:
    the derived value is all the caller needs). The entry is dropped when the
    user, its app or one of the accounts changes, or an account is linked or deleted."""
    db = router.db_for_read(Account)
    local = channel.local_cache()
    if local is None:
        found = [account for (account,) in query.rows(db, [user.pk])]
        return found, derive(user, found) if derive is not None else None
    key = f"U:{id(query)}:{id(derive)}:{user.pk}"
    generation = local.begin()
    entry = local.get(key)
    if entry is not None:
        values, derived = entry
        if derive is not None:  # what the caller needs is there: no instances to build
            return None, derived
        return [query.build(db, groups)[0] for groups in values], derived
    values = query.values(db, [user.pk])
    found = [query.build(db, groups)[0] for groups in values]
    derived = derive(user, found) if derive is not None else None
    pk = query.fields[0].index(Account._meta.pk)
    tags = [f"u:{user.pk}", f"p:{user.app_id}", *(f"a:{groups[0][pk]}" for groups in values)]
    local.put(key, (values, derived), tags, generation)
    return found, derived
