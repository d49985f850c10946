"""GET /v1/user/accounts and /v1/user/accounts/{id}, DELETE of the primary (Aurinko's
getEndUserAccounts, getEndUserAccount, logoutAccount), against Aurinko's contract."""

from __future__ import annotations

import pytest
from django.test import Client

from aurinko_auth.models import Account, UserSession
from tests.contract.conformance import validate
from tests.user.conftest import APP_ORIGIN

pytestmark = pytest.mark.django_db


def test_accounts_page_by_cookie_and_header(signed_in, conforms):
    app, user, token, browser = signed_in(accounts=2)
    page = conforms(browser.get("/v1/user/accounts"))
    assert conforms(Client().get("/v1/user/accounts", HTTP_X_AURINKO_SESSION=token)) == page
    assert [a["userAccountType"] for a in page["records"]] == ["primary", "secondary", "secondary"]
    assert [a["type"] for a in page["records"]] == ["primary", "secondary", "secondary"]
    assert page["records"][0]["id"] == user.accounts.get(account_type="primary").pk
    assert (page["length"], page["totalSize"], page["offset"], page["done"]) == (3, 3, 0, True)
    assert "nextPageToken" not in page


def test_v1_user_accounts_carry_user_account_type(signed_in):
    app, user, token, browser = signed_in(accounts=1)
    body = browser.get("/v1/user").json()
    assert [validate("EndUserAccountDto", a) for a in body["accounts"]] == [[], []]
    assert [(a["type"], a["userAccountType"]) for a in body["accounts"]] == [
        ("primary", "primary"),
        ("secondary", "secondary"),
    ]


def test_accounts_page_needs_a_session(signed_in, conforms):
    signed_in()
    response = Client().get("/v1/user/accounts")
    assert response.status_code == 401
    assert conforms(response)["code"] == "auth.required"


@pytest.mark.parametrize("accounts", [1, 20])
def test_accounts_page_costs_constant_queries(signed_in, accounts, django_assert_num_queries):
    app, user, token, browser = signed_in(accounts=accounts)
    browser.get("/v1/user/accounts")  # warm caches (content types, cookie name pattern)
    # The session lookup, then the user's accounts in one query: no query per account.
    with django_assert_num_queries(2) as queries:
        response = browser.get("/v1/user/accounts")
    assert len(response.json()["records"]) == accounts + 1
    assert "credentials" not in " ".join(q["sql"] for q in queries.captured_queries)


def test_one_account_of_the_user(signed_in, conforms):
    app, user, token, browser = signed_in(accounts=1)
    for account in user.accounts.all():
        body = conforms(browser.get(f"/v1/user/accounts/{account.pk}"))
        assert body["id"] == account.pk
        assert body["userAccountType"] == body["type"] == account.account_type


def test_account_of_another_user_or_app_is_404(
    signed_in, app_factory, user_factory, account_factory, conforms
):
    app, user, token, browser = signed_in()
    other_user = user_factory(app, accounts=1)
    unlinked = account_factory(app, "Google")
    other_app, _ = app_factory(name="Other")
    foreign = user_factory(other_app)
    for account in [*other_user.accounts.all(), unlinked, *foreign.accounts.all()]:
        for method in (browser.get, browser.delete):
            response = method(f"/v1/user/accounts/{account.pk}", HTTP_ORIGIN=APP_ORIGIN)
            assert response.status_code == 404, response.content
            conforms(response)
    for raw in ("abc", "1" * 30, "-1"):
        response = browser.get(f"/v1/user/accounts/{raw}")
        assert response.status_code == 404
        assert set(response.json()) >= {"code", "message"}
    assert Account.objects.count() == 6


def test_deleting_the_primary_account_logs_out(signed_in, conforms):
    app, user, token, browser = signed_in(accounts=1)
    primary = user.accounts.get(account_type="primary")
    response = browser.delete(f"/v1/user/accounts/{primary.pk}", HTTP_ORIGIN=APP_ORIGIN)
    assert conforms(response) == {"status": "Ok"}
    assert response.cookies[next(iter(response.cookies))].value == ""
    assert UserSession.objects.get().revoked_at is not None
    # The sign-in identity stays (a new sign-in finds it); the session does not.
    assert Account.objects.filter(pk=primary.pk).exists()
    assert Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token).status_code == 401


def test_deleting_the_primary_by_header_logs_out(signed_in, conforms):
    app, user, token, browser = signed_in()
    primary = user.accounts.get(account_type="primary")
    response = Client().delete(f"/v1/user/accounts/{primary.pk}", HTTP_X_AURINKO_SESSION=token)
    assert conforms(response) == {"status": "Ok"}
    assert Client().get("/v1/user/accounts", HTTP_X_AURINKO_SESSION=token).status_code == 401


def test_unlinking_a_secondary_answers_ok(signed_in, conforms):
    app, user, token, browser = signed_in(accounts=2)
    secondary = user.accounts.filter(account_type="secondary").first()
    response = browser.delete(f"/v1/user/accounts/{secondary.pk}", HTTP_ORIGIN=APP_ORIGIN)
    assert conforms(response) == {"status": "Ok"}
    assert not Account.objects.filter(pk=secondary.pk).exists()
    assert conforms(browser.get("/v1/user/accounts"))["totalSize"] == 2


def test_copy_as_managed_is_refused_clearly(signed_in, user_factory, conforms):
    app, user, token, browser = signed_in(accounts=1)
    secondary = user.accounts.get(account_type="secondary")
    response = Client().post(
        f"/v1/user/accounts/{secondary.pk}/managed?clientOrgId=t1", HTTP_X_AURINKO_SESSION=token
    )
    assert response.status_code == 400
    assert conforms(response)["code"] == "account.copy_unsupported"
    assert "/v1/am/svc_accounts/{accId}/accounts" in response.json()["message"]
    assert Account.objects.filter(app=app).count() == 2  # nothing copied
    other = user_factory(app).accounts.get()
    foreign = Client().post(f"/v1/user/accounts/{other.pk}/managed", HTTP_X_AURINKO_SESSION=token)
    assert foreign.status_code == 404
    assert Client().post(f"/v1/user/accounts/{secondary.pk}/managed").status_code == 401


def test_user_settings_are_refused_clearly(signed_in, conforms):
    app, user, token, browser = signed_in()
    body = {"workHours": {"timezone": "Europe/Helsinki", "daySchedules": []}}
    response = Client().patch(
        "/v1/user/settings", body, content_type="application/json", HTTP_X_AURINKO_SESSION=token
    )
    assert response.status_code == 400
    assert conforms(response)["code"] == "user.settings_unsupported"
    unauthenticated = Client().patch("/v1/user/settings", body, content_type="application/json")
    assert unauthenticated.status_code == 401
    assert Client().get("/v1/user/settings", HTTP_X_AURINKO_SESSION=token).status_code == 405
