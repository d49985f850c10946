"""The account admin: read-only pages (provider tokens are never shown), with actions to
deactivate accounts (revoking at the provider), revoke the broker's tokens, or delete."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db.models import QuerySet
from django.http import HttpRequest

from aurinko_auth import accounts, audit
from aurinko_auth.admin.scoping import AppScopedAdminMixin, ScopedAppFilter
from aurinko_auth.models import Account, AccountToken, AuditEvent
from aurinko_auth.providers.registry import all_providers

Event = AuditEvent.Type


class ServiceTypeFilter(admin.SimpleListFilter):
    """Service types from the provider registry."""

    title = "service type"
    parameter_name = "service_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(p.id, p.name or p.id) for p in all_providers()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(service_type__iexact=value) if value else queryset


@admin.register(Account)
class AccountAdmin(AppScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "who",
        "app_name",
        "service_type",
        "kind",
        "active",
        "token_status",
        "last_error",
        "auth_obtained_at",
    ]
    list_select_related = ["app"]
    list_filter = [
        ScopedAppFilter,
        ServiceTypeFilter,
        "account_type",
        "active",
        "token_status",
        "daemon",
    ]
    search_fields = ["email", "login_string", "name"]
    search_help_text = "Search by email, login or name."
    date_hierarchy = None
    actions = ["delete_selected", "deactivate_accounts", "revoke_access_tokens"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "app",
                    "service_type",
                    "kind",
                    "daemon",
                    "active",
                    "token_status",
                    "last_error",
                ]
            },
        ),
        (
            "Identity",
            {
                "fields": [
                    "email",
                    "name",
                    "login_string",
                    "auth_user_id",
                    "auth_org_id",
                    "server_url",
                ]
            },
        ),
        (
            "Authorization",
            {
                "fields": [
                    "auth_obtained_at",
                    "access_token_issued_at",
                    "access_token_expires_at",
                    "requested_scopes",
                    "scopes",
                    "native_scopes",
                    "access_token_count",
                    "credential_version",
                    "refresh_failures",
                    "refresh_retry_at",
                ]
            },
        ),
        ("Record", {"fields": ["extra_data", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    # Everything is read-only; `credentials` (the provider tokens) is never listed.
    readonly_fields = [name for _, opts in fieldsets for name in opts["fields"]]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # accounts are created by authorization flows only

    @admin.display(description="type", ordering="account_type")
    def kind(self, obj: Account) -> str:
        # Account-flow accounts belong to no user: they have no primary/secondary type.
        if obj.daemon:
            return "service account"
        if obj.parent_id is not None:
            return f"managed mailbox (of service account #{obj.parent_id})"
        if obj.account_type:
            return f"{Account.Type(obj.account_type).label} (of a user)"
        return "Account flow (no user)"

    def has_change_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        # Nothing on an account is edited by hand; "change" gates the actions on the list.
        return obj is None and super().has_change_permission(request, None)

    @admin.action(
        description="Delete the selected accounts (revokes at the provider)",
        permissions=["delete"],
    )
    def delete_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        """Django's delete action (its confirmation page, then ``delete_queryset``) under a
        label saying what deleting an account does; an action of the same name replaces the
        site-wide one (no ``get_actions`` override, which Django 6.1 deprecates)."""
        return django_delete_selected(self, request, queryset)

    @admin.display(description="account", ordering="email")
    def who(self, obj: Account) -> str:
        return obj.email or obj.login_string or obj.auth_user_id

    @admin.display(description="app", ordering="app__name")
    def app_name(self, obj: Account) -> str:
        return obj.app.name

    @admin.display(description="broker access tokens")
    def access_token_count(self, obj: Account) -> int:
        return obj.tokens.count()

    @admin.action(
        description="Deactivate (revoke the grant at the provider)", permissions=["change"]
    )
    def deactivate_accounts(self, request: HttpRequest, queryset: QuerySet) -> None:
        chosen, skipped = self.objects_with_role(request, queryset, self.change_role)
        confirmed = 0
        for account in chosen:
            ok = accounts.revoke_grant(account)
            confirmed += ok
            audit.record(
                Event.ACCOUNT_DEACTIVATED,
                app=account.app_id,
                request=request,
                accountId=account.pk,
                serviceType=account.service_type,
                providerConfirmed=ok,
            )
        messages.success(
            request,
            f"{len(chosen)} account(s) deactivated; the provider "
            f"confirmed {confirmed} revocation(s).",
        )
        if skipped:
            messages.warning(request, f"{skipped} account(s) skipped: your role there is viewer.")

    @admin.action(
        description="Revoke the broker's access tokens (sign the app out)", permissions=["change"]
    )
    def revoke_access_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        chosen, skipped = self.objects_with_role(request, queryset, self.change_role)
        total = 0
        for account in chosen:
            count, _ = AccountToken.objects.filter(account=account).delete()
            total += count
            audit.record(
                Event.ACCOUNT_TOKENS_REVOKED,
                app=account.app_id,
                request=request,
                accountId=account.pk,
                count=count,
            )
        messages.success(request, f"{total} access token(s) revoked.")
        if skipped:
            messages.warning(request, f"{skipped} account(s) skipped: your role there is viewer.")

    def delete_model(self, request: HttpRequest, obj: Account) -> None:
        audit.record(
            Event.ACCOUNT_DELETED,
            app=obj.app_id,
            request=request,
            accountId=obj.pk,
            serviceType=obj.service_type,
        )
        accounts.delete_account(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        selected = list(queryset)
        services = {account.pk for account in selected if account.daemon}
        for account in selected:
            if account.parent_id not in services:  # else deleted with its service account
                self.delete_model(request, account)
