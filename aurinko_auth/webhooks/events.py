"""Lifecycle events: a Django signal per event type, and the transactional outbox that turns
them into signed webhooks (docs/webhooks.md).

``emit`` is the one call sites use, inside the transaction of the change it describes: the
outbox rows commit or roll back with that change, so no webhook is sent for a rolled-back
change and none is lost for a committed one.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from aurinko_auth.models import Account, App
from aurinko_auth.models.webhooks import OutboxEvent, WebhookEndpoint

EVENT_TYPES = (
    "account.created",
    "account.reauthorized",
    "account.refresh_failed",
    "account.needs_reauth",
    "account.recovered",
    "account.scopes_changed",
    "account.deleted",
    "user.created",
    "session.created",
    "session.revoked",
    "app.secret_rotated",
)

# One signal per event type; receivers get ``app``, ``event_type``, ``payload``, ``account``
# and ``event_id`` as keyword arguments, inside the caller's transaction.
signals: dict[str, Signal] = {name: Signal() for name in EVENT_TYPES}
account_created = signals["account.created"]
account_reauthorized = signals["account.reauthorized"]
account_refresh_failed = signals["account.refresh_failed"]
account_needs_reauth = signals["account.needs_reauth"]
account_recovered = signals["account.recovered"]
account_scopes_changed = signals["account.scopes_changed"]
account_deleted = signals["account.deleted"]
user_created = signals["user.created"]
session_created = signals["session.created"]
session_revoked = signals["session.revoked"]
app_secret_rotated = signals["app.secret_rotated"]


def account_payload(account: Account) -> dict[str, Any]:
    """Public fields of an account: ids, identity and status, never a credential."""
    return {
        "accountId": account.pk,
        "serviceType": account.service_type,
        "email": account.email,
        "loginString": account.login_string,
        "userId": str(account.user_id) if account.user_id else None,
        "authUserId": account.auth_user_id,
        "tokenStatus": account.public_token_status,
        "grantedScopes": list(account.scopes or []),
    }


def emit(
    app: App | int,
    event_type: str,
    payload: dict[str, Any],
    *,
    account: Account | int | None = None,
) -> uuid.UUID:
    """Send the signal for ``event_type`` and write one outbox row per subscribed endpoint,
    atomically with the caller's transaction. ``payload`` holds ids and public fields only.
    Returns the event id (the ``webhook-id`` header). The refresh code calls e.g.
    ``emit(account.app_id, "account.needs_reauth", account_payload(account), account=account)``.
    """
    if event_type not in signals:
        raise ValueError(f"Unknown event type: {event_type}")
    app_id = app if isinstance(app, int) else app.pk
    account_id = account if isinstance(account, int) or account is None else account.pk
    event_id = uuid.uuid4()
    now = timezone.now()
    body = {
        "type": event_type,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": {"appId": app_id, **payload},
    }
    with transaction.atomic():
        signals[event_type].send(
            sender=App,
            app=app,
            event_type=event_type,
            payload=body,
            account=account,
            event_id=event_id,
        )
        endpoints = [
            ep
            for ep in WebhookEndpoint.objects.filter(app_id=app_id, active=True)
            if ep.wants(event_type)
        ]
        OutboxEvent.objects.bulk_create(
            [
                OutboxEvent(
                    event_id=event_id,
                    app_id=app_id,
                    endpoint=ep,
                    event_type=event_type,
                    payload=body,
                    account_id=account_id,
                    created_at=now,
                    next_attempt_at=now,
                )
                for ep in endpoints
            ]
        )
    return event_id
