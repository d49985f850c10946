"""Forms of the owner admin. Secrets are write-only: a form field for a secret never renders
the stored value, and an empty field keeps it. The provider-configuration form is in
:mod:`aurinko_auth.admin.provider_forms` (re-exported here)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from aurinko_auth import scopes, services
from aurinko_auth.admin.provider_forms import (  # noqa: F401 (re-exported)
    MAX_KEY_FILE_BYTES,
    IdentityTrustForm,
    LinesField,
    OptionsField,
    ProviderConfigForm,
    lines_widget,
    split_lines,
    stored_key_label,
    validate_service_account_key,
)
from aurinko_auth.exceptions import AurinkoError
from aurinko_auth.models import App, AppMembership
from aurinko_auth.security import origins, returnurls

SCOPE_HELP = {
    "Mail.Read": "read mail",
    "Mail.ReadWrite": "read and change mail",
    "Mail.Send": "send mail",
    "Mail.Drafts": "write drafts",
    "Mail.All": "all of mail: read, change, send",
    "Calendar.Read": "read calendars",
    "Calendar.ReadWrite": "read and change calendars",
    "Contacts.Read": "read contacts",
    "Contacts.ReadWrite": "read and change contacts",
    "Tasks.Read": "read tasks",
    "Tasks.ReadWrite": "read and change tasks",
}


class AppForm(forms.ModelForm):
    """Name, return URLs (one per line) and allowed scopes (checkboxes)."""

    return_urls = forms.CharField(
        label="Authorized return URLs",
        required=False,
        widget=lines_widget(4, "https://app.example.com/aurinko/callback"),
        help_text="One URL per line, matched exactly (a trailing slash differs). https, or "
        "http on loopback hosts (localhost, 127.0.0.1) for development. No fragment, "
        "no wildcard.",
    )
    trusted_domains = LinesField(
        label="Trusted domains",
        required=False,
        widget=lines_widget(3, "https://addin.example.com"),
        help_text="One origin per line (scheme://host[:port], no path, no wildcard): pages "
        "there may use the session API with the user's cookie (CORS), and only return URLs "
        "there receive responseType=token. They are not return URLs: those are registered "
        "above. https, or http on loopback hosts; chrome-extension://ID for an extension.",
    )
    public_return_urls = LinesField(
        label="Public return URLs",
        required=False,
        widget=lines_widget(2, "https://<extension-id>.chromiumapp.org/cb"),
        help_text="For a confidential app: those of its return URLs that belong to a page or "
        "extension without a backend, one per line. Flows to them need PKCE, and only their "
        "codes are redeemed without the client secret (docs/add-ins.md).",
    )
    allowed_scopes = forms.MultipleChoiceField(
        label="Allowed scopes",
        required=False,
        choices=[(s, f"{s} ({SCOPE_HELP.get(s, '')})") for s in scopes.UNIFIED_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="The scopes this app may request. A request for any other scope is refused.",
    )

    required_scopes = forms.MultipleChoiceField(
        label="Required scopes",
        required=False,
        choices=[(s, s) for s in scopes.UNIFIED_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="What the app needs now: accounts that have not granted one of them list it "
        "in missingScopes (docs/scopes.md). Each must be an allowed scope. None ticked: "
        "measured against what each account last requested.",
    )

    # Moving from Aurinko (creation only): the app keeps its clientId and clientSecret.
    import_client_id = forms.CharField(
        label="Client id (import)",
        required=False,
        max_length=64,
        help_text="Moving from Aurinko: the app's clientId there, so add-in manifests and the "
        "app's configuration stay valid. Empty: a new one is generated.",
    )
    import_client_secret = forms.CharField(
        label="Client secret (import)",
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="With an imported client id: the app's clientSecret at Aurinko (stored "
        "hashed). Empty: a new one is generated and shown once.",
    )
    # Changing how userSignature is keyed needs the current secret (the key is made from it).
    current_client_secret = forms.CharField(
        label="Current client secret",
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Only to switch Aurinko-compatible userSignature on or off: the signing key "
        "is made from the secret, which is never stored otherwise.",
    )

    class Meta:
        model = App
        fields = [
            "name",
            "active",
            "return_urls",
            "trusted_domains",
            "public_return_urls",
            "allowed_scopes",
            "required_scopes",
            "aurinko_signatures",
            "public_client",
            "token_response",
            "cookie_partitioned",
            "cookie_host_prefix",
            "session_lifetime",
            "session_idle_timeout",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "return_urls" not in self.data:
            self.initial["return_urls"] = "\n".join(self.instance.return_urls or [])

    def clean_import_client_id(self) -> str:
        value = self.cleaned_data.get("import_client_id", "").strip()
        if value:
            try:
                services.validate_client_id(value)
            except AurinkoError as exc:
                raise ValidationError(exc.message, code=exc.code) from None
        return value

    def clean_import_client_secret(self) -> str:
        value = self.cleaned_data.get("import_client_secret", "")
        if value:
            try:
                services.validate_client_secret(value)
            except AurinkoError as exc:
                raise ValidationError(exc.message, code=exc.code) from None
        return value

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("An app needs a name.")
        return name

    def clean_return_urls(self) -> list[str]:
        # Every refused URL is reported, one error each (not only the first).
        lines = split_lines(self.cleaned_data["return_urls"])
        errors = []
        for url in lines:
            try:
                # Extension pages are checked against public_client in clean().
                returnurls.validate_list([url], public_client=True)
            except AurinkoError as exc:
                errors.append(ValidationError(exc.message, code=exc.code))
        if errors:
            raise ValidationError(errors)
        return returnurls.validate_list(lines, public_client=True)

    def clean_trusted_domains(self) -> list[str]:
        lines = self.cleaned_data["trusted_domains"]
        errors = []
        for origin in lines:
            try:
                origins.validate_trusted(origin)
            except AurinkoError as exc:
                errors.append(ValidationError(exc.message, code=exc.code))
        if errors:
            raise ValidationError(errors)
        try:
            return origins.validate_trusted_list(lines)
        except AurinkoError as exc:
            raise ValidationError(exc.message, code=exc.code) from None

    def clean_allowed_scopes(self) -> list[str]:
        try:
            return services.scopes_list(list(self.cleaned_data["allowed_scopes"]))
        except AurinkoError as exc:
            raise ValidationError(exc.message, code=exc.code) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "allowed_scopes" in data and "required_scopes" in data:
            try:
                data["required_scopes"] = services.validate_required_scopes(
                    list(data["required_scopes"]), data["allowed_scopes"]
                )
            except AurinkoError as exc:
                self.add_error("required_scopes", exc.message)
        public_urls = data.get("public_return_urls") or []
        if "return_urls" in data and public_urls:
            try:
                data["public_return_urls"] = returnurls.validate_public(
                    public_urls, data["return_urls"]
                )
            except AurinkoError as exc:
                self.add_error("public_return_urls", exc.message)
        if "return_urls" in data and not data.get("public_client"):
            try:
                returnurls.validate_list(
                    data["return_urls"], public_client=False, public_urls=public_urls
                )
            except AurinkoError as exc:
                self.add_error("return_urls", exc.message)
        if not self.instance.pk:
            has_id = bool(data.get("import_client_id"))
            if has_id != bool(data.get("import_client_secret")) and not self.errors:
                self.add_error(
                    "import_client_secret", "An imported client id and secret go together."
                )
        elif "aurinko_signatures" in self.changed_data:
            secret = data.get("current_client_secret") or ""
            if not secret or not self.instance.check_client_secret(secret):
                self.add_error(
                    "current_client_secret",
                    "Give the app's current client secret to change how userSignature is keyed.",
                )
        return data


class UserByNameField(forms.Field):
    """A staff user chosen by username (or email): owners never get a list of all users."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> Any:
        if hasattr(value, "get_username"):
            return value
        value = str(value or "").strip()[:254]
        if not value:
            return None
        User = get_user_model()
        users = User._default_manager.filter(is_active=True, is_staff=True)
        user = users.filter(**{User.USERNAME_FIELD: value}).first()
        if user is None and "@" in value:
            matches = list(users.filter(email__iexact=value)[:2])
            user = matches[0] if len(matches) == 1 else None
        if user is None:
            raise ValidationError(
                f"No staff user {value[:150]!r}. Ask a superuser to create the account (with "
                "staff status) first.",
                code="invalid_user",
            )
        return user

    def prepare_value(self, value: Any) -> Any:
        if hasattr(value, "get_username"):
            return value.get_username()
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        return str(self.prepare_value(initial) or "") != str(data or "").strip()


class MembershipForm(forms.ModelForm):
    user = UserByNameField(label="Username or email")

    class Meta:
        model = AppMembership
        fields = ["user", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].help_text = (
            "Owners manage the team and the client secret; admins "
            "change settings and accounts; viewers only look."
        )
        if self.instance.pk and "user" in self.initial:
            # The inline's queryset selects the user: no query per row.
            self.initial["user"] = self.instance.user


class MembershipFormSet(forms.BaseInlineFormSet):
    """Every app keeps at least one owner, and a user is a member once."""

    def clean(self) -> None:
        super().clean()
        owners, seen = 0, set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            user = form.cleaned_data.get("user")
            if user is not None:
                if user.pk in seen:
                    raise ValidationError(f"{user.get_username()} is listed twice.")
                seen.add(user.pk)
            if form.cleaned_data.get("role") == AppMembership.Role.OWNER:
                owners += 1
        if not owners:
            raise ValidationError("An app needs at least one owner.")


class RotateSecretForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand the current secret stops working immediately.",
        required=True,
    )
