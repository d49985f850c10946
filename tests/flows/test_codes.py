"""One-time codes: single use, expiry, bound to the app, concurrent redemption."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from aurinko_auth.models import AccountToken, AuthCode
from tests.flows.conftest import basic, query


@pytest.fixture
def issued(client, start, google_ok, google_app):
    google_ok()
    state = start()
    return query(client.get("/v1/auth/callback", {"state": state, "code": "4/x"}))["code"]


def redeem(client, code, auth):
    return client.post(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=auth)


def test_code_is_single_use(client, issued, google_app):
    app, secret = google_app
    assert issued.startswith("acd_")
    assert not AuthCode.objects.filter(code_hash=issued).exists()  # stored hashed
    r = redeem(client, issued, basic(app.client_id, secret))
    assert r.status_code == 200 and r.json()["accessToken"].startswith("aat_")
    r = redeem(client, issued, basic(app.client_id, secret))
    assert r.status_code == 400 and r.json()["code"] == "code.invalid"
    assert AccountToken.objects.count() == 1


def test_expired_code(client, issued, google_app):
    app, secret = google_app
    AuthCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = redeem(client, issued, basic(app.client_id, secret))
    assert r.status_code == 400 and r.json()["code"] == "code.invalid"


def test_other_apps_credentials(client, issued, google_app, app_factory):
    other, other_secret = app_factory(name="Other")
    r = redeem(client, issued, basic(other.client_id, other_secret))
    assert r.status_code == 400 and r.json()["code"] == "code.invalid"
    app, secret = google_app
    assert redeem(client, issued, basic(app.client_id, secret)).status_code == 200


def test_wrong_secret_keeps_code_usable(client, issued, google_app):
    app, secret = google_app
    r = redeem(client, issued, basic(app.client_id, "acs_wrong"))
    assert r.status_code == 401 and r.json()["code"] == "client.invalid"
    assert "WWW-Authenticate" in r
    assert redeem(client, issued, basic(app.client_id, secret)).status_code == 200


@pytest.mark.parametrize("code", ["garbage", "acd_" + "x" * 300, "acd_unknown"])
def test_bad_codes(client, google_app, code):
    app, secret = google_app
    r = redeem(client, code, basic(app.client_id, secret))
    assert r.status_code == 400 and r.json()["code"] == "code.invalid"


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemption_exactly_one_wins(app_factory, account_factory):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers with a database lock that makes concurrent "
                    "threads fail with 'database is locked'; this runs on PostgreSQL.")
    app, secret = app_factory()
    account = account_factory(app)
    code = AuthCode.issue(app, account, 120)
    auth = basic(app.client_id, secret)
    barrier = threading.Barrier(8)
    results: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(Client().post(f"/v1/auth/token/{code}",
                                         HTTP_AUTHORIZATION=auth).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [400] * 7
    assert AccountToken.objects.filter(account=account).count() == 1
