"""Admin for webhooks: endpoints (with secret rotation), the outbox and the delivery log.

Scoped like the rest of the owner admin (:mod:`aurinko_auth.admin.scoping`), by the user's
*role* in each app, not by mere membership: viewers see endpoints, events and deliveries;
admins and owners add, change and delete endpoints, see and rotate signing secrets and replay
events. No Django model permission is needed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from aurinko_auth.admin.scoping import AppScopedAdminMixin, Role, ScopedAppFilter, has_role
from aurinko_auth.models.webhooks import OutboxEvent, WebhookDelivery, WebhookEndpoint
from aurinko_auth.webhooks import delivery


class WebhookScopedAdmin(AppScopedAdminMixin, admin.ModelAdmin):
    """Role-scoped; ``act_role`` is the least role for the list actions (rotate, replay)."""

    act_role: str = Role.ADMIN

    def has_act_permission(self, request: HttpRequest) -> bool:
        # Offered only where the user is an admin or owner of at least one app.
        return self._allowed(request, None, self.act_role)

    def acting_on(self, request: HttpRequest, queryset: QuerySet) -> list[Model]:
        """The selected objects the user may act on; a warning names how many were left."""
        allowed, skipped = self.objects_with_role(request, queryset, self.act_role)
        if skipped:
            self.message_user(
                request,
                f"{skipped} selected item(s) skipped: your role in their app is viewer.",
                messages.WARNING,
            )
        return allowed


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(WebhookScopedAdmin):
    list_display = ["url", "app", "active", "created_at"]
    list_select_related = ["app"]
    list_filter = [ScopedAppFilter, "active"]
    readonly_fields = ["signing_secret", "signing_secret_hidden"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["rotate_signing_secret"]

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> list[str]:
        fields = ["app", "url", "event_types", "active"]
        if obj is None or has_role(request, obj.app_id, self.act_role):
            return [*fields, "signing_secret"]
        return [*fields, "signing_secret_hidden"]

    @admin.display(description="signing secret")
    def signing_secret(self, obj: WebhookEndpoint) -> str:
        # Receivers need it to verify signatures; shown to the app's admins and owners only.
        return obj.secret if obj.pk else "(generated on save)"

    @admin.display(description="signing secret")
    def signing_secret_hidden(self, obj: WebhookEndpoint) -> str:
        return "hidden (the app's admins and owners see it)"

    @admin.action(
        description="Rotate signing secret (old one still signs for 24 hours)",
        permissions=["act"],
    )
    def rotate_signing_secret(self, request: HttpRequest, queryset: QuerySet) -> None:
        endpoints = self.acting_on(request, queryset)
        for endpoint in endpoints:
            endpoint.rotate_secret()
        self.message_user(request, f"Rotated {len(endpoints)} secret(s).", messages.SUCCESS)


class ReadOnlyMixin:
    delete_role = Role.OWNER

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyMixin, WebhookScopedAdmin):
    list_display = [
        "event_type",
        "event_id",
        "endpoint",
        "account_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    ]
    list_select_related = ["endpoint"]
    list_filter = [ScopedAppFilter, "status", "event_type"]
    search_fields = ["=event_id", "=account_id"]
    actions = ["replay"]

    @admin.action(description="Replay (deliver again)", permissions=["act"])
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = delivery.replay(self.acting_on(request, queryset))
        self.message_user(request, f"Queued {count} event(s) again.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, WebhookScopedAdmin):
    app_field = "endpoint__app"
    list_display = [
        "event",
        "endpoint",
        "attempt",
        "status_code",
        "duration_ms",
        "error",
        "created_at",
    ]
    list_select_related = ["event", "endpoint"]
    list_filter = [ScopedAppFilter, "status_code"]
    actions = ["replay"]

    @admin.action(description="Replay these deliveries' events", permissions=["act"])
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
        allowed = self.acting_on(request, queryset.select_related("endpoint"))
        events = OutboxEvent.objects.filter(deliveries__in=allowed).distinct()
        count = delivery.replay(list(events))
        self.message_user(request, f"Queued {count} event(s) again.", messages.SUCCESS)
