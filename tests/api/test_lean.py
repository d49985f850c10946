"""The lean ``GET /v1/account`` (api/lean.py) answers exactly what the DRF view answers, and
hands every other case to it without a second token lookup."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import RequestFactory
from django.urls import resolve

from aurinko_auth.api.lean import JSON_COLUMNS, lean_account_view
from aurinko_auth.api.serializers import account_json
from aurinko_auth.api.views import AccountView
from aurinko_auth.hotpath import tokens
from aurinko_auth.models import Account
from tests.lean_compare import assert_same, call_both

ORIGIN = "https://app.example.com"  # the origin of tests.conftest.RETURN_URL


@pytest.fixture
def both(rf: RequestFactory):
    """``both(**headers) -> (lean response, DRF response)`` for one GET /v1/account."""
    lean, drf = lean_account_view(AccountView), AccountView.as_view()

    def call(method: str = "get", **headers: str):
        return call_both(lean, drf, lambda: getattr(rf, method)("/v1/account", **headers))

    return call


@pytest.mark.parametrize("origin", [None, ORIGIN, "https://evil.example.com"])
def test_lean_response_is_the_drf_response(both, app_with_account, origin):
    _, _, account, token, _ = app_with_account
    Account.objects.filter(pk=account.pk).update(
        name="Ünïcode \u2028 name", daemon=False, requested_scopes=["Mail.Read", "Mail.Send"]
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if origin:
        headers["HTTP_ORIGIN"] = origin
    lean, drf = both(**headers)
    assert lean.status_code == 200 and json.loads(lean.content)["id"] == account.pk
    assert json.loads(lean.content)["missingScopes"] == ["Mail.Send"]
    assert type(lean).__module__.startswith("django.")  # the lean path answered
    assert_same(lean, drf)
    if origin == ORIGIN:
        assert lean["Access-Control-Allow-Origin"] == ORIGIN


def test_lean_response_with_the_cache(both, app_with_account, settings):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "AUTH_CACHE": "default"}
    caches["default"].clear()
    try:
        token = app_with_account[3]
        first = both(HTTP_AUTHORIZATION=f"Bearer {token}")
        warm = both(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_same(*first)
        assert_same(*warm)
        assert first[0].content == warm[0].content
    finally:
        caches["default"].clear()


@pytest.mark.parametrize(
    "header", ["Bearer aat_unknown", "Bearer garbage", "Basic Zm9vOmJhcg==", None]
)
def test_failures_are_the_drf_failures(both, app_with_account, header):
    lean, drf = both(**({"HTTP_AUTHORIZATION": header} if header else {}))
    assert lean.status_code == 401
    assert_same(lean, drf)


def test_disabled_app_and_inactive_account(both, app_with_account):
    app, _, account, token, _ = app_with_account
    Account.objects.filter(pk=account.pk).update(active=False)
    lean, drf = both(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert lean.status_code == 200 and json.loads(lean.content)["active"] is False
    assert_same(lean, drf)
    app.active = False
    app.save()
    lean, drf = both(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert lean.status_code == 401 and json.loads(lean.content)["code"] == "client.inactive"
    assert_same(lean, drf)


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_X_AURINKO_ACCOUNTID": "999999"},  # not the token's account: 404 from the DRF view
        {"HTTP_X_AURINKO_MAILBOX": "someone@example.com"},  # not a daemon account: 400
    ],
)
def test_other_cases_go_to_drf_with_one_query(
    client, app_with_account, extra, django_assert_num_queries
):
    token = app_with_account[3]
    with django_assert_num_queries(1):
        response = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)
    assert response.status_code in (400, 404)
    assert set(response.json()) == {"code", "message", "requestId"}


def test_failed_token_costs_one_query(client, app_with_account, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/v1/account", HTTP_AUTHORIZATION="Bearer aat_unknown")
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="aurinko"'


def test_route_still_looks_like_the_drf_view():
    func = resolve("/v1/account").func
    assert func.cls is AccountView and func.csrf_exempt is True


def test_preflight_and_delete_still_work(client, app_with_account):
    token = app_with_account[3]
    preflight = client.options(
        "/v1/account", HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert client.delete("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_body_columns_are_all_account_json_reads(app_with_account, django_assert_num_queries):
    _, _, account, token, _ = app_with_account
    with django_assert_num_queries(1):
        db, row, _ = tokens.token_entry(token, columns=JSON_COLUMNS)
        narrow = tokens.principal_from_row(db, row, JSON_COLUMNS).account
        body = account_json(narrow)  # a deferred field would cost a query here
    assert body == account_json(Account.objects.select_related("app").get(pk=account.pk))


def test_lean_path_is_one_query_without_the_cache(
    client, app_with_account, django_assert_num_queries
):
    token = app_with_account[3]
    with django_assert_num_queries(1):
        response = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["id"] == app_with_account[2].pk
