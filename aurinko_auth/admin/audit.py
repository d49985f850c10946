"""The audit log admin: read-only, each staff user sees their apps' events and their own
sign-ins."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from aurinko_auth.admin.scoping import (
    AppScopedAdminMixin,
    Role,
    ScopedAppFilter,
    app_ids_with,
    has_role,
    is_staff,
    is_superuser,
)
from aurinko_auth.models import AuditEvent


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
        return is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        if obj is None or is_superuser(request):
            return is_staff(request)
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
