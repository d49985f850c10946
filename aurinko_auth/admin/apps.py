"""The app admin: list, create (the secret is shown once), change, enable/disable, delete;
every change is written to the audit log. The team and provider inlines are in
:mod:`aurinko_auth.admin.app_inlines`, the extra pages in :mod:`aurinko_auth.admin.app_pages`."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from aurinko_auth import accounts, audit, services
from aurinko_auth.admin.app_inlines import (
    IdentityTrustInline,
    MembershipInline,
    ProviderConfigInline,
)
from aurinko_auth.admin.app_pages import AppPagesMixin
from aurinko_auth.admin.forms import AppForm
from aurinko_auth.admin.scoping import AppScopedAdminMixin, Role, forget_roles, has_role, is_staff
from aurinko_auth.models import App, AppMembership, AuditEvent, IdentityTrust, ProviderConfig

Event = AuditEvent.Type


@admin.register(App)
class AppAdmin(AppPagesMixin, AppScopedAdminMixin, admin.ModelAdmin):
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
        "trusted_domain_list",
        "public_return_url_list",
        "scope_list",
        "required_scope_list",
        "signature_mode",
    ]
    inlines = [MembershipInline, ProviderConfigInline, IdentityTrustInline]
    actions = ["enable_apps", "disable_apps"]
    change_form_template = "admin/aurinko_auth/app/change_form.html"

    class Media:
        css = {"all": ["aurinko_auth/admin.css"]}

    # -- permissions: any staff user may register an app (and becomes its owner)
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: App | None = None) -> bool:
        if obj is None:
            return is_staff(request)  # the list: empty until they create or join an app
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
            return [
                (None, {"fields": ["name", "return_urls", "trusted_domains", "allowed_scopes"]}),
                (
                    "Public clients",
                    {"fields": ["public_client", "public_return_urls", "token_response"]},
                ),
                (
                    "Moving from Aurinko",
                    {
                        "fields": [
                            "import_client_id",
                            "import_client_secret",
                            "aurinko_signatures",
                        ],
                        "description": "Keep the app's clientId and clientSecret from Aurinko "
                        "(docs/migrating-from-aurinko.md). Leave empty for a new app.",
                    },
                ),
            ]
        settings = ["name", "active", "return_urls", "trusted_domains", "allowed_scopes"]
        settings += ["required_scopes", "public_client", "public_return_urls", "token_response"]
        cookie = ["cookie_partitioned", "cookie_host_prefix"]
        cookie += ["session_lifetime", "session_idle_timeout"]
        credentials = ["client_id", "client_secret_hint", "aurinko_signatures"]
        if self.has_change_permission(request, obj):
            credentials.append("current_client_secret")
        else:
            settings = ["name", "active", "return_url_list", "trusted_domain_list", "scope_list"]
            settings += ["required_scope_list", "public_client", "public_return_url_list"]
            settings += ["token_response"]
            credentials = ["client_id", "client_secret_hint", "signature_mode"]
        return [
            ("Credentials", {"fields": credentials}),
            ("Settings", {"fields": settings}),
            (
                "Session cookie",
                {
                    "fields": cookie,
                    "description": "For add-ins in iframes on other sites: docs/add-ins.md, "
                    '"Partitioned cookies (CHIPS)".',
                },
            ),
            ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
        ]

    def get_inlines(self, request: HttpRequest, obj: App | None) -> list[Any]:
        return [] if obj is None else list(self.inlines)

    @admin.display(description="authorized return URLs")
    def return_url_list(self, obj: App) -> str:
        return format_html_join(mark_safe("<br>"), "{}", ((u,) for u in obj.return_urls)) or "none"

    @admin.display(description="trusted domains")
    def trusted_domain_list(self, obj: App) -> str:
        origins = ((o,) for o in obj.trusted_domains)
        return format_html_join(mark_safe("<br>"), "{}", origins) or "none"

    @admin.display(description="public return URLs")
    def public_return_url_list(self, obj: App) -> str:
        urls = obj.public_return_urls or []
        return format_html_join(mark_safe("<br>"), "{}", ((u,) for u in urls)) or "none"

    @admin.display(description="allowed scopes")
    def scope_list(self, obj: App) -> str:
        return ", ".join(obj.allowed_scopes) or "none"

    @admin.display(description="required scopes")
    def required_scope_list(self, obj: App) -> str:
        return ", ".join(obj.required_scopes) or "none (what each account last requested)"

    @admin.display(description="userSignature")
    def signature_mode(self, obj: App) -> str:
        if obj.aurinko_signatures:
            return "Aurinko-compatible: keyed with the client secret (kept encrypted for this)"
        return "keyed with a key derived from the client secret (the secret is not kept)"

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
            imported = form.cleaned_data.get("import_client_id") or None
            app, secret = services.create_app(
                name=obj.name,
                return_urls=obj.return_urls,
                scopes=obj.allowed_scopes,
                owner=request.user,
                client_id=imported,
                client_secret=form.cleaned_data.get("import_client_secret") if imported else None,
                aurinko_signatures=obj.aurinko_signatures,
                public_client=obj.public_client,
                token_response=obj.token_response,
                trusted_domains=obj.trusted_domains,
                public_return_urls=obj.public_return_urls or [],
            )
            # The admin goes on with `obj` (log entry, redirect): make it the saved row.
            for field in App._meta.concrete_fields:
                setattr(obj, field.attname, getattr(app, field.attname))
            obj._state.adding, obj._state.db = False, app._state.db
            forget_roles(request)
            audit.record(
                Event.APP_CREATED,
                app=obj,
                request=request,
                name=obj.name,
                imported=bool(imported),
            )
            self._remember_secret(request, obj, secret)
            return
        changed = list(form.changed_data)
        if "aurinko_signatures" in changed:
            # The form checked the current secret; the key is made from it.
            obj.set_signing_key(form.cleaned_data["current_client_secret"])
        changed = [name for name in changed if name != "current_client_secret"]
        obj.save()
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
            elif formset.model is IdentityTrust:
                for trust in deleted:
                    audit.record(
                        Event.TRUST_REMOVED, app=app, request=request, type=trust.token_type
                    )
                for f, _ in changed:
                    audit.record(
                        Event.TRUST_CHANGED,
                        app=app,
                        request=request,
                        type=f.instance.token_type,
                        audiences=f.instance.audiences,
                    )

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
                Event.PROVIDER_DELETED, app=app, request=request, serviceType=config.service_type
            )
        for f, is_new in changed:
            audit.record(
                Event.PROVIDER_ADDED if is_new else Event.PROVIDER_CHANGED,
                app=app,
                request=request,
                serviceType=f.instance.service_type,
                fields=[name for name in f.changed_data if name not in write_only],
                secretChanged="yes" if f.secret_changed else "no",
                serviceAccountKeyChanged="yes" if f.key_changed else "no",
            )

    def delete_model(self, request: HttpRequest, obj: App) -> None:
        # Deleting an app disconnects its accounts: revoke each grant at the provider first.
        for account in obj.accounts.all().iterator():
            accounts.delete_account(account)
        audit.record(
            Event.APP_DELETED, app=obj, request=request, name=obj.name, clientId=obj.client_id
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
