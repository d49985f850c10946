"""Google and Office 365: scope mapping, token and profile parsing from recorded response
shapes, refresh, and error classification."""

from __future__ import annotations

from unittest import mock

import jwt
import pytest
import requests
import responses

from aurinko_auth.exceptions import UnsupportedScope
from aurinko_auth.models import ProviderConfig
from aurinko_auth.providers.base import (
    CONFIG,
    TERMINAL_APP,
    TERMINAL_USER,
    TRANSIENT,
    ProviderCallError,
)
from aurinko_auth.providers.google import GoogleProvider
from aurinko_auth.providers.office365 import Office365Provider
from aurinko_auth.scopes import UNIFIED_SCOPES
from aurinko_auth.security import netguard

MS_TOKEN = "https://login.microsoftonline.com/common/oauth2/v2.0/token"


def config(**kw) -> ProviderConfig:
    kw.setdefault("client_id", "cid")
    kw.setdefault("client_secret", "csecret")
    return ProviderConfig(service_type="x", **kw)


@pytest.mark.parametrize("provider", [GoogleProvider(), Office365Provider()])
def test_every_unified_scope_is_mapped(provider):
    native = provider.native_scopes(list(UNIFIED_SCOPES))
    assert native and all(isinstance(s, str) for s in native)
    assert provider.unified_scopes(native) == list(UNIFIED_SCOPES)


def test_unknown_unified_scope_is_unsupported():
    with pytest.raises(UnsupportedScope):
        GoogleProvider().native_scopes(["Files.Read"])


def test_office365_profile_from_graph_me_and_id_token():
    claims = {
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "preferred_username": "AdeleV@contoso.onmicrosoft.com",
        "name": "Adele Vance",
    }
    id_token = jwt.encode(claims, "signature-not-checked-by-the-broker-32b", algorithm="HS256")
    provider = Office365Provider()
    # Recorded shape of a Microsoft identity platform v2.0 token response.
    tokens = provider.parse_token(
        {
            "token_type": "Bearer",
            "scope": "https://graph.microsoft.com/Mail.Read "
            "https://graph.microsoft.com/User.Read openid profile email",
            "expires_in": 4292,
            "ext_expires_in": 4292,
            "access_token": "eyJ0eXAi-access",
            "refresh_token": "0.AR8A-rt",
            "id_token": id_token,
        }
    )
    assert tokens.scope == ["Mail.Read", "User.Read", "openid", "profile", "email"]
    assert tokens.refresh_token == "0.AR8A-rt" and tokens.expires_at is not None
    # Recorded shape of GET https://graph.microsoft.com/v1.0/me.
    profile = provider.parse_profile(
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
            "businessPhones": ["+1 425 555 0109"],
            "displayName": "Adele Vance",
            "givenName": "Adele",
            "jobTitle": "Retail Manager",
            "mail": "AdeleV@contoso.onmicrosoft.com",
            "mobilePhone": None,
            "officeLocation": "18/2111",
            "preferredLanguage": "en-US",
            "surname": "Vance",
            "userPrincipalName": "AdeleV@contoso.onmicrosoft.com",
            "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
        },
        tokens,
    )
    assert profile.auth_user_id == "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
    assert profile.email == "AdeleV@contoso.onmicrosoft.com"
    assert profile.name == "Adele Vance"
    assert profile.auth_org_id == "72f988bf-86f1-41af-91ab-2d7cd011db47"


def test_office365_tenant_fills_endpoints():
    provider = Office365Provider()
    assert provider.endpoint("token", config()) == MS_TOKEN
    assert provider.endpoint("token", config(tenant="contoso.com")).startswith(
        "https://login.microsoftonline.com/contoso.com/"
    )
    assert not provider.has_endpoint("revoke", config())


def test_office365_authorize_url():
    url = Office365Provider().authorization_url(
        config(),
        state="ast_1",
        redirect_uri="https://b.example.com/v1/auth/callback",
        scopes=["Mail.Read"],
        code_challenge="c" * 43,
        select_account=True,
        login_hint="a@contoso.com",
    )
    assert url.startswith("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?")
    assert "offline_access" in url and "prompt=select_account" in url
    assert "login_hint=a%40contoso.com" in url and "code_challenge_method=S256" in url


