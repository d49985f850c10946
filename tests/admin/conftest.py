"""Fixtures for the owner admin: staff users in each role and a form-data helper."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from aurinko_auth.models import AppMembership

PASSWORD = "correct horse battery staple"
PROVIDER_SECRET = "gcp-provider-secret-DO-NOT-SHOW"


@pytest.fixture
def staff_factory(db, django_user_model):
    """``staff_factory(username, superuser=False) -> user`` (password: PASSWORD)."""

    def make(username: str, *, superuser: bool = False, staff: bool = True) -> Any:
        return django_user_model.objects.create_user(
            username=username,
            email=f"{username}@example.com",
            password=PASSWORD,
            is_staff=staff,
            is_superuser=superuser,
        )

    return make


@pytest.fixture
def mfa_required(settings):
    """The default admin site as ``ADMIN_MFA = "required"`` makes it at start-up."""
    from django.contrib import admin

    from aurinko_auth.admin import mfa

    saved = {"login_form": admin.site.login_form, "login_template": admin.site.login_template}
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ADMIN_MFA": "required"}
    mfa.install(admin.site)
    yield
    mfa.uninstall(admin.site, saved)


@pytest.fixture
def member_factory(db):
    def make(app: Any, user: Any, role: str = AppMembership.Role.OWNER) -> AppMembership:
        return AppMembership.objects.create(app=app, user=user, role=role)

    return make


@pytest.fixture
def team(app_factory, staff_factory, member_factory, provider_config_factory, account_factory):
    """App "Mail Sync" with an owner, an admin and a viewer (plus a provider configuration,
    accounts and an audit event); another owner with "Other app"; a superuser; and a staff
    user who belongs to no app."""
    from aurinko_auth import audit

    app, secret = app_factory(name="Mail Sync")
    other_app, _ = app_factory(name="Other app")
    t = SimpleNamespace(
        app=app,
        secret=secret,
        other_app=other_app,
        owner=staff_factory("olivia"),
        admin=staff_factory("adam"),
        viewer=staff_factory("vera"),
        other_owner=staff_factory("oscar"),
        superuser=staff_factory("root", superuser=True),
        loner=staff_factory("lena"),
    )
    member_factory(app, t.owner, "owner")
    member_factory(app, t.admin, "admin")
    member_factory(app, t.viewer, "viewer")
    member_factory(other_app, t.other_owner, "owner")
    t.config = provider_config_factory(app, "Google", client_secret=PROVIDER_SECRET)
    t.account = account_factory(app, "Google", email="alice@example.com")
    t.failing = account_factory(
        app,
        "Office365",
        email="bob@example.com",
        token_status="needs_reauth",
        last_error="invalid_grant",
    )
    t.other_account = account_factory(other_app, "Google", email="carol@example.com")
    t.event = audit.record(audit.Event.AUTH_FAILED, app=app, reason="access_denied")
    t.other_event = audit.record(audit.Event.AUTH_FAILED, app=other_app, reason="x")
    return t


def form_data(response: Any) -> dict[str, Any]:
    """The POST data a browser would send back for an admin change form, built from the
    forms in the response context (the main form and every inline formset)."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool) or value is None:
                if value:
                    data[key] = "on"
                continue
            if isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif hasattr(value, "read"):
                continue
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


# -- A real browser (Debian Chromium through playwright) ----------------------------------


@pytest.fixture
def screenshots() -> Any:
    """``screenshots(page, name)`` saves a full-page PNG at 1280 px outside the repository
    ($AURINKO_ARTIFACTS/admin, default /tmp/aurinko-screenshots/admin)."""
    import os
    from pathlib import Path

    root = Path(os.environ.get("AURINKO_ARTIFACTS") or "/tmp/aurinko-screenshots") / "admin"
    root.mkdir(parents=True, exist_ok=True)

    def shoot(page: Any, name: str) -> Path:
        path = root / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    shoot.root = root
    return shoot


@pytest.fixture
def sign_in(browser, live_server):
    """``sign_in(username) -> page``: a fresh browser context signed in to the admin through
    the real login form, 1280 px wide."""
    contexts = []

    def make(username: str) -> Any:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, base_url=live_server.url
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/admin/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        # The index by its path: the glob "**/admin/" matches the login page's "?next=/admin/".
        page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")
        return page

    yield make
    for context in contexts:
        context.close()
