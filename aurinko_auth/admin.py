"""Admin for app owners. Secrets are write-only: client secrets are shown once, provider
secrets and tokens never."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from aurinko_auth import services
from aurinko_auth.models import (
    Account,
    App,
    AppMembership,
    AppUser,
    ProviderConfig,
    UserSession,
)


class ProviderConfigForm(forms.ModelForm):
    client_secret = forms.CharField(
        label="OAuth client secret", required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only. Leave empty to keep the stored secret.",
    )
    service_account_key = forms.CharField(
        label="Service-account key (JSON)", required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "(write-only)"}),
        help_text="Write-only. Leave empty to keep the stored key.",
    )

    class Meta:
        model = ProviderConfig
        fields = ["service_type", "client_id", "client_secret", "tenant", "service_account_key",
                  "endpoints"]

    def clean_service_account_key(self) -> str:
        from aurinko_auth.exceptions import AurinkoError
        from aurinko_auth.providers.registry import get_provider
        from aurinko_auth.services import validate_service_account_key

        key = self.cleaned_data.get("service_account_key") or ""
        service_type = self.data.get(self.add_prefix("service_type")) or \
            self.instance.service_type
        if key:
            try:
                validate_service_account_key(get_provider(service_type), key)
            except AurinkoError as exc:
                raise forms.ValidationError(exc.message) from None
        return key

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("client_secret", "service_account_key"):
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


class ProviderConfigInline(admin.StackedInline):
    model = ProviderConfig
    form = ProviderConfigForm
    extra = 0
    # An app-level refresh failure (e.g. an expired client secret); saving clears the pause.
    readonly_fields = ["last_error", "last_error_at"]


class MembershipInline(admin.TabularInline):
    model = AppMembership
    extra = 0
    autocomplete_fields = ["user"]


class OwnerScopedAdmin(admin.ModelAdmin):
    """Staff see only what belongs to apps they are members of; superusers see everything.
    ``owner_lookup`` is the path from the model to the membership's user."""

    owner_lookup = "app__memberships__user"

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self.owner_lookup: request.user}).distinct()


@admin.register(App)
class AppAdmin(OwnerScopedAdmin):
    list_display = ["name", "client_id", "client_secret_hint", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id", "client_secret_hint", "created_at", "updated_at"]
    inlines = [MembershipInline, ProviderConfigInline]
    actions = ["rotate_secret"]

    owner_lookup = "memberships__user"

    def save_model(self, request: HttpRequest, obj: App, form: Any, change: bool) -> None:
        secret = None if change else obj.set_client_secret()
        obj.return_urls = services.validate_return_urls(obj.return_urls or [])
        super().save_model(request, obj, form, change)
        if not change:
            AppMembership.objects.get_or_create(app=obj, user=request.user)
            messages.warning(request, f"Client secret for {obj.name} (shown once, copy it "
                                      f"now): {secret}")

    @admin.action(description="Rotate the client secret")
    def rotate_secret(self, request: HttpRequest, queryset: Any) -> None:
        for app in queryset:
            secret = services.rotate_secret(app)
            messages.warning(request, f"New client secret for {app.name} (shown once): {secret}")


@admin.register(Account)
class AccountAdmin(OwnerScopedAdmin):
    list_display = ["id", "app", "service_type", "email", "account_type", "daemon", "active",
                    "token_status", "last_error", "access_token_expires_at", "auth_obtained_at"]
    list_filter = ["service_type", "account_type", "daemon", "active", "token_status"]
    search_fields = ["email", "login_string", "auth_user_id"]
    list_select_related = ["app"]
    exclude = ["credentials"]
    readonly_fields = [f.name for f in Account._meta.fields if f.name != "credentials"]


    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class UserAccountInline(admin.TabularInline):
    model = Account
    fields = ["service_type", "account_type", "email", "active", "token_status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserSessionInline(admin.TabularInline):
    model = UserSession
    fields = ["created_at", "last_used_at", "expires_at", "revoked_at", "user_agent", "ip"]
    readonly_fields = fields  # the token hash stays out of the admin
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AppUser)
class AppUserAdmin(OwnerScopedAdmin):
    list_display = ["id", "app", "email", "trusted_identity", "created_at"]
    list_filter = ["trusted_identity"]
    search_fields = ["email", "id"]
    list_select_related = ["app"]
    readonly_fields = ["id", "app", "email", "auth_org_id", "trusted_identity", "created_at",
                       "updated_at"]
    inlines = [UserAccountInline, UserSessionInline]
    actions = ["end_sessions"]


    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="End all sessions of the selected users")
    def end_sessions(self, request: HttpRequest, queryset: Any) -> None:
        from django.utils import timezone

        ended = UserSession.objects.filter(user__in=queryset, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        messages.info(request, f"Ended {ended} session(s).")


from aurinko_auth import webhook_admin  # noqa: E402,F401  (registers the webhook admin)
