"""The security audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from aurinko_auth.models.apps import App


class AuditEvent(models.Model):
    """One security event (sign-ins, secret rotation, linking, admin changes). Append-only;
    written through :func:`aurinko_auth.audit.record`, never with a secret in ``details``
    (a JSON object with camelCase keys)."""

    class Type(models.TextChoices):
        ADMIN_SIGN_IN = "admin.signin", "Admin sign-in"
        ADMIN_SIGN_IN_FAILED = "admin.signin_failed", "Admin sign-in failed"
        ADMIN_PASSKEY_ADDED = "admin.passkey_added", "Admin passkey registered"
        ADMIN_PASSKEY_REMOVED = "admin.passkey_removed", "Admin passkey removed"
        USER_SIGN_IN = "user.signin", "User sign-in"
        USER_SIGN_IN_FAILED = "user.signin_failed", "User sign-in failed"
        SESSION_REVOKED = "user.session_revoked", "User session revoked"
        AUTH_FAILED = "auth.failed", "Authorization failed"
        ACCOUNT_LINKED = "account.linked", "Account linked"
        ACCOUNT_UNLINKED = "account.unlinked", "Account unlinked"
        ACCOUNT_DEACTIVATED = "account.deactivated", "Account deactivated"
        ACCOUNT_DELETED = "account.deleted", "Account deleted"
        ACCOUNT_TOKENS_REVOKED = "account.tokens_revoked", "Account access tokens revoked"
        APP_CREATED = "app.created", "App created"
        APP_CHANGED = "app.changed", "App changed"
        APP_ENABLED = "app.enabled", "App enabled"
        APP_DISABLED = "app.disabled", "App disabled"
        APP_DELETED = "app.deleted", "App deleted"
        SECRET_ROTATED = "app.secret_rotated", "Client secret rotated"
        MEMBER_ADDED = "member.added", "Team member added"
        MEMBER_CHANGED = "member.changed", "Team member role changed"
        MEMBER_REMOVED = "member.removed", "Team member removed"
        PROVIDER_ADDED = "provider.added", "Provider configuration added"
        PROVIDER_CHANGED = "provider.changed", "Provider configuration changed"
        PROVIDER_DELETED = "provider.deleted", "Provider configuration deleted"
        TRUST_CHANGED = "trust.changed", "Identity-token trust set"
        TRUST_REMOVED = "trust.removed", "Identity-token trust removed"

    app = models.ForeignKey(
        App, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aurinko_audit_events",
    )
    # Who, as text: kept when the user is deleted, and for failed sign-ins (no user).
    actor_name = models.CharField("actor", max_length=150, blank=True)
    event = models.CharField(max_length=32, choices=Type.choices)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "audit event"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["app", "-created_at"], name="aurinko_audit_app_time_idx"),
            models.Index(fields=["-created_at"], name="aurinko_audit_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def summary(self) -> str:
        """The details as one line of text ("serviceType: Google, fields: name tenant")."""

        def text(value: Any) -> str:
            return " ".join(map(str, value)) if isinstance(value, list) else str(value)

        return ", ".join(f"{k}: {text(v)}" for k, v in (self.details or {}).items())