@responses.activate
def test_refresh_keeps_refresh_token_when_absent_and_takes_a_rotated_one():
    provider = Office365Provider()
    responses.post(
        MS_TOKEN, json={"token_type": "Bearer", "access_token": "new-at", "expires_in": 3600}
    )
    assert provider.refresh(config(), "old-rt").refresh_token == "old-rt"
    responses.replace(
        responses.POST,
        MS_TOKEN,
        json={
            "token_type": "Bearer",
            "access_token": "new-at",
            "expires_in": 3600,
            "refresh_token": "rotated-rt",
        },
    )
    assert provider.refresh(config(), "old-rt").refresh_token == "rotated-rt"
    assert "client_secret=csecret" in responses.calls[-1].request.body


@responses.activate
@pytest.mark.parametrize(
    ("mock", "failure", "code"),
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
            "invalid_grant",
        ),
        (
            {
                "status": 401,
                "json": {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000222: The provided client secret keys are expired.",
                },
            },
            TERMINAL_APP,
            "invalid_client",
        ),
        (
            {
                "status": 400,
                "json": {
                    "error": "invalid_request",
                    "error_description": "AADSTS90002: Tenant not found.",
                },
            },
            CONFIG,
            "invalid_request",
        ),
        ({"status": 503, "body": "busy"}, TRANSIENT, "provider.unavailable"),
        (
            {"status": 429, "body": "slow down", "headers": {"Retry-After": "30"}},
            TRANSIENT,
            "provider.unavailable",
        ),
        ({"body": requests.ConnectTimeout()}, TRANSIENT, "provider.timeout"),
    ],
)
def test_refresh_errors_are_classified(mock, failure, code):
    responses.post(MS_TOKEN, **mock)
    with pytest.raises(ProviderCallError) as raised:
        Office365Provider().refresh(config(), "rt")
    assert raised.value.failure == failure
    assert raised.value.code == code
    assert "rt" not in raised.value.message.split()  # no token in messages


def test_google_profile_parsing():
    profile = GoogleProvider().parse_profile(
        {
            "sub": "1101",
            "email": "a@example.com",
            "name": "A",
            "hd": "example.com",
            "email_verified": True,
        },
        GoogleProvider().parse_token({"access_token": "x"}),
    )
    assert (profile.auth_user_id, profile.email, profile.auth_org_id) == (
        "1101",
        "a@example.com",
        "example.com",
    )
    assert profile.extra == {"email_verified": True}


def test_endpoints_must_be_https_or_loopback():
    from aurinko_auth.exceptions import ProviderNotConfigured

    with pytest.raises(ProviderNotConfigured):
        GoogleProvider().endpoint("token", config(endpoints={"token": "http://evil.example/t"}))
    assert (
        GoogleProvider().endpoint("token", config(endpoints={"token": "http://127.0.0.1:9/t"}))
        == "http://127.0.0.1:9/t"
    )


@responses.activate
def test_calls_for_an_account_go_to_its_data_centre_and_instance(
    app_factory, account_factory, provider_config_factory
):
    from aurinko_auth.providers.salesforce import SalesforceProvider
    from aurinko_auth.providers.zoho import ZohoProvider

    app, _ = app_factory()
    zoho_config = provider_config_factory(app, "Zoho")
    zoho = account_factory(
        app,
        "Zoho",
        server_url="https://www.zohoapis.eu",
        extra_data={"accounts_server": "https://accounts.zoho.eu"},
        credentials={"access_token": "a", "refresh_token": "zr"},
    )
    responses.post(
        "https://accounts.zoho.eu/oauth/v2/token",
        json={"access_token": "new", "expires_in": 3600, "token_type": "Bearer"},
    )
    assert ZohoProvider().renew(zoho_config, zoho).access_token == "new"
    assert responses.calls[0].request.url.startswith("https://accounts.zoho.eu/")
    config = ZohoProvider().resolve(zoho_config, account=zoho)
    assert ZohoProvider().endpoint("api", config) == "https://www.zohoapis.eu"

    sf_config = provider_config_factory(app, "Salesforce")
    sf = account_factory(app, "Salesforce", server_url="https://acme.my.salesforce.com")
    assert (
        SalesforceProvider().endpoint("api", SalesforceProvider().resolve(sf_config, account=sf))
        == "https://acme.my.salesforce.com"
    )
    # An app's own override still wins (sovereign clouds, test peers).
    # Its host passes the SSRF guard (issue 19 item 10): here it resolves to a public address.
    sf_config.endpoints = {"api": "https://override.example.com"}
    public = [(2, 1, 6, "", ("93.184.216.34", 443))]
    with mock.patch.object(netguard, "_getaddrinfo", return_value=public):
        assert (
            SalesforceProvider().endpoint(
                "api", SalesforceProvider().resolve(sf_config, account=sf)
            )
            == "https://override.example.com"
        )
