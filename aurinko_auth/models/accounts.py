"""Linked accounts and our opaque account tokens."""

from __future__ import annotations

from django.db import models

from aurinko_auth import crypto
from aurinko_auth.fields import EncryptedJSONField
from aurinko_auth.models.apps import App


class TokenStatus(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    RETRYING = "retrying", "Retrying"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorization"
    APP_MISCONFIGURED = "app_misconfigured", "App misconfigured"
    REVOKED = "revoked", "Revoked"

    @classmethod
    def public(cls, value: str) -> str:
        """Aurinko's three public states: active, invalid, dead."""
        if value == cls.HEALTHY:
            return "active"
        if value in (cls.RETRYING, cls.APP_MISCONFIGURED):
            return "invalid"
        return "dead"


class Account(models.Model):
    """One linked remote identity at one provider for one app."""

    class Type(models.TextChoices):
        NONE = "", "None"
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="accounts")
    # The app user this account is linked to (User flow); its role is `account_type`.
    user = models.ForeignKey(
        "AppUser", on_delete=models.CASCADE, related_name="accounts", null=True, blank=True
    )
    service_type = models.CharField("service type", max_length=32)
    account_type = models.CharField(
        "type", max_length=16, choices=Type.choices, blank=True, default=Type.NONE
    )
    daemon = models.BooleanField(default=False)
    # A managed mailbox account (Aurinko's ``type: managed``): one mailbox of this service
    # (daemon) account, whose provider tokens are the parent's app-only grant.
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        related_name="managed_accounts",
        null=True,
        blank=True,
        verbose_name="service account",
    )
    active = models.BooleanField(default=True)
    login_string = models.CharField(max_length=320, blank=True)
    email = models.CharField(max_length=320, blank=True)
    name = models.CharField(max_length=255, blank=True)
    server_url = models.CharField(max_length=2048, blank=True)
    auth_user_id = models.CharField("remote user id", max_length=255)
    auth_org_id = models.CharField("remote org id", max_length=255, blank=True)
    # The app's own grouping of accounts (Aurinko's ``clientOrgId``: a tenant of the app),
    # given on the authorize request or the import; filterable on ``/v1/am/accounts``.
    client_org_id = models.CharField("client org id", max_length=255, blank=True)
    auth_obtained_at = models.DateTimeField(null=True, blank=True)
    # Unified scope names: what the app asked for and what the provider granted.
    requested_scopes = models.JSONField(default=list, blank=True)
    scopes = models.JSONField("granted scopes", default=list, blank=True)
    native_scopes = models.JSONField("granted native scopes", default=list, blank=True)
    token_status = models.CharField(
        max_length=24, choices=TokenStatus.choices, default=TokenStatus.HEALTHY
    )
    # The provider's tokens (or password credentials), encrypted at rest.
    credentials = EncryptedJSONField()
    # Incremented on every credential write; guards concurrent refreshes.
    credential_version = models.PositiveIntegerField(default=0)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    # When the provider issued the access token held now (Aurinko's ``tokenIssuedAt``): set by
    # every sign-in and refresh; empty for password accounts and for an imported token until
    # its first refresh (when it was issued is not known).
    access_token_issued_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    # Transient refresh failures in a row, and when the next refresh may be tried (backoff,
    # or the provider's Retry-After).
    refresh_failures = models.PositiveIntegerField(default=0)
    refresh_retry_at = models.DateTimeField(null=True, blank=True)
    extra_data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "account"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["app", "service_type", "auth_user_id", "daemon"],
                condition=models.Q(parent__isnull=True),
                name="aurinko_account_identity_unique",
            ),
            # A managed account's identity is its mailbox, within its service account.
            models.UniqueConstraint(
                fields=["parent", "auth_user_id"],
                condition=models.Q(parent__isnull=False),
                name="aurinko_account_managed_unique",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(account_type="primary"),
                name="aurinko_account_one_primary_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["app", "service_type", "active"], name="aurinko_acc_app_svc_idx"),
            models.Index(fields=["access_token_expires_at"], name="aurinko_acc_expiry_idx"),
            models.Index(fields=["app", "client_org_id"], name="aurinko_acc_app_clientorg_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service_type} {self.email or self.auth_user_id} (#{self.pk})"

    @property
    def public_token_status(self) -> str:
        return TokenStatus.public(self.token_status)

    @property
    def kind(self) -> str:
        """Aurinko's ``AccountType``: ``daemon`` (a service account), ``managed`` (a mailbox of
        one) or ``personal``."""
        if self.daemon:
            return "daemon"
        return "managed" if self.parent_id is not None else "personal"

    @property
    def mailbox_address(self) -> str:
        """The mailbox a managed account acts for (empty for the others)."""
        return self.email if self.parent_id is not None else ""


class AccountToken(models.Model):
    """An opaque bearer token for one account, stored as its SHA-256 only."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "account access token"

    def __str__(self) -> str:
        return f"token for account #{self.account_id}"

    @classmethod
    def issue(cls, account: Account) -> str:
        token = crypto.new_token(crypto.PREFIX_ACCOUNT_TOKEN)
        cls.objects.create(account=account, token_hash=crypto.hash_token(token))
        return token
