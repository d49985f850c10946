"""Office 365: authorization URL, v2.0 token response, Graph /me plus id_token claims."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import responses as responses_lib

from aurinko_auth.providers.base import TERMINAL_APP, TERMINAL_USER, TRANSIENT, ProviderCallError
from aurinko_auth.providers.registry import get_provider
from tests.conftest import RETURN_URL

TOKEN_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
TID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OID = "00000000-0000-0000-66f3-3332eca7ea81"
ID_TOKEN = jwt.encode(
    {
        "aud": "provider-client-id",
        "tid": TID,
        "oid": OID,
        "preferred_username": "ann@contoso.example",
        "name": "Ann",
    },
    "not-verified-here-" + "k" * 32,
    algorithm="HS256",
)
# Shape of a real Microsoft identity platform v2.0 token response.
MS_TOKEN = {
    "token_type": "Bearer",
    "scope": "https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/User.Read "
    "openid profile email",
    "expires_in": 4557,
    "ext_expires_in": 4557,
    "access_token": "EwBwA8l6BAAUexample",
    "refresh_token": "M.C507_BAY.0.U.-example",
    "id_token": ID_TOKEN,
}
GRAPH_ME = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
    "businessPhones": [],
    "displayName": "Ann Example",
    "givenName": "Ann",
    "mail": "ann@contoso.example",
    "userPrincipalName": "ann_contoso.example#EXT#@x.example",
    "id": OID,
}


@pytest.fixture
def mocked():
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def o365():
    return get_provider("Office365")


@pytest.fixture
def config(app_factory, provider_config_factory):
    app, _ = app_factory()
    return provider_config_factory(app, "Office365")


def test_authorization_url(client, config):
    r = client.get(
        "/v1/auth/authorize",
        {
            "clientId": config.app.client_id,
            "serviceType": "office365",
            "scopes": "Mail.Read Calendar.Read",
            "returnUrl": RETURN_URL,
            "state": "s",
        },
    )
    assert r.status_code == 303, r.content
    loc = urlsplit(r["Location"])
    assert (loc.netloc, loc.path) == ("login.microsoftonline.com", "/common/oauth2/v2.0/authorize")
    q = parse_qs(loc.query)
    assert q["code_challenge_method"] == ["S256"] and q["code_challenge"][0]
    assert q["redirect_uri"] == ["http://127.0.0.1:8000/v1/auth/callback"]
    assert set(q["scope"][0].split()) == {
        "openid",
        "email",
        "profile",
        "offline_access",
        "User.Read",
        "Mail.Read",
        "Calendars.Read",
    }
    assert "access_type" not in q


def test_token_and_profile(o365, config, mocked):
    mocked.post(TOKEN_URL, json=MS_TOKEN)
    mocked.get("https://graph.microsoft.com/v1.0/me", json=GRAPH_ME)
    tokens = o365.exchange_code(
        config, code="M.C5_x", redirect_uri="https://b/cb", code_verifier="v" * 50
    )
    assert tokens.access_token == MS_TOKEN["access_token"]
    assert tokens.refresh_token == MS_TOKEN["refresh_token"]
    assert set(tokens.scope) == {"Mail.Read", "User.Read", "openid", "profile", "email"}
    assert tokens.extra.get("ext_expires_in") == 4557
    profile = o365.fetch_profile(config, tokens)
    assert profile.auth_user_id == OID
    assert profile.auth_org_id == TID
    assert profile.email == "ann@contoso.example"
    assert profile.name == "Ann Example"


def test_profile_from_id_token_when_graph_is_sparse(o365):
    tokens = o365.parse_token(MS_TOKEN)
    profile = o365.parse_profile({}, tokens)
    assert (profile.auth_user_id, profile.auth_org_id, profile.email) == (
        OID,
        TID,
        "ann@contoso.example",
    )


def test_refresh_keeps_old_refresh_token(o365, config, mocked):
    mocked.post(TOKEN_URL, json={k: v for k, v in MS_TOKEN.items() if k != "refresh_token"})
    assert o365.refresh(config, "M.old").refresh_token == "M.old"
    mocked.replace("POST", TOKEN_URL, json=MS_TOKEN)
    assert o365.refresh(config, "M.old").refresh_token == MS_TOKEN["refresh_token"]


@pytest.mark.parametrize(
    "answer,failure",
    [
        (
            {
                "status": 400,
                "json": {
                    "error": "invalid_grant",
                    "error_description": "AADSTS700082: The refresh token has expired due to inactivity.",
                },
            },
            TERMINAL_USER,
        ),
        (
            {
                "status": 400,
                "json": {"error": "interaction_required", "error_description": "AADSTS50076"},
            },
            TERMINAL_USER,
        ),
        (
            {
                "status": 401,
                "json": {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            },
            TERMINAL_APP,
        ),
        ({"status": 503, "json": {"error": "temporarily_unavailable"}}, TRANSIENT),
        ({"body": requests.Timeout()}, TRANSIENT),
    ],
)
def test_error_mapping(o365, config, mocked, answer, failure):
    mocked.post(TOKEN_URL, **answer)
    with pytest.raises(ProviderCallError) as info:
        o365.refresh(config, "M.rt")
    assert info.value.failure == failure
