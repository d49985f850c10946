"""Per-app session policy (issue 16, AURINKO-COMPAT "Session policy"): seed 004's "signed in
until the user logs out" means an app may raise its sessions' lifetime and idle timeout above
the deployment's defaults (or lower them), in the admin or with ``aurinko_app cookie``."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from aurinko_auth import usersessions
from aurinko_auth.models import UserSession
from aurinko_auth.models.apps import SESSION_MAX_SECONDS

YEAR = 365 * 24 * 3600


@pytest.fixture
def google_app(app_factory, provider_config_factory):
    app, _secret = app_factory(scopes="Mail.Read")
    provider_config_factory(app, "Google")
    return app


def test_the_apps_lifetimes_make_the_session_and_its_cookie(google_app, sign_in, settings):
    google_app.session_lifetime, google_app.session_idle_timeout = 5 * YEAR, 90 * 24 * 3600
    google_app.save()
    _, final = sign_in(google_app)
    session = UserSession.objects.get()
    lifetime = session.expires_at - session.created_at
    assert abs(lifetime - timedelta(seconds=5 * YEAR)) < timedelta(minutes=1)
    assert session.idle_timeout == 90 * 24 * 3600
    cookie = final.cookies[usersessions.cookie_name(google_app.pk)]
    assert int(cookie["max-age"]) == 5 * YEAR
    # Still signed in after 30 days without use (the deployment's default idle is 14 days).
    UserSession.objects.update(last_used_at=timezone.now() - timedelta(days=30))
    reader = Client()
    reader.cookies[cookie.key] = cookie.value
    assert reader.get("/v1/user").status_code == 200


def test_without_its_own_lifetimes_an_app_has_the_deployments(google_app, sign_in, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "SESSION_LIFETIME": 7200}
    settings.AURINKO_AUTH["SESSION_IDLE_TIMEOUT"] = 600
    _, final = sign_in(google_app)
    session = UserSession.objects.get()
    assert session.idle_timeout == 600
    assert int(final.cookies[usersessions.cookie_name(google_app.pk)]["max-age"]) == 7200


def run_cookie(*args: str) -> dict:
    out = StringIO()
    call_command("aurinko_app", "cookie", *args, stdout=out)
    return json.loads(out.getvalue())


def test_aurinko_app_cookie_sets_and_resets_the_lifetimes(app_factory, settings):
    app, _ = app_factory()
    shown = run_cookie(app.client_id, "--session-lifetime", str(2 * YEAR), "--idle-timeout", "3600")
    assert shown["sessionLifetime"] == 2 * YEAR and shown["sessionIdleTimeout"] == 3600
    app.refresh_from_db()
    assert (app.session_lifetime, app.session_idle_timeout) == (2 * YEAR, 3600)
    shown = run_cookie(app.client_id, "--session-lifetime", "0")
    assert shown["sessionLifetime"] == settings.AURINKO_AUTH.get("SESSION_LIFETIME", 60 * 86400)
    assert shown["sessionIdleTimeout"] == 3600  # left as it was


@pytest.mark.parametrize("value", ["10", str(SESSION_MAX_SECONDS + 1)])
def test_lifetimes_out_of_range_are_refused_and_nothing_changes(app_factory, value):
    app, _ = app_factory()
    with pytest.raises(CommandError, match="session_lifetime"):
        run_cookie(app.client_id, "--session-lifetime", value, "--partitioned")
    app.refresh_from_db()
    assert app.session_lifetime is None and not app.cookie_partitioned
