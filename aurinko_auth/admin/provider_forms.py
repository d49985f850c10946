"""The provider-configuration form of the app page. The OAuth client secret and the
service-account key are write-only: never rendered, an empty field keeps the stored value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from aurinko_auth import services
from aurinko_auth.exceptions import AurinkoError, InvalidRequest
from aurinko_auth.models import IdentityTrust, ProviderConfig
from aurinko_auth.providers.base import Provider
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import all_providers, get_provider
from aurinko_auth.providers.service_accounts import ServiceAccountProvider


def lines_widget(rows: int = 2, placeholder: str = "") -> forms.Textarea:
    """The admin's textarea of one value per line (URLs, origins, ``name = URL``)."""
    attrs: dict[str, Any] = {"rows": rows, "cols": 80, "spellcheck": "false"}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


MAX_KEY_FILE_BYTES = 64 * 1024


def split_lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _key_provider(service_type: str) -> Provider | None:
    """The provider that checks an uploaded service-account key: the configuration's own when
    it takes keys, else the first registered provider that does (an uploaded key is checked
    whatever the configuration's provider)."""
    takers = [
        p
        for p in all_providers()
        if isinstance(p, ServiceAccountProvider) and p.takes_service_account_key
    ]
    own = [p for p in takers if p.id.lower() == (service_type or "").lower()]
    return (own or takers or [None])[0]


