"""The audit log of security events, per app.

Record an event from anywhere (flows, views, the admin, commands)::

    from aurinko_auth import audit

    audit.record(audit.Event.ACCOUNT_LINKED, app=app, request=request,
                 accountId=account.pk, serviceType="Google")
    audit.record(audit.Event.USER_SIGN_IN_FAILED, app=app, request=request,
                 reason="returnurl.invalid")

``details`` are plain JSON values describing *what* happened (ids, service types, changed
field names, error codes). Their keys are camelCase, the JSON API's style (``accountId``,
``serviceType``, ``secretChanged``). Never pass a secret: keys that name one (``password``,
``token``, ``clientSecret``, ...) are replaced by ``"[redacted]"`` as a last line of defence.

Sign-ins to the Django admin (and their failures) are recorded from django.contrib.auth's
``user_logged_in`` / ``user_login_failed`` signals, connected in ``AppConfig.ready``.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest

from aurinko_auth.models import App, AuditEvent

Event = AuditEvent.Type

# Events shown as "recent failures" on an app's dashboard.
FAILURE_EVENTS: frozenset[str] = frozenset(
    {
        Event.ADMIN_SIGN_IN_FAILED,
        Event.USER_SIGN_IN_FAILED,
        Event.AUTH_FAILED,
    }
)

# Detail keys that would hold a secret. Matched on the whole key, ignoring case and ``_``/``-``
# (``clientSecret``, ``client_secret`` and ``CLIENT-SECRET`` are one key).
SECRET_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "secret",
        "clientSecret",
        "token",
        "accessToken",
        "refreshToken",
        "idToken",
        "code",
        "credentials",
        "serviceAccountKey",
        "privateKey",
        "state",
        "codeVerifier",
        "session",
        "cookie",
        "authorization",
    }
)


def _normal_key(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


_SECRET_NORMAL_KEYS = frozenset(map(_normal_key, SECRET_KEYS))
REDACTED = "[redacted]"

logger = logging.getLogger("aurinko_auth.audit")


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address Django sees (``REMOTE_ADDR``). Behind a proxy, have the proxy or a
    middleware set it; forwarded headers are not trusted here."""
    if request is None:
        return None
    value = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _clean(details: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in details.items():
        if _normal_key(key) in _SECRET_NORMAL_KEYS:
            logger.warning("audit detail %r looks secret and was redacted", key)
            value = REDACTED
        elif isinstance(value, dict):
            value = _clean(value)
        cleaned[key] = value
    return cleaned


def record(
    event: str,
    *,
    app: App | int | None = None,
    actor: Any = None,
    request: HttpRequest | None = None,
    actor_name: str = "",
    **details: Any,
) -> AuditEvent:
    """Append one event to the audit log and return it.

    ``app`` is the app it concerns (an App or its id), ``actor`` the Django user who acted
    (defaults to ``request.user`` when signed in), ``request`` gives the IP address. The
    remaining keyword arguments are stored as ``details`` (JSON, no secrets). ``actor_name``
    names the actor when there is no user object (a failed sign-in's username)."""
    if event not in Event.values:
        raise ValueError(f"Unknown audit event {event!r}.")
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    app_id = app.pk if isinstance(app, App) else app
    return AuditEvent.objects.create(
        event=event,
        app_id=app_id,
        actor=actor,
        actor_name=(actor.get_username() if actor is not None else actor_name)[:150],
        ip=client_ip(request),
        details=_clean(details),
    )


def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(Event.ADMIN_SIGN_IN, actor=user, request=request)


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The username is kept (it names who was targeted); the password never reaches us.
    username = str(credentials.get("username") or "")
    record(Event.ADMIN_SIGN_IN_FAILED, request=request, actor_name=username)


def connect_signals() -> None:
    """Called from ``AppConfig.ready``; idempotent (dispatch uids)."""
    user_logged_in.connect(_on_login, dispatch_uid="aurinko_auth.audit.login")
    user_login_failed.connect(_on_login_failed, dispatch_uid="aurinko_auth.audit.login_failed")
