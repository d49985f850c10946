"""Webhooks: endpoints per app, the transactional outbox, and the delivery log.

Imported at the end of ``models.py`` so Django registers these models in ``aurinko_auth``.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import timedelta

from django.db import models
from django.utils import timezone

from aurinko_auth.fields import EncryptedTextField

SECRET_PREFIX = "whsec_"


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpoint(models.Model):
    """A receiver URL of one app. The signing secrets are *encrypted*, not hashed like our
    tokens: signing an event needs the secret itself (HMAC key), a hash could not sign."""

    app = models.ForeignKey(
        "aurinko_auth.App", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("URL", max_length=2048)
    event_types = models.JSONField(
        "event types",
        default=list,
        blank=True,
        help_text='e.g. ["account.created", "account.needs_reauth"]; empty = every event.',
    )
    active = models.BooleanField(default=True)
    secret = EncryptedTextField("signing secret", default=new_signing_secret, editable=False)
    previous_secret = EncryptedTextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook endpoint"
        ordering = ["id"]
        indexes = [models.Index(fields=["app", "active"], name="aurinko_whep_app_idx")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def signing_secrets(self) -> list[str]:
        """The current secret, plus the previous one while its overlap lasts."""
        keys = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and self.previous_secret_expires_at > timezone.now()
        ):
            keys.append(self.previous_secret)
        return keys

    def rotate_secret(self, overlap: timedelta = timedelta(hours=24)) -> str:
        """New current secret; the old one still signs (second signature) for ``overlap``."""
        self.previous_secret = self.secret
        self.previous_secret_expires_at = timezone.now() + overlap
        self.secret = new_signing_secret()
        self.save(
            update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
        )
        return self.secret


class OutboxEvent(models.Model):
    """One event for one endpoint, written in the transaction of the change it describes.
    ``event_id`` (the ``webhook-id``) is the same for every endpoint of one event."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead"

    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    app = models.ForeignKey(
        "aurinko_auth.App", on_delete=models.CASCADE, related_name="outbox_events"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="outbox_events"
    )
    event_type = models.CharField("type", max_length=64)
    payload = models.JSONField(default=dict)
    # Plain id, not a foreign key: the account.deleted event outlives its account.
    account_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When a worker may (re)try; a claim pushes it forward by the lease.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "outbox event"
        ordering = ["id"]
        indexes = [
            # The worker: due pending events, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="aurinko_outbox_due_idx"),
            # Per-account order: an earlier pending event of the same account and endpoint.
            models.Index(
                fields=["endpoint", "account_id", "status"], name="aurinko_outbox_order_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.endpoint_id} ({self.status})"


class WebhookDelivery(models.Model):
    """One attempt to deliver an outbox event."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_id} #{self.attempt}: {self.status_code or self.error}"
