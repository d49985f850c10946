"""User sessions (User flow): minting, looking up, touching, revoking, and the cookie.

A session is an opaque ``aus_...`` token, stored as SHA-256 only. It is valid while it is not
revoked, before its absolute ``expires_at`` and within ``idle_timeout`` of its last use. Reading
one is a single indexed query (session -> user -> app); the last-use time is written at most
once per ``SESSION_TOUCH_INTERVAL`` so most reads write nothing.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from functools import lru_cache
from http.cookies import Morsel
from typing import Any

from django.db import router, transaction
from django.http import HttpResponse
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.hotpath import channel
from aurinko_auth.hotpath.rowquery import ChainQuery
from aurinko_auth.models import Account, App, AppUser, UserSession
from aurinko_auth.webhooks import events

MAX_USER_AGENT = 300


def start(user: AppUser, *, user_agent: str = "", ip: str | None = None) -> str:
    """Mint a new session for ``user`` and return its token (shown once, never stored)."""
    token = crypto.new_token(crypto.PREFIX_SESSION)
    now = timezone.now()
    lifetime, idle_timeout = user.app.session_lifetimes()
    with transaction.atomic():
        session = UserSession.objects.create(
            token_hash=crypto.hash_token(token),
            user=user,
            last_used_at=now,
            expires_at=now + timedelta(seconds=lifetime),
            idle_timeout=idle_timeout,
            user_agent=(user_agent or "")[:MAX_USER_AGENT],
            ip=clean_ip(ip),
        )
        events.emit(
            user.app_id, "session.created", {"sessionId": session.pk, "userId": str(user.pk)}
        )
    return token


def clean_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def looks_like_token(token: str | None) -> bool:
    return bool(token) and token.startswith(crypto.PREFIX_SESSION) and len(token) <= 200


def find(tokens: Iterable[str]) -> list[UserSession]:
    """The sessions named by ``tokens``, with their user and app: one indexed query, none for
    the sessions this process's cache holds (``AUTH_LOCAL_CACHE``). A cached session that
    looks ended but was not revoked is read again (another worker may have used it since)."""
    return [session for session, _ in find_with(tokens)]


def find_with(
    tokens: Iterable[str],
    query: ChainQuery | None = None,
    derive: Callable[[UserSession, list[Account]], Any] | None = None,
    prefix: str = "s:",
) -> list[tuple[UserSession, Any]]:
    """:func:`find`, each session with ``derive(session, accounts)``: ``query`` is the
    session -> user -> app chain of :func:`find` (its fields may differ), optionally with
    ``many`` accounts of the user (:class:`~aurinko_auth.hotpath.rowquery.ChainQuery`), read
    in the same query. This process's cache keeps the session's values with what was derived
    under ``prefix + token hash``, dropped when the session, its user, its app or one of the
    accounts changes, or an account is linked (``GET /v1/user`` keeps its rendered body so)."""
    query = query or _SESSIONS
    hashes = [crypto.hash_token(t) for t in tokens if looks_like_token(t)]
    if not hashes:
        return []
    db = router.db_for_read(UserSession)
    local = channel.local_cache()
    generation = local.begin() if local is not None else 0
    found, missing = [], []
    for token_hash in hashes:
        entry = local.get(prefix + token_hash) if local is not None else None
        session = query.build(db, entry[0])[0] if entry is not None else None
        if session is None or (session.revoked_at is None and not session.is_valid()):
            missing.append(token_hash)
        else:
            found.append((session, entry[1]))
    if not missing:
        return found
    # SQL compiled once (rowquery); the app's encrypted user-signing key is never read.
    fetched = query.values(db, missing)
    chains = query.grouped(fetched) if query.many else [(groups, []) for groups in fetched]
    for groups, many in chains:
        session, user, app = query.build(db, groups)
        accounts = [query.build_many(db, values) for values in many]
        derived = derive(session, accounts) if derive is not None else None
        if local is not None:
            tags = [f"i:{session.pk}", f"u:{user.pk}", f"p:{app.pk}"]
            tags += [f"a:{account.pk}" for account in accounts]
            if prefix != "s:":  # touch() drops every entry of the session by this tag
                tags.append("s:" + session.token_hash)
            local.put(prefix + session.token_hash, (groups, derived), tags, generation)
        found.append((session, derived))
    return found


_SESSIONS = ChainQuery(
    [(UserSession, None), (AppUser, None), (App, None)], ["user", "app"], where="token_hash"
)


def failure_reason(session: UserSession) -> Code:
    """Why a session is no longer valid: a machine code for the 401."""
    if session.revoked_at is not None:
        return Code.SESSION_REVOKED
    return Code.SESSION_EXPIRED


def touch(session: UserSession) -> None:
    """Record use, at most once per SESSION_TOUCH_INTERVAL (the only write on the read path)."""
    now = timezone.now()
    if now - session.last_used_at < timedelta(seconds=int(aurinko_settings.SESSION_TOUCH_INTERVAL)):
        return
    UserSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(last_used_at=now)
    session.last_used_at = now
    local = channel.local_cache()
    if local is not None:  # this process's entry holds the old time: read it again next
        local.invalidate(["s:" + session.token_hash])


def revoke(session: UserSession) -> None:
    with transaction.atomic():
        if UserSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        ):
            channel.announce([f"i:{session.pk}"])
            events.emit(
                session.user.app_id,
                "session.revoked",
                {"sessionId": session.pk, "userId": str(session.user_id)},
            )


def revoke_where(**lookup: object) -> int:
    """End the unrevoked sessions matching ``lookup`` (a bulk update: announced here, since
    it sends no signal); returns how many ended."""
    with transaction.atomic():
        ended = list(
            UserSession.objects.filter(revoked_at__isnull=True, **lookup).values_list(
                "pk", flat=True
            )
        )
        if ended:
            UserSession.objects.filter(pk__in=ended).update(revoked_at=timezone.now())
            channel.announce([f"i:{pk}" for pk in ended])
    return len(ended)


def is_active(session_id: int) -> bool:
    session = UserSession.objects.filter(pk=session_id).first()
    return session is not None and session.is_valid()


def purge_expired() -> int:
    """Delete sessions that ended (expired or revoked) more than a day ago."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _ = UserSession.objects.filter(expires_at__lt=cutoff).delete()
    revoked, _ = UserSession.objects.filter(revoked_at__lt=cutoff).delete()
    return deleted + revoked


