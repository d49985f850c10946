"""The inlines of the app page: its team, its provider configurations and the identity
tokens it trusts. Provider secrets
and service-account keys are write-only: the read-only rendering never lists them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from aurinko_auth.admin.forms import (
    IdentityTrustForm,
    MembershipForm,
    MembershipFormSet,
    ProviderConfigForm,
    stored_key_label,
)
from aurinko_auth.admin.scoping import AppScopedInlineMixin, Role
from aurinko_auth.models import Account, App, AppMembership, IdentityTrust, ProviderConfig


class MembershipInline(AppScopedInlineMixin, admin.TabularInline):
    model = AppMembership
    form = MembershipForm
    formset = MembershipFormSet
    fields = ["user", "role"]
    extra = 0
    change_role = Role.OWNER  # only owners manage the team
    verbose_name = "team member"
    verbose_name_plural = "team"

    readonly_fields = ["member"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("user")

    def get_fields(self, request: HttpRequest, obj: App | None = None) -> list[Any]:
        # Read-only, the user is shown as text (not a link to the user admin).
        return ["user", "role"] if self.has_change_permission(request, obj) else ["member", "role"]

    @admin.display(description="user")
    def member(self, obj: AppMembership) -> str:
        return obj.user.get_username()


class ProviderConfigInline(AppScopedInlineMixin, admin.StackedInline):
    model = ProviderConfig
    form = ProviderConfigForm
    extra = 0
    readonly_fields = ["secret_status", "key_status", "endpoint_list", "refresh_state"]
    edit_fields = [
        "service_type",
        "client_id",
        ("new_client_secret", "clear_client_secret"),
        "tenant",
        "options",
        ("key_file", "clear_service_account_key"),
        "redirect_page",
        "endpoints",
        "refresh_state",
    ]
    # Read-only rendering shows model values: the secrets must never be among them.
    view_fields = [
        "service_type",
        "client_id",
        "secret_status",
        "tenant",
        "options",
        "key_status",
        "redirect_page",
        "endpoint_list",
        "refresh_state",
    ]

    @admin.display(description="Token refreshes")
    def refresh_state(self, obj: ProviderConfig) -> str:
        # An app-level failure (refused client credentials) pauses its accounts' refreshes
        # until the configuration changes (aurinko_auth.lifecycle.tokens).
        if not obj.pk:
            return "—"
        if obj.refresh_blocked:
            return f"paused since {obj.last_error_at:%Y-%m-%d %H:%M} UTC: {obj.last_error}"
        if not getattr(obj, "has_accounts", True):
            return "not used yet (no account signed in with it)"
        return "working"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Whether any account uses the configuration, in the same query (no query per row).
        used = Account.objects.filter(app=OuterRef("app"), service_type=OuterRef("service_type"))
        return super().get_queryset(request).annotate(has_accounts=Exists(used))

    def get_fields(self, request: HttpRequest, obj: App | None = None) -> list[Any]:
        if self.has_change_permission(request, obj):
            return list(self.edit_fields)
        return list(self.view_fields)

    @admin.display(description="OAuth client secret")
    def secret_status(self, obj: ProviderConfig) -> str:
        return "stored (write-only)" if obj.client_secret else "not set"

    @admin.display(description="Service-account key")
    def key_status(self, obj: ProviderConfig) -> str:
        label = stored_key_label(obj)
        return f"stored: {label}" if label else "not set"

    @admin.display(description="Endpoint overrides")
    def endpoint_list(self, obj: ProviderConfig) -> str:
        if not obj.endpoints:
            return "none (the provider's defaults)"
        return format_html_join(mark_safe("<br>"), "{} = {}", sorted(obj.endpoints.items()))


class IdentityTrustInline(AppScopedInlineMixin, admin.TabularInline):
    """The host identity tokens the app accepts (docs/add-ins.md): nothing secret in them."""

    model = IdentityTrust
    form = IdentityTrustForm
    fields = ["token_type", "audiences", "tenants", "issuer", "jwks_url"]
    extra = 0
    verbose_name = "trusted identity token"
    verbose_name_plural = "trusted identity tokens (add-ins, extensions)"
