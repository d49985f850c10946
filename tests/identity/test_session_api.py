"""The session API with identity-token headers instead of a session: no outbound call with the
keys cached, one indexed query for the host identity and its user."""

from __future__ import annotations

import json
import time

import pytest
import responses
from django.test import Client

from aurinko_auth.identity import principals
from aurinko_auth.models import Account, IdentityTrust
from tests.identity.test_bind import addin, addin_sign_in, prepare  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def headers(issuer, app, **claims) -> dict[str, str]:
    return {
        "HTTP_X_AURINKO_AUTHTYPE": "entraIdToken",
        "HTTP_AUTHORIZATION": f"Bearer {issuer.entra(**claims)}",
        "HTTP_X_AURINKO_CLIENTID": app.client_id,
    }


@pytest.fixture
def signed_in(sign_in, addin, issuer):  # noqa: F811
    _, final = addin_sign_in(sign_in, addin, prepare(issuer, addin), sub="o-1")
    assert final.status_code == 303
    return addin


def test_user_and_accounts_with_identity_headers(signed_in, issuer, django_assert_num_queries):
    app = signed_in
    api = Client()  # no cookie, no session
    me = api.get("/v1/user", **headers(issuer, app))
    assert me.status_code == 200, me.content
    body = me.json()
    assert body["trustedIdentity"] is True and body["email"] == "alice@example.com"
    assert "lastActivity" not in body  # no session: nothing records its use
    accounts = api.get("/v1/user/accounts", **headers(issuer, app))
    assert accounts.status_code == 200 and accounts.json()["totalSize"] == 1
    account = Account.objects.get()
    one = api.get("/v1/account", HTTP_X_AURINKO_ACCOUNTID=str(account.pk), **headers(issuer, app))
    assert one.status_code == 200, one.content
    assert one.json()["id"] == account.pk
    # The hot path: keys and trust cached, no outbound call at all, and the identity and its
    # user in one indexed query.
    before = dict(issuer.hits)
    meta = headers(issuer, app)
    with responses.RequestsMock(), django_assert_num_queries(1):  # any HTTP call would fail
        assert principals.principal(meta).user.email == "alice@example.com"
    with responses.RequestsMock():
        assert api.get("/v1/user", **headers(issuer, app)).status_code == 200
    assert issuer.hits == before


def test_identity_refusals_on_the_session_api(signed_in, issuer):
    app = signed_in
    api = Client()
    expired = api.get("/v1/user", **headers(issuer, app, exp=int(time.time()) - 7200))
    assert expired.status_code == 401 and expired.json()["code"] == "identity.expired"
    stranger = api.get("/v1/user", **headers(issuer, app, oid="11111111-0000-0000-0000-0000000000"))
    assert stranger.status_code == 401 and stranger.json()["code"] == "session.required"
    other_audience = api.get("/v1/account", **headers(issuer, app, aud="someone-else"))
    assert other_audience.status_code == 401
    assert other_audience.json()["code"] == "identity.audience"


def test_untrusting_takes_effect_at_once(signed_in, issuer):
    app = signed_in
    api = Client()
    assert api.get("/v1/user", **headers(issuer, app)).status_code == 200
    IdentityTrust.objects.filter(app=app).get().delete()
    refused = api.get("/v1/user", **headers(issuer, app))
    assert refused.status_code == 401 and refused.json()["code"] == "identity.untrusted"


def test_logout_with_identity_headers_answers_ok(signed_in, issuer):
    response = Client().post("/v1/user/logout", **headers(issuer, signed_in))
    assert response.status_code == 200, response.content


def test_direct_api_with_identity_headers(signed_in, issuer):
    account = Account.objects.get()
    meta = headers(issuer, signed_in)
    with responses.RequestsMock() as mocked:
        mocked.get("https://graph.microsoft.com/v1.0/me", json={"id": "o-1"})
        response = Client().get("/v1/direct/me", HTTP_X_AURINKO_ACCOUNTID=str(account.pk), **meta)
        assert response.status_code == 200
        assert json.loads(b"".join(response.streaming_content)) == {"id": "o-1"}
        assert mocked.calls[0].request.headers["Authorization"] == "Bearer eyJ.o-1"
