"""``POST /v1/auth/prepare``: a verified identity token becomes a single-use prepared sign-in."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.exceptions import IdentityRefused
from aurinko_auth.identity import prepared
from aurinko_auth.models import PreparedAuth
from tests.identity.issuer import TENANT

pytestmark = pytest.mark.django_db
URL = "/v1/auth/prepare"


def post(client, token, client_id, auth_type="entraIdToken", header="HTTP_X_AURINKO_AUTHTYPE"):
    extra = {header: auth_type, "HTTP_X_AURINKO_CLIENTID": client_id}
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(URL, **extra)


def test_prepare_answers_a_token_and_stores_only_its_hash(client, trust_factory, issuer, conforms):
    trust = trust_factory("entraIdToken")
    response = post(client, issuer.entra(), trust.app.client_id)
    assert response.status_code == 200, response.content
    conforms(response)  # Aurinko's PreparedAuthToken
    token = response.json()["token"]
    assert set(response.json()) == {"token"}
    stored = PreparedAuth.objects.get()
    assert stored.token_hash == crypto.hash_token(token) and token not in str(stored.__dict__)
    assert stored.subject == f"{TENANT}:00000000-0000-0000-66f3-3332eca7ea81"
    assert stored.app == trust.app and stored.token_type == "entraIdToken"
    assert timezone.now() < stored.expires_at <= timezone.now() + prepared.TTL


@pytest.mark.parametrize("token_type", ["googleIdToken", "exchangeIdToken"])
def test_prepare_takes_every_type_and_the_dashed_header(client, trust_factory, issuer, token_type):
    trust = trust_factory(token_type)
    token = issuer.google() if token_type == "googleIdToken" else issuer.exchange()
    response = post(client, token, trust.app.client_id, token_type, "HTTP_X_AURINKO_AUTH_TYPE")
    assert response.status_code == 200, response.content
    assert PreparedAuth.objects.get().token_type == token_type


def test_prepare_refusals_are_401_json_and_create_nothing(client, trust_factory, issuer):
    trust = trust_factory("entraIdToken")
    other = trust_factory("entraIdToken", audiences=["other-app"])
    cases = [
        (
            post(client, issuer.entra(exp=int(time.time()) - 7200), trust.app.client_id),
            "identity.expired",
        ),
        (post(client, issuer.entra(), other.app.client_id), "identity.audience"),
        (post(client, issuer.entra(), trust.app.client_id, "googleIdToken"), "identity.untrusted"),
        (post(client, issuer.entra(), trust.app.client_id, "madeUpToken"), "identity.untrusted"),
        (post(client, issuer.entra(), "no-such-client"), "identity.untrusted"),
        (post(client, None, trust.app.client_id), "identity.malformed"),
        (post(client, "x" * 20000, trust.app.client_id), "identity.too_large"),
        (client.post(URL), "identity.untrusted"),
    ]
    for response, code in cases:
        assert response.status_code == 401, response.content
        body = response.json()
        assert body["code"] == code and body["message"], body
        assert set(body) <= {"code", "message", "requestId"}
    assert PreparedAuth.objects.count() == 0
    trust.app.active = False
    trust.app.save()
    response = post(client, issuer.entra(), trust.app.client_id)
    assert response.json()["code"] == "identity.untrusted"


def test_unreachable_keys_fail_closed_with_503(client, trust_factory, issuer):
    trust = trust_factory("entraIdToken", jwks_url="http://127.0.0.1:9/keys")
    response = post(client, issuer.entra(), trust.app.client_id)
    assert response.status_code == 503
    assert response.json()["code"] == "identity.keys_unavailable"
    assert PreparedAuth.objects.count() == 0


def test_prepared_token_is_single_use_and_bound_to_its_app(
    client, trust_factory, issuer, app_factory
):
    trust = trust_factory("entraIdToken")
    token = post(client, issuer.entra(), trust.app.client_id).json()["token"]
    stranger, _ = app_factory(name="Other")

    def refused(app, value) -> str:
        with pytest.raises(IdentityRefused) as caught:
            prepared.claim(app, value)
        return str(caught.value.code)

    assert refused(stranger, token) == "identity.prepared_invalid"  # another app's
    assert prepared.claim(trust.app, token).subject.startswith(TENANT)
    assert refused(trust.app, token) == "identity.prepared_invalid"  # replayed
    late = post(client, issuer.entra(), trust.app.client_id).json()["token"]
    PreparedAuth.objects.filter(token_hash=crypto.hash_token(late)).update(
        expires_at=timezone.now()
    )
    assert refused(trust.app, late) == "identity.prepared_invalid"  # expired
    assert refused(trust.app, "aprep_" + "x" * 200) == "identity.prepared_invalid"


def test_cors_preflight_allows_the_identity_headers(client, trust_factory):
    trust_factory("entraIdToken")  # its app's return URL is on https://app.example.com
    response = client.options(
        URL,
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-aurinko-authtype",
    )
    assert "X-Aurinko-AuthType" in response.get("Access-Control-Allow-Headers", "")


def test_refusals_are_rate_limited_per_client_ip(client, trust_factory, issuer, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "IDENTITY_FAILURE_RATE_IP": "2/m"}
    trust = trust_factory("entraIdToken")
    assert post(client, issuer.entra(), trust.app.client_id).status_code == 200  # not counted
    for _ in range(2):
        assert post(client, issuer.entra(aud="x"), trust.app.client_id).status_code == 401
    limited = post(client, issuer.entra(), trust.app.client_id)
    assert limited.status_code == 429 and limited.json()["code"] == "rate.limited"
    assert "Retry-After" in limited
    other_ip = client.post(
        URL,
        HTTP_X_AURINKO_AUTHTYPE="entraIdToken",
        HTTP_AUTHORIZATION=f"Bearer {issuer.entra()}",
        HTTP_X_AURINKO_CLIENTID=trust.app.client_id,
        REMOTE_ADDR="198.51.100.7",
    )
    assert other_ip.status_code == 200
