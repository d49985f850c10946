"""Apps, their owners and their provider configurations."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from aurinko_auth import crypto
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.fields import EncryptedTextField

# The longest session lifetime an app may set: ten years ("until the user logs out").
SESSION_MAX_SECONDS = 10 * 365 * 24 * 3600


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
        "authorized return URLs",
        default=list,
        blank=True,
        help_text="Exact URLs; https, or http on loopback hosts.",
    )
    # Aurinko's "trusted domains": origins beyond the return URLs' that may use the session
    # API (CORS with credentials, the cookie) and whose return URLs receive responseType=token
    # (docs/user-flow.md "Trusted domains"). Stored as browsers send Origin
    # (security/origins.validate_trusted); they are not return URLs.
    trusted_domains = models.JSONField(
        "trusted domains",
        default=list,
        blank=True,
        help_text="Origins (scheme://host[:port]), matched exactly.",
    )
    allowed_scopes = models.JSONField("allowed scopes", default=list, blank=True)
    # Unified scopes the app needs now; an account that has not granted one of them lists it
    # in `missingScopes` (docs/scopes.md). Empty: what each account last requested.
    required_scopes = models.JSONField(
        "required scopes",
        default=list,
        blank=True,
        help_text='e.g. ["Mail.Read", "Calendar.Read"]; empty = what each account last requested.',
    )
    # The key that verifies `userSignature` (User flow), derived from the client secret when it
    # is set: the secret itself is never kept (see docs/user-flow.md) unless the app opts in to
    # Aurinko-compatible signatures, keyed with the client secret itself: then this field holds
    # the secret, encrypted, for that one purpose.
    user_signing_key = EncryptedTextField(blank=True, editable=False)
    aurinko_signatures = models.BooleanField(
        "Aurinko-compatible userSignature",
        default=False,
        help_text="userSignature is HMAC-SHA256 keyed with the client secret itself, as at "
        "Aurinko: the secret is then also kept encrypted, solely to verify signatures.",
    )
    # Public clients (docs/add-ins.md "Public clients (PKCE)"): a page or extension that can
    # keep no secret starts every flow with a PKCE challenge (S256) and redeems its code with
    # the verifier, without the client secret.
    public_client = models.BooleanField(
        "public client (PKCE)",
        default=False,
        help_text="Pages and extensions without a backend: every flow needs code_challenge "
        "(S256), the code is redeemed with code_verifier and no client secret.",
    )
    # Return URLs declared public on a confidential app (docs/add-ins.md "Public return
    # URLs"): a flow returning to one needs PKCE, and only its codes are redeemed without the
    # secret (the app's server keeps redeeming the others with it). Each is one of
    # ``return_urls``.
    public_return_urls = models.JSONField(
        "public return URLs",
        default=list,
        blank=True,
        help_text="Return URLs of pages or extensions without a backend (PKCE, no secret); "
        "each must also be an authorized return URL.",
    )
    # responseType=token puts an account token in a URL (RFC 9700 says not to): opt-in, off
    # for new apps; apps created before it existed keep it (migration 0010).
    token_response = models.BooleanField(
        "allow responseType=token",
        default=False,
        help_text="Discouraged: the account token travels in the return URL. Prefer a code "
        "(with PKCE for public clients).",
    )
    # The User flow's session cookie (docs/add-ins.md, "Partitioned cookies (CHIPS)").
    cookie_partitioned = models.BooleanField(
        "partitioned session cookie (CHIPS)",
        default=False,
        help_text="For add-ins in iframes on other sites: the session cookie is Partitioned "
        "(Secure, SameSite=None), set by the iframe itself from a one-time sessionCode.",
    )
    cookie_host_prefix = models.BooleanField(
        "__Host- cookie name",
        default=False,
        help_text="Prefix the session cookie's name with __Host- (__Host-AUR{appId}): "
        "Secure, Path=/ and no Domain, so no other host can set or shadow it.",
    )
    # Session policy (seed 004: "until the user logs out"): the app's own lifetimes of User
    # flow sessions, else AURINKO_AUTH's SESSION_LIFETIME / SESSION_IDLE_TIMEOUT.
    session_lifetime = models.PositiveIntegerField(
        "session lifetime (seconds)",
        null=True,
        blank=True,
        validators=[MinValueValidator(60), MaxValueValidator(SESSION_MAX_SECONDS)],
        help_text="How long a sign-in lasts at most. Empty: the deployment's SESSION_LIFETIME.",
    )
    session_idle_timeout = models.PositiveIntegerField(
        "session idle timeout (seconds)",
        null=True,
        blank=True,
        validators=[MinValueValidator(60), MaxValueValidator(SESSION_MAX_SECONDS)],
        help_text="A session unused this long ends. Empty: the deployment's SESSION_IDLE_TIMEOUT.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "app"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    def session_lifetimes(self) -> tuple[int, int]:
        """``(lifetime, idle timeout)`` of this app's sessions, in seconds."""
        return (
            self.session_lifetime or int(aurinko_settings.SESSION_LIFETIME),
            self.session_idle_timeout or int(aurinko_settings.SESSION_IDLE_TIMEOUT),
        )

    def set_client_secret(self, secret: str | None = None) -> str:
        """Store a client secret's hash (a new random one, or ``secret``: an app imported with
        the secret it had at Aurinko) and return the plaintext (shown once)."""
        secret = secret or crypto.new_token(crypto.PREFIX_CLIENT_SECRET)
        self.client_secret_hash = crypto.hash_token(secret)
        self.client_secret_hint = "…" + secret[-4:]
        self.set_signing_key(secret)
        return secret

    def set_signing_key(self, secret: str) -> None:
        """The ``userSignature`` key for client secret ``secret``: the secret itself for
        Aurinko-compatible signatures, else a key derived from it (the secret is not kept)."""
        self.user_signing_key = (
            secret if self.aurinko_signatures else crypto.user_signing_key(secret)
        )

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
    tenant = models.CharField(
        max_length=255,
        blank=True,
        help_text="The directory tenant where the provider has one (Office 365); else empty.",
    )
    # Provider-specific settings that are not a tenant (SugarCRM's API platform): the
    # provider declares the names it reads (``Provider.option_names``).
    options = models.JSONField(
        "provider options",
        default=dict,
        blank=True,
        help_text='Settings of this provider, e.g. SugarCRM: {"platform": "acme_sync"}.',
    )
    service_account_key = EncryptedTextField("service-account key", blank=True)
    # The app's own redirect page (issue 16 item 5, docs/providers.md "Your own redirect
    # page"): registered at the provider and sent as redirect_uri instead of our callback; it
    # forwards the provider's query to /v1/auth/callback unchanged.
    redirect_page = models.CharField(
        "redirect page",
        max_length=500,
        blank=True,
        help_text="Your page registered at the provider as its redirect URI, forwarding the "
        "query to this broker's /v1/auth/callback. https (http only on loopback). Empty: the "
        "broker's callback is the redirect URI.",
    )
    endpoints = models.JSONField(
        "endpoint overrides",
        default=dict,
        blank=True,
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
    def redirect_uri(self) -> str:
        """What the provider is sent as ``redirect_uri`` (authorization, admin consent and
        token requests alike): the app's redirect page, else the broker's callback."""
        return self.redirect_page or aurinko_settings.callback_url

    @property
    def refresh_blocked(self) -> bool:
        """An app-level failure was recorded and the configuration has not changed since."""
        return self.last_error_at is not None and self.updated_at <= self.last_error_at
