"""The admin for app owners: each staff user sees and changes only the apps they belong to
(see :mod:`aurinko_auth.admin.scoping` for the roles). Secrets are write-only: a client secret
is shown exactly once, provider secrets and tokens never."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from aurinko_auth import accounts, audit, crypto, services
from aurinko_auth.admin.forms import (
    AppForm,
    MembershipForm,
    MembershipFormSet,
    ProviderConfigForm,
    RotateSecretForm,
    service_account_email,
)
from aurinko_auth.admin.scoping import (
    AppScopedAdminMixin,
    AppScopedInlineMixin,
    Role,
    ScopedAppFilter,
    app_ids_with,
    forget_roles,
    has_role,
    is_superuser,
    role_in,
)
from aurinko_auth.models import (
    Account,
    AccountToken,
    App,
    AppMembership,
    AppUser,
    AuditEvent,
    ProviderConfig,
    TokenStatus,
    UserSession,
)
from aurinko_auth.providers.registry import all_providers

Event = AuditEvent.Type

# The new client secret travels from the POST that made it to the page that shows it, once,
# encrypted in the session; that page removes it.
SECRET_SESSION_KEY = "aurinko_admin_new_secret"


def _is_staff(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff)


class ServiceTypeFilter(admin.SimpleListFilter):
    """Service types from the provider registry."""

    title = "service type"
    parameter_name = "service_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(p.id, p.name or p.id) for p in all_providers()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(service_type__iexact=value) if value else queryset


# -- App ---------------------------------------------------------------------------------


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
        "endpoint_list",
        "refresh_state",
    ]

    @admin.display(description="Token refreshes")
    def refresh_state(self, obj: ProviderConfig) -> str:
        # An app-level failure (refused client credentials) pauses its accounts' refreshes
        # until the configuration changes (aurinko_auth.lifecycle.tokens).
        if obj.pk and obj.refresh_blocked:
            return f"paused since {obj.last_error_at:%Y-%m-%d %H:%M} UTC: {obj.last_error}"
        return "working"

    def get_fields(self, request: HttpRequest, obj: App | None = None) -> list[Any]:
        if self.has_change_permission(request, obj):
            return list(self.edit_fields)
        return list(self.view_fields)

    @admin.display(description="OAuth client secret")
    def secret_status(self, obj: ProviderConfig) -> str:
        return "stored (write-only)" if obj.client_secret else "not set"

    @admin.display(description="Service-account key")
    def key_status(self, obj: ProviderConfig) -> str:
        email = service_account_email(obj)
        return f"stored, for {email}" if email else "not set"

    @admin.display(description="Endpoint overrides")
    def endpoint_list(self, obj: ProviderConfig) -> str:
        if not obj.endpoints:
            return "none (the provider's defaults)"
        return format_html_join(mark_safe("<br>"), "{} = {}", sorted(obj.endpoints.items()))


@admin.register(App)
class AppAdmin(AppScopedAdminMixin, admin.ModelAdmin):
    app_field = ""
    change_role = Role.ADMIN
    delete_role = Role.OWNER
    form = AppForm
    list_display = [
        "name",
        "client_id",
        "client_secret_hint",
        "active",
        "your_role",
        "account_count",
        "dashboard_link",
        "created_at",
    ]
    list_display_links = ["name"]
    search_fields = ["name", "client_id"]
    readonly_fields = [
        "client_id",
        "client_secret_hint",
        "dashboard_link",
        "created_at",
        "updated_at",
        "return_url_list",
        "scope_list",
    ]
    inlines = [MembershipInline, ProviderConfigInline]
    actions = ["enable_apps", "disable_apps"]
    change_form_template = "admin/aurinko_auth/app/change_form.html"

    class Media:
        css = {"all": ["aurinko_auth/admin.css"]}

    # -- permissions: any staff user may register an app (and becomes its owner)
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: App | None = None) -> bool:
        if obj is None:
            return _is_staff(request)  # the list: empty until they create or join an app
        return super().has_view_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        my_role = AppMembership.objects.filter(app=OuterRef("pk"), user=request.user.pk)
        return (
            super()
            .get_queryset(request)
            .annotate(
                account_count=Count("accounts", distinct=True),
                my_role=Subquery(my_role.values("role")[:1]),
            )
        )

    # -- layout
    def get_fieldsets(self, request: HttpRequest, obj: App | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["name", "return_urls", "allowed_scopes"]})]
        settings = ["name", "active", "return_urls", "allowed_scopes"]
        if not self.has_change_permission(request, obj):
            settings = ["name", "active", "return_url_list", "scope_list"]
        return [
            ("Credentials", {"fields": ["client_id", "client_secret_hint"]}),
            ("Settings", {"fields": settings}),
            ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
        ]

    def get_inlines(self, request: HttpRequest, obj: App | None) -> list[Any]:
        return [] if obj is None else list(self.inlines)

    @admin.display(description="authorized return URLs")
    def return_url_list(self, obj: App) -> str:
        return format_html_join(mark_safe("<br>"), "{}", ((u,) for u in obj.return_urls)) or "none"

    @admin.display(description="allowed scopes")
    def scope_list(self, obj: App) -> str:
        return ", ".join(obj.allowed_scopes) or "none"

    @admin.display(description="your role")
    def your_role(self, obj: App) -> str:
        role = getattr(obj, "my_role", None)
        return AppMembership.Role(role).label if role else "—"

    @admin.display(description="accounts", ordering="account_count")
    def account_count(self, obj: App) -> int:
        return getattr(obj, "account_count", 0)

    @admin.display(description="dashboard")
    def dashboard_link(self, obj: App) -> str:
        if not obj.pk:
            return "—"
        url = reverse("admin:aurinko_auth_app_dashboard", args=[obj.pk])
        return format_html('<a href="{}">Dashboard</a>', url)

    # -- saving
    def save_model(self, request: HttpRequest, obj: App, form: Any, change: bool) -> None:
        if not change:
            app, secret = services.create_app(
                name=obj.name,
                return_urls=obj.return_urls,
                scopes=obj.allowed_scopes,
                owner=request.user,
            )
            # The admin goes on with `obj` (log entry, redirect): make it the saved row.
            for field in App._meta.concrete_fields:
                setattr(obj, field.attname, getattr(app, field.attname))
            obj._state.adding, obj._state.db = False, app._state.db
            forget_roles(request)
            audit.record(Event.APP_CREATED, app=obj, request=request, name=obj.name)
            self._remember_secret(request, obj, secret)
            return
        obj.save()
        changed = list(form.changed_data)
        if "active" in changed:
            audit.record(
                Event.APP_ENABLED if obj.active else Event.APP_DISABLED, app=obj, request=request
            )
            changed.remove("active")
        if changed:
            audit.record(Event.APP_CHANGED, app=obj, request=request, fields=changed)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        app = form.instance
        deleted = [f.instance for f in formset.deleted_forms if f.instance.pk]
        new = set(map(id, formset.extra_forms))
        changed = [
            (f, id(f) in new)
            for f in formset.forms
            if f.has_changed() and f not in formset.deleted_forms
        ]
        with transaction.atomic():
            formset.save()
            if formset.model is AppMembership:
                self._audit_members(request, app, changed, deleted)
            elif formset.model is ProviderConfig:
                self._audit_providers(request, app, changed, deleted)

    def _audit_members(
        self,
        request: HttpRequest,
        app: App,
        changed: list[tuple[Any, bool]],
        deleted: list[AppMembership],
    ) -> None:
        for member in deleted:
            audit.record(
                Event.MEMBER_REMOVED,
                app=app,
                request=request,
                user=member.user.get_username(),
                role=member.role,
            )
        for f, is_new in changed:
            audit.record(
                Event.MEMBER_ADDED if is_new else Event.MEMBER_CHANGED,
                app=app,
                request=request,
                user=f.instance.user.get_username(),
                role=f.instance.role,
            )
        forget_roles(request)

    def _audit_providers(
        self,
        request: HttpRequest,
        app: App,
        changed: list[tuple[Any, bool]],
        deleted: list[ProviderConfig],
    ) -> None:
        write_only = {
            "new_client_secret",
            "clear_client_secret",
            "key_file",
            "clear_service_account_key",
        }
        for config in deleted:
            audit.record(
                Event.PROVIDER_DELETED, app=app, request=request, service_type=config.service_type
            )
        for f, is_new in changed:
            audit.record(
                Event.PROVIDER_ADDED if is_new else Event.PROVIDER_CHANGED,
                app=app,
                request=request,
                service_type=f.instance.service_type,
                fields=[name for name in f.changed_data if name not in write_only],
                secret_changed="yes" if f.secret_changed else "no",
                service_account_key_changed="yes" if f.key_changed else "no",
            )

    def delete_model(self, request: HttpRequest, obj: App) -> None:
        # Deleting an app disconnects its accounts: revoke each grant at the provider first.
        for account in obj.accounts.all().iterator():
            accounts.delete_account(account)
        audit.record(
            Event.APP_DELETED, app=obj, request=request, name=obj.name, client_id=obj.client_id
        )
        obj.delete()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for app in queryset:
            self.delete_model(request, app)

    # -- responses
    def response_add(
        self, request: HttpRequest, obj: App, post_url_continue: Any = None
    ) -> HttpResponse:
        if "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(
            request,
            f"The app “{obj.name}” was created. Copy its client secret now: it is shown only once.",
        )
        return HttpResponseRedirect(reverse("admin:aurinko_auth_app_secret", args=[obj.pk]))

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Creating always continues to the page that shows the new secret.
        context = {
            **(extra_context or {}),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
        }
        return super().add_view(request, form_url, context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        context["dashboard_url"] = reverse("admin:aurinko_auth_app_dashboard", args=[object_id])
        context["rotate_url"] = reverse("admin:aurinko_auth_app_rotate_secret", args=[object_id])
        try:
            context["can_rotate"] = has_role(request, int(object_id), Role.OWNER)
        except ValueError:
            context["can_rotate"] = False
        return super().change_view(request, object_id, form_url, context)

    # -- actions
    @admin.action(description="Enable the selected apps", permissions=["change"])
    def enable_apps(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description="Disable the selected apps", permissions=["change"])
    def disable_apps(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, False)

    def _set_active(self, request: HttpRequest, queryset: QuerySet, active: bool) -> None:
        apps, skipped = self.objects_with_role(request, queryset, self.change_role)
        done = 0
        for app in apps:
            if app.active != active:
                app.active = active
                app.save(update_fields=["active", "updated_at"])
                audit.record(
                    Event.APP_ENABLED if active else Event.APP_DISABLED, app=app, request=request
                )
                done += 1
        messages.success(request, f"{done} app(s) {'enabled' if active else 'disabled'}.")
        if skipped:
            messages.warning(request, f"{skipped} app(s) skipped: your role there is viewer.")

    # -- extra pages: dashboard, secret rotation, the secret shown once
    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/dashboard/",
                wrap(self.dashboard_view),
                name="aurinko_auth_app_dashboard",
            ),
            path(
                "<path:object_id>/rotate-secret/",
                wrap(self.rotate_secret_view),
                name="aurinko_auth_app_rotate_secret",
            ),
            path(
                "<path:object_id>/secret/", wrap(self.secret_view), name="aurinko_auth_app_secret"
            ),
            *super().get_urls(),
        ]

    def _page(
        self, request: HttpRequest, obj: App, template: str, title: str, **context: Any
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "app": obj,
            "title": title,
            "role": role_in(request, obj.pk),
            "change_url": reverse("admin:aurinko_auth_app_change", args=[obj.pk]),
            **context,
        }
        return TemplateResponse(request, f"admin/aurinko_auth/app/{template}", context)

    def _remember_secret(self, request: HttpRequest, app: App, secret: str) -> None:
        pending = request.session.get(SECRET_SESSION_KEY) or {}
        pending[str(app.pk)] = crypto.encrypt(secret)
        request.session[SECRET_SESSION_KEY] = pending

    def _take_secret(self, request: HttpRequest, app: App) -> str | None:
        pending = request.session.get(SECRET_SESSION_KEY) or {}
        token = pending.pop(str(app.pk), None)
        if token is None:
            return None
        if pending:
            request.session[SECRET_SESSION_KEY] = pending
        else:
            del request.session[SECRET_SESSION_KEY]
        return crypto.decrypt(token)

    def secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        response = self._page(
            request,
            obj,
            "secret.html",
            f"Client secret of {obj.name}",
            secret=self._take_secret(request, obj),
            can_rotate=has_role(request, obj.pk, Role.OWNER),
        )
        add_never_cache_headers(response)
        return response

    def rotate_secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if not has_role(request, obj.pk, Role.OWNER):
            raise PermissionDenied
        form = RotateSecretForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                secret = services.rotate_secret(obj)
                audit.record(Event.SECRET_ROTATED, app=obj, request=request)
            self._remember_secret(request, obj, secret)
            messages.success(
                request, "The client secret was rotated. The previous one no longer works."
            )
            return HttpResponseRedirect(reverse("admin:aurinko_auth_app_secret", args=[obj.pk]))
        return self._page(
            request, obj, "rotate_secret.html", f"Rotate the client secret of {obj.name}", form=form
        )

    def dashboard_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        statuses = list(TokenStatus)
        # One aggregate query: accounts by service type, token status and active flag.
        rows = (
            Account.objects.filter(app=obj)
            .values_list("service_type", "token_status", "active")
            .annotate(n=Count("id"))
            .order_by()
        )
        table: dict[str, dict[str, int]] = {}
        for service_type, status, active, n in rows:
            row = table.setdefault(service_type, {"total": 0, "inactive": 0})
            row["total"] += n
            row[status] = row.get(status, 0) + n
            if not active:
                row["inactive"] += n
        totals = {"total": 0, "inactive": 0}
        for row in table.values():
            for key, n in row.items():
                totals[key] = totals.get(key, 0) + n
        providers = [
            {
                "service_type": st,
                "total": row["total"],
                "inactive": row["inactive"],
                "statuses": [row.get(s.value, 0) for s in statuses],
            }
            for st, row in sorted(table.items())
        ]
        account_list = reverse("admin:aurinko_auth_account_changelist")
        failing_accounts = (
            Account.objects.filter(app=obj)
            .filter(~Q(last_error="") | ~Q(token_status=TokenStatus.HEALTHY))
            .only(
                "id",
                "email",
                "auth_user_id",
                "service_type",
                "token_status",
                "last_error",
                "updated_at",
                "app_id",
            )
            .order_by("-updated_at")[:20]
        )
        failures = AuditEvent.objects.filter(app=obj, event__in=audit.FAILURE_EVENTS).order_by(
            "-created_at"
        )[:20]
        recent = AuditEvent.objects.filter(app=obj).order_by("-created_at")[:10]
        configured = list(
            ProviderConfig.objects.filter(app=obj)
            .values_list("service_type", flat=True)
            .order_by("service_type")
        )
        return self._page(
            request,
            obj,
            "dashboard.html",
            f"Dashboard of {obj.name}",
            statuses=statuses,
            providers=providers,
            totals={
                "total": totals["total"],
                "inactive": totals["inactive"],
                "statuses": [totals.get(s.value, 0) for s in statuses],
            },
            failing_accounts=failing_accounts,
            failures=failures,
            recent=recent,
            configured=configured,
            account_list=f"{account_list}?app={obj.pk}",
            audit_list=f"{reverse('admin:aurinko_auth_auditevent_changelist')}?app={obj.pk}",
        )


# -- Accounts ----------------------------------------------------------------------------


@admin.register(Account)
class AccountAdmin(AppScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "who",
        "app_name",
        "service_type",
        "account_type",
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
    actions = ["deactivate_accounts", "revoke_access_tokens"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "app",
                    "service_type",
                    "account_type",
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

    def has_change_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        # Nothing on an account is edited by hand; "change" gates the actions on the list.
        return obj is None and super().has_change_permission(request, None)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, _ = actions["delete_selected"]
            actions["delete_selected"] = (
                func,
                name,
                "Delete the selected accounts (revokes at the provider)",
            )
        return actions

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
                account_id=account.pk,
                service_type=account.service_type,
                provider_confirmed=ok,
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
                account_id=account.pk,
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
            account_id=obj.pk,
            service_type=obj.service_type,
        )
        accounts.delete_account(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset:
            self.delete_model(request, account)


# -- Audit log ---------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(AppScopedAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event", "app_name", "actor_name", "ip", "summary"]
    list_select_related = ["app"]
    list_filter = [ScopedAppFilter, "event"]
    search_fields = ["actor_name"]
    search_help_text = "Search by actor (username)."
    fields = ["created_at", "event", "app", "actor_name", "ip", "details_pretty"]
    readonly_fields = fields
    actions = None
    empty_value_display = "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = admin.ModelAdmin.get_queryset(self, request)
        ids = app_ids_with(request)
        if ids is None:
            return qs
        # The user's apps, and their own events outside any app (their sign-ins).
        return qs.filter(Q(app_id__in=ids) | Q(app__isnull=True, actor=request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        if obj is None or is_superuser(request):
            return _is_staff(request)
        if obj.app_id is None:
            return obj.actor_id == request.user.pk
        return has_role(request, obj.app_id, Role.VIEWER)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="app", ordering="app__name")
    def app_name(self, obj: AuditEvent) -> str:
        return obj.app.name if obj.app else "—"

    @admin.display(description="details")
    def summary(self, obj: AuditEvent) -> str:
        return obj.summary or "—"

    @admin.display(description="details")
    def details_pretty(self, obj: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.details or {}, indent=2, sort_keys=True))


# --- app users of the User flow (their accounts and sessions) ------------------------------


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
    inlines = [UserAccountInline, UserSessionInline]
    actions = ["end_sessions"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    @admin.action(description="End all sessions of the selected users")
    def end_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        from django.utils import timezone

        ended = UserSession.objects.filter(
            user__in=self.scope_queryset(request, queryset, Role.ADMIN),
            revoked_at__isnull=True,
        ).update(revoked_at=timezone.now())
        messages.info(request, f"Ended {ended} session(s).")


from aurinko_auth.admin import webhooks  # noqa: E402,F401  (registers the webhook admin)