# --- the cookie ------------------------------------------------------------------------------
#
# ``AUR{appId}`` by default (SESSION_COOKIE_NAME), scoped to the mount point. Per app
# (docs/add-ins.md): ``cookie_host_prefix`` names it ``__Host-AUR{appId}`` (then Path=/ and no
# Domain, as the prefix requires), ``cookie_partitioned`` adds ``Partitioned`` (CHIPS: Secure
# and SameSite=None too), for add-ins whose iframe sets the cookie in its own partition.
#
# ``mailboxInfo`` (Aurinko's multi-client setups: several mailboxes of one app signed in in one
# browser, e.g. an Outlook user's shared mailboxes) gives one cookie per mailbox:
# ``AUR{appId}_<16 hex of SHA-256 of the lowercased mailboxInfo>``, read when the request says
# which mailbox (``X-Aurinko-Mailbox-Info``); a request without it reads the plain name only.

HOST_PREFIX = "__Host-"


class PartitionedMorsel(Morsel):
    """A cookie Morsel that knows the ``Partitioned`` flag: Python's has it from 3.14 only, and
    Django's ``set_cookie`` has no argument for it (5.2 to 6.1)."""

    _reserved = {**Morsel._reserved, "partitioned": "Partitioned"}
    _flags = Morsel._flags | {"partitioned"}


MAILBOX_INFO_MAX = 320
MAILBOX_INFO_HEADER = "HTTP_X_AURINKO_MAILBOX_INFO"


def checked_mailbox_info(value: str | None) -> str:
    """A ``mailboxInfo`` (query) or ``X-Aurinko-Mailbox-Info`` (header) value, stripped;
    ``request.invalid`` when it is longer than an address can be or holds control characters."""
    info = (value or "").strip()
    if len(info) > MAILBOX_INFO_MAX or any(ord(c) < 32 or ord(c) == 127 for c in info):
        raise InvalidRequest(
            f"mailboxInfo (X-Aurinko-Mailbox-Info) must be at most {MAILBOX_INFO_MAX} "
            "printable characters (commonly the mailbox's address)."
        )
    return info


def mailbox_key(mailbox_info: str) -> str:
    """The cookie-name suffix of a ``mailboxInfo`` ("" for none): a digest, so that the name
    holds no address and only cookie-safe characters."""
    info = mailbox_info.strip().lower()
    return hashlib.sha256(info.encode()).hexdigest()[:16] if info else ""


