"""``EndUserDto.lastActivity`` of ``GET /v1/user``: the session's last recorded use, this
request included (usersessions.touch writes it at most once per SESSION_TOUCH_INTERVAL). The
rest of the body is cached (per user in the DRF view, per session in the lean one, with this
process's cache); lastActivity is added per request, so it is never the cached copy's, and the
request still costs one query (none with the cache warm)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from aurinko_auth import usersessions
from aurinko_auth.api.lean import lean_user_view
from aurinko_auth.api.user_views import UserView
from aurinko_auth.models import UserSession
from tests.lean_compare import assert_same, call_both

pytestmark = pytest.mark.django_db


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_last_activity_is_this_sessions_last_recorded_use(signed_in, conforms):
    app, user, token, browser = signed_in()
    earlier = timezone.now() - timedelta(minutes=5)
    UserSession.objects.update(last_used_at=earlier)
    before = timezone.now()
    body = conforms(browser.get("/v1/user"))  # Aurinko's EndUserDto, a date-time
    recorded = UserSession.objects.get().last_used_at
    assert recorded >= before  # this request was recorded...
    assert before - timedelta(milliseconds=1) <= when(body["lastActivity"]) <= timezone.now()
    # ...and shown, to the millisecond, by the cookie and by the header
    header = Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token).json()
    assert header["lastActivity"] == body["lastActivity"]
    assert list(body)[-1] == "lastActivity"


def test_within_the_touch_interval_it_stays(signed_in, django_assert_num_queries):
    app, user, token, browser = signed_in()
    first = browser.get("/v1/user").json()["lastActivity"]
    with django_assert_num_queries(1):  # no write: used less than a minute ago
        again = browser.get("/v1/user").json()["lastActivity"]
    assert again == first


def test_lean_and_drf_agree_byte_for_byte(signed_in, rf: RequestFactory):
    app, user, token, _ = signed_in(accounts=2)
    UserSession.objects.update(last_used_at=timezone.now() - timedelta(minutes=5))

    def request():
        return rf.get("/v1/user", HTTP_X_AURINKO_SESSION=token)

    lean, drf = call_both(lean_user_view(UserView), UserView.as_view(), request)
    assert_same(lean, drf)
    assert "lastActivity" in json.loads(lean.content)


def test_the_cached_body_never_shows_a_stale_last_activity(
    signed_in, settings, django_assert_num_queries, monkeypatch
):
    from django.conf import settings as django_settings

    from aurinko_auth.hotpath import channel

    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "AUTH_LOCAL_CACHE": "redis://127.0.0.1:6379/8",
    }
    cache = channel.local_cache()
    try:
        assert channel._state["listener"].connected.wait(10) and cache.listening
        app, user, token, _ = signed_in()
        view = lean_user_view(UserView)

        def get():
            return json.loads(
                view(RequestFactory().get("/v1/user", HTTP_X_AURINKO_SESSION=token)).content
            )

        first = get()["lastActivity"]
        with django_assert_num_queries(0):  # the body and the session from this process's cache
            assert get()["lastActivity"] == first
        # Two minutes on: the session's use is written again, and shown, though the cached
        # entry held the old time.
        later = timezone.now() + timedelta(minutes=2)
        monkeypatch.setattr(usersessions.timezone, "now", lambda: later)
        with django_assert_num_queries(1):  # the UPDATE of last_used_at, nothing else
            body = get()
        assert when(body["lastActivity"]) == later.replace(
            microsecond=later.microsecond // 1000 * 1000
        )
        assert UserSession.objects.get().last_used_at == later
    finally:
        channel.stop()
