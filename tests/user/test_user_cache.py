"""GET /v1/user and the session lookup on the per-process cache (AUTH_LOCAL_CACHE): no query
warm; a revoked session, an unlinked or linked account, a changed user are seen at once."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from aurinko_auth import usersessions
from aurinko_auth.hotpath import channel, sessions
from aurinko_auth.models import Account


@pytest.fixture
def local(settings):
    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "AUTH_LOCAL_CACHE": "redis://127.0.0.1:6379/8",
    }
    cache = channel.local_cache()
    # The listener empties the cache when it connects (it cannot know what it missed): wait
    # for it, or an entry cached just before would be dropped under a warm measurement.
    assert channel._state["listener"].connected.wait(10) and cache.listening
    yield cache
    channel.stop()


@pytest.mark.parametrize("accounts", [1, 20])
def test_v1_user_warm_costs_no_query(local, signed_in, accounts, django_assert_num_queries):
    app, user, token, browser = signed_in(accounts=accounts)
    with django_assert_num_queries(1):  # cold: the session -> user -> app and the accounts
        cold = browser.get("/v1/user")
    with django_assert_num_queries(0):
        warm = browser.get("/v1/user")
    assert warm.status_code == 200 and warm.json() == cold.json()
    assert len(warm.json()["accounts"]) == accounts + 1


def test_session_lookup_warm_costs_no_query(local, signed_in, django_assert_num_queries):
    app, user, token, browser = signed_in()
    with django_assert_num_queries(1):
        sessions.user_from_session(header=token, cookies={}, origin=None)
    with django_assert_num_queries(0):
        principal = sessions.user_from_session(header=token, cookies={}, origin=None)
    assert principal.user.pk == user.pk


def test_revoked_session_and_account_changes_show_at_once(
    local, signed_in, account_factory, django_capture_on_commit_callbacks
):
    app, user, token, browser = signed_in(accounts=1)
    assert len(browser.get("/v1/user").json()["accounts"]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        account_factory(app, user=user, account_type=Account.Type.SECONDARY, email="new@x.io")
    assert len(browser.get("/v1/user").json()["accounts"]) == 3
    secondary = Account.objects.filter(user=user, email="new@x.io").get()
    with django_capture_on_commit_callbacks(execute=True):
        secondary.delete()
    assert len(browser.get("/v1/user").json()["accounts"]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        user.email = "renamed@example.com"
        user.save()
    assert browser.get("/v1/user").json()["email"] == "renamed@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        usersessions.revoke(usersessions.find([token])[0])
    response = browser.get("/v1/user")
    assert response.status_code == 401 and response.json()["code"] == "session.revoked"


def test_revoked_grant_shows_at_once(local, signed_in, django_capture_on_commit_callbacks):
    """accounts.revoke_grant (the admin's action, DELETE /v1/account/token...) marks the
    account revoked: the user's cached account list follows on commit."""
    from aurinko_auth import accounts

    app, user, token, browser = signed_in(accounts=1)
    secondary = Account.objects.filter(user=user, account_type=Account.Type.SECONDARY).get()
    listed = {a["id"]: a for a in browser.get("/v1/user").json()["accounts"]}
    assert listed[secondary.pk]["tokenStatus"] == "active"
    with django_capture_on_commit_callbacks(execute=True):
        accounts.revoke_grant(secondary)
    listed = {a["id"]: a for a in browser.get("/v1/user").json()["accounts"]}
    assert (
        listed[secondary.pk]["tokenStatus"]
        == Account.objects.get(pk=secondary.pk).public_token_status
    )
    assert listed[secondary.pk]["tokenStatus"] != "active"
