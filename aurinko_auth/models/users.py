"""App users of the User flow and their sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from aurinko_auth.models.apps import App


class AppUser(models.Model):
    """An app user created by the User flow: one primary account (its sign-in identity), any
    number of secondary accounts, and sessions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="users")
    email = models.CharField(max_length=320, blank=True)
    auth_org_id = models.CharField("remote org id", max_length=255, blank=True)
    # True when an OAuth provider asserted the primary identity (not a password form).
    trusted_identity = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "app user"
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.email or self.pk} in {self.app_id}"


class UserSession(models.Model):
    """A signed-in app user: the cookie or ``X-Aurinko-Session`` value, stored as SHA-256."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(AppUser, on_delete=models.CASCADE, related_name="sessions")
    created_at = models.DateTimeField(auto_now_add=True)
    # Written at most once a minute (SESSION_TOUCH_INTERVAL), so reads stay one query.
    last_used_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="Absolute end of the session.")
    idle_timeout = models.PositiveIntegerField(help_text="Seconds without use that end it.")
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "user session"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="aurinko_session_expiry_idx")]

    def __str__(self) -> str:
        return f"session #{self.pk} of {self.user_id}"

    def is_valid(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return (
            self.revoked_at is None
            and self.expires_at > now
            and self.last_used_at + timedelta(seconds=self.idle_timeout) > now
        )
