"""The admin of the User flow's app users: their linked accounts, sessions and host identities,
and an action that ends their sessions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from aurinko_auth import usersessions
from aurinko_auth.admin.scoping import AppScopedAdminMixin, Role, ScopedAppFilter
from aurinko_auth.models import Account, AppUser, HostIdentity, UserSession


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


class HostIdentityInline(admin.TabularInline):
    """The host identities (identity tokens: docs/add-ins.md) that sign this user in: which
    token type and subject (Entra ``tid:oid``, Google ``sub``, Exchange ``amurl|msexchuid``),
    recorded by a prepared sign-in. Read-only: deleting the user removes them."""

    model = HostIdentity
    fields = ["token_type", "subject", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "host identities (identity-token sign-in)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AppUser)
class AppUserAdmin(AppScopedAdminMixin, admin.ModelAdmin):
    list_display = ["id", "app", "email", "trusted_identity", "created_at"]
    list_filter = [ScopedAppFilter, "trusted_identity"]
    search_fields = ["email", "id"]
    list_select_related = ["app"]
    readonly_fields = [
        "id",
        "app",
        "email",
        "auth_org_id",
        "trusted_identity",
        "created_at",
        "updated_at",
    ]
    inlines = [UserAccountInline, UserSessionInline, HostIdentityInline]
    actions = ["end_sessions"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    @admin.action(description="End all sessions of the selected users")
    def end_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        ended = usersessions.revoke_where(
            user__in=self.scope_queryset(request, queryset, Role.ADMIN)
        )
        messages.info(request, f"Ended {ended} session(s).")
