"""Which host identity tokens an app trusts (Outlook add-ins, Teams, Workspace add-ons,
extensions: docs/add-ins.md)."""

from __future__ import annotations

from django.db import models

from aurinko_auth.models.apps import App


class IdentityTokenType(models.TextChoices):
    """The ``X-Aurinko-AuthType`` values: who issued the token and how it is verified."""

    EXCHANGE = "exchangeIdToken", "Exchange identity token (legacy Outlook add-ins)"
    ENTRA = "entraIdToken", "Microsoft Entra ID token (NAA / Office SSO)"
    GOOGLE = "googleIdToken", "Google ID token (Workspace add-ons, Chrome extensions)"


class IdentityTrust(models.Model):
    """One token type an app accepts, and what the token must say to be accepted: its
    audience (the app's Entra or Google client id, or the add-in URL for Exchange tokens),
    optionally its tenant (Entra), and overrides of the issuer and key set for sovereign
    clouds and test issuers."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="identity_trusts")
    token_type = models.CharField("token type", max_length=32, choices=IdentityTokenType.choices)
    audiences = models.JSONField(
        "audiences",
        default=list,
        help_text="Entra: the add-in's client id or app id URI; Google: the OAuth client "
        "id(s); Exchange: the add-in URL(s).",
    )
    tenants = models.JSONField(
        "tenant allow-list",
        default=list,
        blank=True,
        help_text="Entra only: the tenant ids (tid) accepted; empty = any tenant.",
    )
    issuer = models.CharField(
        "issuer override",
        max_length=500,
        blank=True,
        help_text="Empty: the provider's (Entra: https://login.microsoftonline.com/{tid}/v2.0).",
    )
    jwks_url = models.CharField(
        "key set override",
        max_length=500,
        blank=True,
        help_text="Empty: the key set the issuer's OpenID metadata names.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "trusted identity token"
        constraints = [
            models.UniqueConstraint(fields=["app", "token_type"], name="aurinko_trust_unique")
        ]

    def __str__(self) -> str:
        return f"{self.token_type} for {self.app.name}"

    def as_dict(self) -> dict:
        return {
            "clientId": self.app.client_id,
            "type": self.token_type,
            "audiences": list(self.audiences),
            "tenants": list(self.tenants),
            "issuer": self.issuer or None,
            "jwks": self.jwks_url or None,
        }


class HostIdentity(models.Model):
    """An app user's identity at a host (the ``subject`` a verified identity token names:
    Entra ``tid:oid``, Google ``sub``, Exchange ``amurl|msexchuid``), recorded when a flow
    prepared with that token signs the user in. Identity-token requests find the user by
    it, in one indexed query."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("AppUser", on_delete=models.CASCADE, related_name="host_identities")
    token_type = models.CharField(max_length=32, choices=IdentityTokenType.choices)
    subject = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "host identity"
        constraints = [
            models.UniqueConstraint(
                fields=["app", "token_type", "subject"], name="aurinko_hostidentity_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.token_type} {self.subject} of {self.user_id}"


class PreparedAuth(models.Model):
    """``POST /v1/auth/prepare``'s token: single use, short-lived, binding the next
    authorize call to one app and one verified host identity, or to one signed-in user
    (stored as SHA-256 only)."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    # Prepared with a host identity token: its type and subject. Prepared by a signed-in
    # user's session instead (the iframe's partitioned cookie): ``user``, type and subject empty.
    token_type = models.CharField(max_length=32, choices=IdentityTokenType.choices, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    user = models.ForeignKey(
        "AppUser", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # What the verified token said besides the subject (tid, oid, sub, hd, email): no secret.
    claims = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "prepared sign-in"
        indexes = [models.Index(fields=["expires_at"], name="aurinko_prepared_expiry_idx")]

    def __str__(self) -> str:
        return f"prepared {self.token_type} sign-in (#{self.pk})"
