"""Delivering the outbox: Standard Webhooks signing, the private-address guard, and the worker
steps (claim in a short transaction, send outside any transaction, record in another)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.models.webhooks import SECRET_PREFIX, OutboxEvent, WebhookDelivery
from aurinko_auth.security import netguard

logger = logging.getLogger("aurinko_auth.webhooks.delivery")
Status = OutboxEvent.Status


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>`` per secret, space-separated."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )


def signed_headers(
    secrets: list[str], msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
    }


class BlockedAddress(Exception):
    pass


def check_webhook_host(url: str) -> None:
    """Refuse a receiver whose host resolves to a non-public address, unless it is inside
    ``ALLOWED_PRIVATE_NETWORKS`` (SSRF guard, :mod:`aurinko_auth.security.netguard`)."""
    webhook_session(url).close()


def webhook_session(url: str) -> requests.Session:
    """A session pinned to the receiver's checked address (no DNS rebinding)."""
    try:
        return netguard.pinned_session(url)
    except netguard.BlockedHost as exc:
        raise BlockedAddress(exc.code.split(".", 1)[-1]) from None


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter between half and all of the step."""
    step = min(
        float(aurinko_settings.WEBHOOK_BACKOFF_MAX),
        float(aurinko_settings.WEBHOOK_BACKOFF_BASE) * (2 ** max(attempts - 1, 0)),
    )
    return random.uniform(step / 2, step)


def claim(batch_size: int = 50) -> list[OutboxEvent]:
    """Lease due events, oldest first, skipping rows other workers hold and any event whose
    account has an earlier pending event for the same endpoint (in order per account)."""
    now = timezone.now()
    earlier = OutboxEvent.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        account_id=OuterRef("account_id"),
        status=Status.PENDING,
        id__lt=OuterRef("id"),
    )
    with transaction.atomic():
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.PENDING, next_attempt_at__lte=now)
            .exclude(Exists(earlier))
            .order_by("id")[:batch_size]
        )
        if rows:
            OutboxEvent.objects.filter(pk__in=[r.pk for r in rows]).update(
                next_attempt_at=now + timedelta(seconds=int(aurinko_settings.WEBHOOK_LEASE))
            )
    return rows


@dataclass
class Result:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(event: OutboxEvent) -> Result:
    """POST one event, outside any database transaction. Redirects are not followed."""
    endpoint = event.endpoint
    body = json.dumps(event.payload, separators=(",", ":")).encode()
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    try:
        session = webhook_session(endpoint.url)
        headers = signed_headers(endpoint.signing_secrets(), f"msg_{event.event_id.hex}", body)
        headers["user-agent"] = "aurinko-auth-webhooks"
        with session:
            response = session.post(
                endpoint.url,
                data=body,
                headers=headers,
                timeout=aurinko_settings.timeout("WEBHOOK_TIMEOUT"),
                allow_redirects=False,
            )
        status_code = response.status_code
        response.close()
        if 300 <= status_code < 400:
            error = "redirect_not_followed"
        elif not 200 <= status_code < 300:
            error = f"http_{status_code}"
    except BlockedAddress as exc:
        error = str(exc)
    except requests.Timeout:
        error = "timeout"
    except requests.RequestException as exc:
        error = type(exc).__name__
    return Result(status_code, error, int((time.monotonic() - started) * 1000))


def record(event: OutboxEvent, result: Result) -> None:
    """Log the attempt and move the event on: delivered, retried later, or dead."""
    attempts = event.attempts + 1
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.create(
            event=event,
            endpoint_id=event.endpoint_id,
            attempt=attempts,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error[:255],
        )
        update: dict[str, Any] = {"attempts": attempts, "last_error": result.error[:255]}
        if result.ok:
            update.update(status=Status.DELIVERED, delivered_at=now)
        elif attempts >= int(aurinko_settings.WEBHOOK_MAX_ATTEMPTS):
            update.update(status=Status.DEAD)
        else:
            update.update(next_attempt_at=now + timedelta(seconds=backoff(attempts)))
        OutboxEvent.objects.filter(pk=event.pk, status=Status.PENDING).update(**update)
    if not result.ok:
        logger.warning(
            "Webhook %s to endpoint %s failed (attempt %s): %s",
            event.event_id,
            event.endpoint_id,
            attempts,
            result.error,
        )


def deliver_batch(batch_size: int = 50) -> int:
    """One worker pass; returns how many events were attempted."""
    events = claim(batch_size)
    # Endpoint rows for signing, read once, outside the claim transaction.
    by_id = {
        e.pk: e
        for e in OutboxEvent.objects.select_related("endpoint").filter(
            pk__in=[e.pk for e in events]
        )
    }
    for event in events:
        full = by_id[event.pk]
        record(full, send(full))
    return len(events)


def replay(events: Any) -> int:
    """Put events (dead or delivered) back in the queue, as new: the admin's replay."""
    return OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        last_error="",
        delivered_at=None,
    )
