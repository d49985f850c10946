"""aurinko_auth's data model.

App ─┬─ AppMembership ── auth user (app owners and team)
     ├─ ProviderConfig (one per service type: the owner's OAuth client at that provider)
     ├─ Account ── AccountToken (our opaque bearer tokens, stored hashed)
     ├─ AppUser (User flow) ─┬─ Account.user (one primary, any number of secondary)
     │                       └─ UserSession (cookie or X-Aurinko-Session, stored hashed)
     ├─ AuthState (a pending authorization: single use, expiring, bound to one browser)
     └─ AuthCode (one-time code a client app redeems for an account token)
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.fields import EncryptedJSONField, EncryptedTextField


def generate_client_id() -> str:
    return secrets.token_hex(16)


class App(models.Model):
    """A client application registered by an app owner."""

    name = models.CharField("name", max_length=200)
    client_id = models.CharField(
        "client id", max_length=64, unique=True, default=generate_client_id, editable=False
    )
    client_secret_hash = models.CharField(max_length=64, editable=False)
    client_secret_hint = models.CharField(
        "client secret", max_length=16, editable=False, help_text="Last characters only."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="AppMembership", related_name="aurinko_apps", blank=True
    )
    return_urls = models.JSONField(
        "authorized return URLs", default=list, blank=True,
        help_text="Exact URLs; https, or http on loopback hosts.",
    )
    allowed_scopes = models.JSONField("allowed scopes", default=list, blank=True)
    # Unified scopes the app needs now; an account that has not granted one of them lists it
    # in `missingScopes` (docs/scopes.md). Empty: what each account last requested.
    required_scopes = models.JSONField(
        "required scopes", default=list, blank=True,
        help_text='e.g. ["Mail.Read", "Calendar.Read"]; empty = what each account last requested.',
    )
    # The key that verifies `userSignature` (User flow), derived from the client secret when it
    # is set: the secret itself is never kept (see docs/user-flow.md).
    user_signing_key = EncryptedTextField(blank=True, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "app"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    def set_client_secret(self) -> str:
        """Generate a new client secret, store its hash and return the plaintext (shown once)."""
        secret = crypto.new_token(crypto.PREFIX_CLIENT_SECRET)
        self.client_secret_hash = crypto.hash_token(secret)
        self.client_secret_hint = "…" + secret[-4:]
        self.user_signing_key = crypto.user_signing_key(secret)
        return secret

    def check_client_secret(self, secret: str) -> bool:
        return bool(self.client_secret_hash) and crypto.check_token(secret, self.client_secret_hash)


class AppMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        VIEWER = "viewer", "Viewer"

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aurinko_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OWNER)

    class Meta:
        verbose_name = "team member"
        constraints = [
            models.UniqueConstraint(fields=["app", "user"], name="aurinko_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.app.name}"


class ProviderConfig(models.Model):
    """The app owner's credentials at one provider, plus endpoint overrides."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="provider_configs")
    service_type = models.CharField("service type", max_length=32)
    client_id = models.CharField("OAuth client id", max_length=255, blank=True)
    client_secret = EncryptedTextField("OAuth client secret", blank=True)
    tenant = models.CharField(max_length=255, blank=True)
    service_account_key = EncryptedTextField("service-account key", blank=True)
    endpoints = models.JSONField(
        "endpoint overrides", default=dict, blank=True,
        help_text='{"authorize": "https://...", "token": "https://..."}; may use {tenant}.',
    )
    # App-level refresh failure (invalid_client, expired secret): recorded once here instead of
    # on every account; refreshes for this configuration pause until it is changed.
    last_error = models.CharField(max_length=255, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "provider configuration"
        constraints = [
            models.UniqueConstraint(
                fields=["app", "service_type"], name="aurinko_providerconfig_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_type} for {self.app.name}"

    @property
    def refresh_blocked(self) -> bool:
        """An app-level failure was recorded and the configuration has not changed since."""
        return self.last_error_at is not None and self.updated_at <= self.last_error_at


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
    active = models.BooleanField(default=True)
    login_string = models.CharField(max_length=320, blank=True)
    email = models.CharField(max_length=320, blank=True)
    name = models.CharField(max_length=255, blank=True)
    server_url = models.CharField(max_length=2048, blank=True)
    auth_user_id = models.CharField("remote user id", max_length=255)
    auth_org_id = models.CharField("remote org id", max_length=255, blank=True)
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
                name="aurinko_account_identity_unique",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(account_type="primary"),
                name="aurinko_account_one_primary_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["app", "service_type", "active"], name="aurinko_acc_app_svc_idx"),
            models.Index(fields=["access_token_expires_at"], name="aurinko_acc_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service_type} {self.email or self.auth_user_id} (#{self.pk})"

    @property
    def public_token_status(self) -> str:
        return TokenStatus.public(self.token_status)


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
            code_hash=crypto.hash_token(code), app=app, account=account, payload=payload,
            expires_at=timezone.now() + timedelta(seconds=ttl),
        )
        return code


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
        return (self.revoked_at is None and self.expires_at > now
                and self.last_used_at + timedelta(seconds=self.idle_timeout) > now)


from aurinko_auth.webhook_models import OutboxEvent, WebhookDelivery, WebhookEndpoint  # noqa: E402,F401


class AuditEvent(models.Model):
    """One security event (sign-ins, secret rotation, linking, admin changes). Append-only;
    written through :func:`aurinko_auth.audit.record`, never with a secret in ``details``."""

    class Type(models.TextChoices):
        ADMIN_SIGN_IN = "admin.signin", "Admin sign-in"
        ADMIN_SIGN_IN_FAILED = "admin.signin_failed", "Admin sign-in failed"
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

    app = models.ForeignKey(
        App, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
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
        """The details as one line of text ("service_type: Google, fields: name tenant")."""
        def text(value: Any) -> str:
            return " ".join(map(str, value)) if isinstance(value, list) else str(value)

        return ", ".join(f"{k}: {text(v)}" for k, v in (self.details or {}).items())
