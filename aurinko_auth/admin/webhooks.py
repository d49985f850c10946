"""Admin for webhooks: endpoints (with secret rotation), the outbox and the delivery log,
each scoped to the apps the signed-in user is a member of; replay from both lists."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from aurinko_auth.models import App
from aurinko_auth.models.webhooks import OutboxEvent, WebhookDelivery, WebhookEndpoint
from aurinko_auth.webhooks import delivery


class AppScopedAdmin(admin.ModelAdmin):
    app_path = "app"

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.app_path}__memberships__user": request.user}).distinct()

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "app" and not request.user.is_superuser:
            kwargs["queryset"] = App.objects.filter(memberships__user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AppScopedAdmin):
    list_display = ["url", "app", "active", "created_at"]
    list_filter = ["active"]
    fields = ["app", "url", "event_types", "active", "signing_secret"]
    readonly_fields = ["signing_secret"]
    actions = ["rotate_signing_secret"]

    @admin.display(description="signing secret")
    def signing_secret(self, obj: WebhookEndpoint) -> str:
        # Receivers need it to verify signatures; shown to the app's members only.
        return obj.secret if obj.pk else "(generated on save)"

    @admin.action(description="Rotate signing secret (old one still signs for 24 hours)")
    def rotate_signing_secret(self, request: HttpRequest, queryset: Any) -> None:
        for endpoint in queryset:
            endpoint.rotate_secret()
        self.message_user(request, f"Rotated {queryset.count()} secret(s).", messages.SUCCESS)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyMixin, AppScopedAdmin):
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
    list_filter = ["status", "event_type"]
    search_fields = ["=event_id", "=account_id"]
    actions = ["replay"]

    @admin.action(description="Replay (deliver again)")
    def replay(self, request: HttpRequest, queryset: Any) -> None:
        count = delivery.replay(queryset)
        self.message_user(request, f"Queued {count} event(s) again.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, AppScopedAdmin):
    app_path = "endpoint__app"
    list_display = [
        "event",
        "endpoint",
        "attempt",
        "status_code",
        "duration_ms",
        "error",
        "created_at",
    ]
    list_filter = ["status_code"]
    actions = ["replay"]

    @admin.action(description="Replay these deliveries' events")
    def replay(self, request: HttpRequest, queryset: Any) -> None:
        events = OutboxEvent.objects.filter(deliveries__in=queryset).distinct()
        count = delivery.replay(list(events))
        self.message_user(request, f"Queued {count} event(s) again.", messages.SUCCESS)