def validate_service_account_key(raw: bytes, service_type: str = "") -> str:
    """The uploaded service-account key as text, checked like every stored key
    (:func:`aurinko_auth.services.validate_service_account_key`, by the provider's own
    rules: a key file that parses, names its account and holds a private key that loads)."""
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise ValidationError("The key file is too large.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("The key file is not text (a JSON key or a PEM file).") from None
    provider = _key_provider(service_type)
    if provider is None:
        raise ValidationError("No registered provider takes a service-account key.")
    try:
        return services.validate_service_account_key(provider, text)
    except AurinkoError as exc:
        raise ValidationError(exc.message) from None


def stored_key_label(config: ProviderConfig) -> str:
    """What the stored key is, in words that are not secret (Google: its service account;
    Office 365: its certificate), as the configuration's provider describes it."""
    if not config.service_account_key:
        return ""
    try:
        provider = get_provider(config.service_type)
    except AurinkoError:
        return ""
    if not isinstance(provider, ServiceAccountProvider):
        return ""
    return provider.describe_service_account_key(config.service_account_key)


class OptionsField(forms.JSONField):
    """A JSON object; empty is ``{}`` (so an untouched field is not a change)."""

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return {} if value is None else value


class ProviderConfigForm(forms.ModelForm):
    """One provider configuration. The OAuth client secret and the service-account key are
    write-only: they are never rendered, an empty field keeps the stored value."""

    service_type = forms.ChoiceField(label="Service type")
    new_client_secret = forms.CharField(
        label="OAuth client secret",
        required=False,
        strip=True,
        max_length=4096,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_client_secret = forms.BooleanField(label="Remove the stored secret", required=False)
    key_file = forms.FileField(
        label="Service-account key or certificate",
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/json,.json,.pem,.crt,.key"}),
    )
    clear_service_account_key = forms.BooleanField(label="Remove the stored key", required=False)
    endpoints = forms.CharField(
        label="Endpoint overrides",
        required=False,
        widget=lines_widget(3, "token = https://login.example.com/token"),
        help_text="One per line: name = URL. Names: authorize, token, userinfo, revoke, api "
        "(and the provider's own). A URL may contain {tenant}. https, or http on "
        "loopback.",
    )

    options = OptionsField(
        label="Provider options",
        required=False,
        help_text='A JSON object of the provider\'s own settings, e.g. SugarCRM: {"platform": '
        '"acme_sync"}.',
    )

    class Meta:
        model = ProviderConfig
        fields = ["service_type", "client_id", "tenant", "options", "redirect_page", "endpoints"]
        widgets = {
            "redirect_page": forms.URLInput(
                attrs={"size": 80, "placeholder": "https://app.example.com/aurinko/redirect"}
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = [("", "---------")] + [
            (p.id, p.name or p.id) for p in all_providers()
        ]
        instance = self.instance
        if instance.pk:
            # One configuration per provider: to switch provider, delete and add.
            self.fields["service_type"].disabled = True
            if "endpoints" not in self.data:
                self.initial["endpoints"] = "\n".join(
                    f"{k} = {v}" for k, v in (instance.endpoints or {}).items()
                )
        stored_secret = bool(instance.pk and instance.client_secret)
        self.fields["new_client_secret"].help_text = (
            "A secret is stored. Type a new one to replace it; leave empty to keep it."
            if stored_secret
            else "Write-only: never shown again."
        )
        label = stored_key_label(instance) if instance.pk else ""
        # "Remove the stored ..." only where something is stored.
        for name, stored in (
            ("clear_client_secret", stored_secret),
            ("clear_service_account_key", bool(instance.pk and instance.service_account_key)),
        ):
            if not stored:
                self.fields[name].widget = forms.HiddenInput()
                self.fields[name].disabled = True
        self.fields["key_file"].help_text = (
            f"Stored: {label}. Upload a new file to replace it."
            if label
            else "Write-only, for service-account (daemon) access: Google's JSON key, or for "
            "Office 365 a PEM file with the private key and the certificate registered in "
            "the app registration (used instead of the client secret)."
        )

    def clean_endpoints(self) -> dict[str, str]:
        endpoints: dict[str, str] = {}
        for line in split_lines(self.cleaned_data.get("endpoints", "")):
            name, sep, url = line.partition("=")
            if not sep or not name.strip() or not url.strip():
                raise ValidationError(f"Write each override as name = URL (got {line[:80]!r}).")
            endpoints[name.strip()] = url.strip()
        return endpoints

    def clean_key_file(self) -> str | None:
        upload = self.cleaned_data.get("key_file")
        if not upload:
            return None
        return validate_service_account_key(
            upload.read(MAX_KEY_FILE_BYTES + 1), self.cleaned_data.get("service_type", "")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        service_type = data.get("service_type")
        if not service_type:
            return data
        try:
            provider = get_provider(service_type)
        except AurinkoError as exc:
            self.add_error("service_type", exc.message)
            return data
        data["service_type"] = provider.id
        if "endpoints" in data:
            try:
                services.validate_endpoints(provider, data["endpoints"])
            except AurinkoError as exc:
                self.add_error("endpoints", exc.message)
        if data.get("redirect_page"):
            try:
                data["redirect_page"] = provider.check_redirect_page(data["redirect_page"])
            except AurinkoError as exc:
                self.add_error("redirect_page", exc.message)
        options = data.get("options")
        if options:
            try:
                if not isinstance(options, dict):
                    raise InvalidRequest('Options are a JSON object, e.g. {"platform": "x"}.')
                data["options"] = services.validate_options(provider, options)
            except AurinkoError as exc:
                self.add_error("options", exc.message)
        needs_credentials = (
            isinstance(provider, OAuth2Provider) and provider.requires_client_credentials
        )
        label = provider.name or provider.id
        if needs_credentials and not data.get("client_id"):
            self.add_error("client_id", f"{label} needs an OAuth client id.")
        if needs_credentials and not self._will_have_secret(data):
            self.add_error(
                "new_client_secret",
                f"{label} needs an OAuth client secret. A typed secret is never sent back to "
                "the browser, so after an error on this page type it again.",
            )
        return data

    def _will_have_secret(self, data: dict[str, Any]) -> bool:
        """Whether the saved configuration has a client secret (or, for service-account
        access, a key instead): never save one silently without it (a re-rendered form does
        not keep a typed secret)."""
        if data.get("new_client_secret"):
            return True
        instance = self.instance
        stored = bool(instance.pk and instance.client_secret) and not data.get(
            "clear_client_secret"
        )
        has_key = bool(data.get("key_file")) or (
            bool(instance.pk and instance.service_account_key)
            and not data.get("clear_service_account_key")
        )
        return stored or has_key

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and self._errors and self.data.get(self.add_prefix("new_client_secret")):
            # The password widget renders empty: say so instead of letting the next save go
            # out without the secret the user believes is still there.
            self.fields["new_client_secret"].help_text = (
                "You typed a secret: it is not shown again after an error. Type it again "
                "before saving."
            )

    @property
    def secret_changed(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("new_client_secret") or data.get("clear_client_secret"))

    @property
    def key_changed(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("key_file") or data.get("clear_service_account_key"))

    def save(self, commit: bool = True) -> ProviderConfig:
        config = super().save(commit=False)
        data = self.cleaned_data
        if data.get("new_client_secret"):
            config.client_secret = data["new_client_secret"]
        elif data.get("clear_client_secret"):
            config.client_secret = ""
        if data.get("key_file"):
            config.service_account_key = data["key_file"]
        elif data.get("clear_service_account_key"):
            config.service_account_key = ""
        if commit:
            config.save()
        return config


class LinesField(forms.CharField):
    """A list edited as one item per line: shown joined, cleaned into its non-empty lines (so
    an unchanged list is not a change)."""

    widget = lines_widget()

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return split_lines(super().to_python(value))


class IdentityTrustForm(forms.ModelForm):
    """One token type the app accepts (checked like ``aurinko_app trust``)."""

    audiences = LinesField(label="Audiences", help_text=IdentityTrust.audiences.field.help_text)
    tenants = LinesField(
        label="Tenant allow-list",
        required=False,
        help_text="One per line. Entra and Exchange: tenant ids; Google: hosted domains. "
        "Empty: any.",
    )

    class Meta:
        model = IdentityTrust
        fields = ["token_type", "audiences", "tenants", "issuer", "jwks_url"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("audiences", "tenants"):  # edited as text, one per line
            if isinstance(self.initial.get(name), list):
                self.initial[name] = "\n".join(self.initial[name])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("token_type") or "audiences" not in data:
            return data
        try:
            data.update(
                services.validate_trust(
                    data["token_type"],
                    data["audiences"],
                    data.get("tenants") or [],
                    data.get("issuer") or "",
                    data.get("jwks_url") or "",
                )
            )
        except AurinkoError as exc:
            raise ValidationError(exc.message) from None
        return data