def cookie_name(app: App | int, *, host_prefix: bool | None = None, mailbox_info: str = "") -> str:
    """The session cookie's name for ``app`` (an App, or an app id with the default naming
    unless ``host_prefix``), and for one mailbox of a multi-client setup (``mailboxInfo``)."""
    if host_prefix is None:
        host_prefix = isinstance(app, App) and app.cookie_host_prefix
    app_id = app.pk if isinstance(app, App) else app
    name = str(aurinko_settings.SESSION_COOKIE_NAME).format(app_id=app_id)
    key = mailbox_key(mailbox_info)
    name = f"{name}_{key}" if key else name
    return HOST_PREFIX + name if host_prefix else name


@lru_cache(maxsize=8)
def _name_pattern(template: str) -> re.Pattern[str]:
    before, _, after = template.partition("{app_id}")
    return re.compile(
        f"(?:{re.escape(HOST_PREFIX)})?"
        + re.escape(before)
        + r"([0-9]{1,18})"
        + re.escape(after)
        + "(?:_[0-9a-f]{16})?"
    )


def session_cookies(cookies: Mapping[str, str]) -> dict[str, int]:
    """``{token: app_id}`` for every session cookie the browser sent (at most a few), under
    either name: :func:`sent_by_name` tells whether a session came under its app's name."""
    pattern = _name_pattern(str(aurinko_settings.SESSION_COOKIE_NAME))
    found: dict[str, int] = {}
    for name, value in cookies.items():
        match = pattern.fullmatch(name)
        if match and looks_like_token(value):
            found[value] = int(match.group(1))
        if len(found) >= 10:
            break
    return found


def sent_by_name(session: UserSession, cookies: Mapping[str, str], mailbox_info: str = "") -> bool:
    """Whether ``cookies`` hold ``session``'s token under the name its app uses now (an app
    that names its cookie ``__Host-...`` accepts no other, which any host could have set), for
    the request's mailbox (``X-Aurinko-Mailbox-Info``; none: the plain name)."""
    sent = cookies.get(cookie_name(session.user.app, mailbox_info=mailbox_info))
    return bool(sent) and crypto.check_token(sent, session.token_hash)


def _attributes(app: App | int) -> dict[str, Any]:
    partitioned = isinstance(app, App) and app.cookie_partitioned
    host = isinstance(app, App) and app.cookie_host_prefix
    return {
        "path": "/" if host else aurinko_settings.mount_path,
        "domain": None if host else aurinko_settings.SESSION_COOKIE_DOMAIN,
        "secure": bool(aurinko_settings.SESSION_COOKIE_SECURE) or partitioned or host,
        "samesite": "None" if partitioned else aurinko_settings.SESSION_COOKIE_SAMESITE,
    }


def _partition(response: HttpResponse, name: str) -> None:
    morsel = response.cookies[name]
    if not morsel.isReservedKey("partitioned"):  # Python < 3.14
        upgraded = PartitionedMorsel()
        upgraded.update(dict(morsel))
        upgraded.set(morsel.key, morsel.value, morsel.coded_value)
        response.cookies[name] = upgraded
    response.cookies[name]["partitioned"] = True


def set_cookie(response: HttpResponse, app: App | int, token: str, mailbox_info: str = "") -> None:
    """Set ``app``'s session cookie (an app id: the default attributes), of one mailbox."""
    name = cookie_name(app, mailbox_info=mailbox_info)
    response.set_cookie(
        name,
        token,
        max_age=app.session_lifetimes()[0]
        if isinstance(app, App)
        else int(aurinko_settings.SESSION_LIFETIME),
        httponly=True,
        **_attributes(app),
    )
    if isinstance(app, App) and app.cookie_partitioned:
        _partition(response, name)


def clear_cookie(response: HttpResponse, app: App | int, mailbox_info: str = "") -> None:
    """Delete ``app``'s session cookie (of one mailbox): with the attributes it was set with (a
    partitioned cookie is only replaced by a partitioned one, in the same partition)."""
    name = cookie_name(app, mailbox_info=mailbox_info)
    attributes = _attributes(app)
    response.delete_cookie(
        name,
        path=attributes["path"],
        domain=attributes["domain"],
        samesite=attributes["samesite"],
    )
    # delete_cookie sets Secure only for __Secure-/__Host- names or SameSite=None; keep the
    # attributes of the cookie it replaces so browsers accept the deletion.
    if attributes["secure"]:
        response.cookies[name]["secure"] = True
    response.cookies[name]["httponly"] = True
    if isinstance(app, App) and app.cookie_partitioned:
        _partition(response, name)
