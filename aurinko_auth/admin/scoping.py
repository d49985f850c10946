"""Owner scoping for the admin.

App owners are Django staff users without global model permissions. What they may see and do
follows their :class:`~aurinko_auth.models.AppMembership` role in each app:

=========  ======  ======  ======
action     viewer  admin   owner
=========  ======  ======  ======
view         x       x       x
change               x       x
delete               x       x      (accounts, sessions; the app itself: owner only)
members                      x
secret                       x
=========  ======  ======  ======

Superusers see and change everything. Anything outside the user's apps does not exist for
them: a direct URL answers 404, never 403.

Adding an owner-scoped admin for another model that belongs to an app is a few lines::

    @admin.register(UserSession)
    class UserSessionAdmin(AppScopedAdminMixin, admin.ModelAdmin):
        app_field = "user__app"          # the path from the model to its App
        list_filter = [ScopedAppFilter]  # only the user's own apps are offered
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from aurinko_auth import inputs
from aurinko_auth.models import App, AppMembership

Role = AppMembership.Role
ROLE_RANK: dict[str, int] = {Role.VIEWER: 1, Role.ADMIN: 2, Role.OWNER: 3}

_CACHE_ATTR = "_aurinko_app_roles"


def app_roles(request: HttpRequest) -> dict[int, str]:
    """``{app_id: role}`` for the signed-in user: one query per request, then cached on it."""
    roles = getattr(request, _CACHE_ATTR, None)
    if roles is None:
        user = request.user
        roles = (
            {}
            if not user.is_authenticated
            else dict(AppMembership.objects.filter(user=user).values_list("app_id", "role"))
        )
        setattr(request, _CACHE_ATTR, roles)
    return roles


def forget_roles(request: HttpRequest) -> None:
    """Drop the cached roles (after a membership changed within this request)."""
    if hasattr(request, _CACHE_ATTR):
        delattr(request, _CACHE_ATTR)


def is_staff(request: HttpRequest) -> bool:
    """Any active staff user may use the admin; what they see follows their roles."""
    return bool(request.user.is_active and request.user.is_staff)


def is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


def role_in(request: HttpRequest, app_id: int | None) -> str | None:
    """The user's role in one app (``owner`` for superusers), or None."""
    if is_superuser(request):
        return Role.OWNER
    if app_id is None:
        return None
    return app_roles(request).get(app_id)


def has_role(request: HttpRequest, app_id: int | None, minimum: str) -> bool:
    role = role_in(request, app_id)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]


def app_ids_with(request: HttpRequest, minimum: str = Role.VIEWER) -> list[int] | None:
    """Ids of the apps where the user has at least ``minimum``; None means every app."""
    if is_superuser(request):
        return None
    rank = ROLE_RANK[minimum]
    return [app_id for app_id, role in app_roles(request).items() if ROLE_RANK[role] >= rank]


def scoped_apps(request: HttpRequest, minimum: str = Role.VIEWER) -> QuerySet[App]:
    ids = app_ids_with(request, minimum)
    apps = App.objects.all()
    return apps if ids is None else apps.filter(pk__in=ids)


class AppScopedAdminMixin:
    """Owner scoping for a ModelAdmin whose model belongs to an App.

    ``app_field`` is the lookup path from the model to its App (``"app"``, ``"user__app"``);
    empty for the App model itself. The ``*_role`` attributes give the least role needed for
    each action. The queryset, every permission check, foreign-key choices and the
    delete-confirmation are scoped; an object outside the user's apps is a 404."""

    app_field: str = "app"

    class Media:
        css = {"all": ["aurinko_auth/admin.css"]}

    view_role: str = Role.VIEWER
    change_role: str = Role.ADMIN
    delete_role: str = Role.ADMIN
    add_role: str = Role.ADMIN

    # -- where an object belongs
    def app_id_of(self, obj: Model) -> int | None:
        if not self.app_field:
            return obj.pk
        *path, last = self.app_field.split("__")
        for name in path:
            obj = getattr(obj, name, None)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id", None)

    def app_lookup(self) -> str:
        return f"{self.app_field}__pk" if self.app_field else "pk"

    def scope_queryset(
        self, request: HttpRequest, qs: QuerySet, minimum: str = Role.VIEWER
    ) -> QuerySet:
        ids = app_ids_with(request, minimum)
        return qs if ids is None else qs.filter(**{f"{self.app_lookup()}__in": ids})

    # -- ModelAdmin hooks
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.scope_queryset(request, super().get_queryset(request), self.view_role)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        # Outside the user's apps an object does not exist: 404 rather than Django's redirect
        # ("perhaps it was deleted?"), and never a 403 that would confirm it exists.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request) or bool(app_roles(request))

    def _allowed(self, request: HttpRequest, obj: Model | None, minimum: str) -> bool:
        if is_superuser(request):
            return True
        if obj is None:
            return bool(app_ids_with(request, minimum))
        return has_role(request, self.app_id_of(obj), minimum)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, self.view_role)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, self.change_role)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, self.delete_role)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request, None, self.add_role)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is App:
            kwargs["queryset"] = scoped_apps(request, self.change_role)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Bulk deletion only checks the model-wide permission: refuse any selected object the
        # user may not delete (Django then shows "you don't have permission" and stops).
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        for obj in objs:
            if not self.has_delete_permission(request, obj):
                perms_needed.add(f"{self.model._meta.verbose_name} “{obj}”")
        return deleted, model_count, perms_needed, protected

    def objects_with_role(
        self, request: HttpRequest, queryset: QuerySet, minimum: str
    ) -> tuple[list[Model], int]:
        """Split a selection for an admin action: the objects the user may act on with
        ``minimum``, and how many were left out."""
        objs = list(queryset)
        allowed = [o for o in objs if has_role(request, self.app_id_of(o), minimum)]
        return allowed, len(objs) - len(allowed)


class AppScopedInlineMixin:
    """Scoping for an inline on the App change page (``obj`` is the parent app)."""

    view_role: str = Role.VIEWER
    change_role: str = Role.ADMIN

    def _allowed(self, request: HttpRequest, obj: App | None, minimum: str) -> bool:
        if obj is None:
            # Asked without a parent (e.g. by InlineModelAdmin.get_queryset, whose rows are
            # then limited to the parent app): whether the user has the role anywhere.
            return is_superuser(request) or bool(app_ids_with(request, minimum))
        return has_role(request, obj.pk, minimum)

    def has_view_permission(self, request: HttpRequest, obj: App | None = None) -> bool:
        return self._allowed(request, obj, self.view_role)

    def has_change_permission(self, request: HttpRequest, obj: App | None = None) -> bool:
        return self._allowed(request, obj, self.change_role)

    def has_add_permission(self, request: HttpRequest, obj: App | None = None) -> bool:
        return self._allowed(request, obj, self.change_role)

    def has_delete_permission(self, request: HttpRequest, obj: App | None = None) -> bool:
        return self._allowed(request, obj, self.change_role)


class ScopedAppFilter(admin.SimpleListFilter):
    """An "app" list filter offering only the apps the user belongs to."""

    title = "app"
    parameter_name = "app"

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        lookup = getattr(model_admin, "app_lookup", None)
        self.app_lookup = lookup() if lookup else "app__pk"
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(pk), name)
            for pk, name in scoped_apps(request).order_by("name", "pk").values_list("pk", "name")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        app_id = inputs.object_id(value)
        if app_id is None:
            return queryset.none()
        return queryset.filter(**{self.app_lookup: app_id})
