"""The app's own admin pages beside its change form: the dashboard, secret rotation and the
page that shows a new client secret once."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers

from aurinko_auth import audit, crypto, services
from aurinko_auth.admin.forms import RotateSecretForm
from aurinko_auth.admin.scoping import Role, has_role, role_in
from aurinko_auth.models import Account, App, AuditEvent, ProviderConfig, TokenStatus

Event = AuditEvent.Type

# The new client secret travels from the POST that made it to the page that shows it, once,
# encrypted in the session; that page removes it.
SECRET_SESSION_KEY = "aurinko_admin_new_secret"


class AppPagesMixin:
    """Adds the dashboard, rotate-secret and secret pages to the app admin (``AppAdmin``)."""

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
        response["Pragma"] = "no-cache"
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
