"""Pending authorizations and one-time codes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.fields import EncryptedJSONField
from aurinko_auth.models.accounts import Account
from aurinko_auth.models.apps import App


class FlowKind(models.TextChoices):
    ACCOUNT = "account", "Account"
    USER = "user", "User"
    DAEMON = "daemon", "Service account"


class AuthState(models.Model):
    """A pending authorization between our redirect to the provider and its callback."""

    state_hash = models.CharField(max_length=64, unique=True, editable=False)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=FlowKind.choices)
    service_type = models.CharField(max_length=32)
    # The caller's request (returnUrl, state, responseType, scopes, ...): nothing secret.
    params = models.JSONField(default=dict)
    # PKCE verifier, nonce and the like.
    secrets = EncryptedJSONField()
    browser_hash = models.CharField(max_length=64, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "pending authorization"
        indexes = [models.Index(fields=["expires_at"], name="aurinko_state_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.kind} flow for {self.service_type} (#{self.pk})"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class AuthCode(models.Model):
    """A one-time code handed to the returnUrl, redeemed with the app's client credentials."""

    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "authorization code"
        indexes = [models.Index(fields=["expires_at"], name="aurinko_code_expiry_idx")]

    def __str__(self) -> str:
        return f"code for account #{self.account_id}"

    @classmethod
    def issue(cls, app: App, account: Account, ttl: int, **payload: Any) -> str:
        code = crypto.new_token(crypto.PREFIX_CODE)
        cls.objects.create(
            code_hash=crypto.hash_token(code),
            app=app,
            account=account,
            payload=payload,
            expires_at=timezone.now() + timedelta(seconds=ttl),
        )
        return code
