"""SugarCRM: password grant with our own platform, rotation on refresh, the SSRF guard (every
call through a pinned session), the form's cleaning."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs

import pytest
import responses

from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import Account, ProviderConfig
from aurinko_auth.providers.base import TERMINAL_USER, TRANSIENT, ProviderCallError
from aurinko_auth.providers.sugarcrm import SignInFailed, SugarCRMProvider, normalize_server_url

DATA = json.loads((Path(__file__).parent / "data" / "sugarcrm.json").read_text())
SERVER = "https://crm.example.com"


@pytest.fixture
def public_dns():
    with mock.patch(
        "aurinko_auth.security.netguard._getaddrinfo",
        return_value=[(2, 1, 6, "", ("93.184.216.34", 443))],
    ) as patched:
        yield patched


def config(**kw):
    return ProviderConfig(service_type="SugarCRM", **kw)


def sign_in(cfg, **form):
    provider = SugarCRMProvider()
    data = {"serverUrl": SERVER, "login": "sally", "password": "pw", **form}
    return provider.sign_in(cfg, provider.clean(data))


@responses.activate
def test_password_grant_and_profile(public_dns):
    responses.post(SERVER + "/rest/v11/oauth2/token", json=DATA["token"])
    responses.get(SERVER + "/rest/v11/me", json=DATA["profile"])
    signed = sign_in(config(), serverUrl=SERVER + "/")
    tokens, profile = signed.tokens, signed.profile
    assert signed.credentials is None  # the password is never kept
    body = parse_qs(responses.calls[0].request.body)
    assert body["grant_type"] == ["password"]
    assert body["client_id"] == ["sugar"]
    assert body["platform"] == ["aurinko_auth"]
    assert body["username"] == ["sally"] and body["password"] == ["pw"]
    assert responses.calls[1].request.headers["OAuth-Token"] == DATA["token"]["access_token"]
    assert tokens.refresh_token == DATA["token"]["refresh_token"]
    got = {k: getattr(profile, k) for k in DATA["expected_profile"]}
    assert got == DATA["expected_profile"]


@responses.activate
def test_configured_client_and_platform(public_dns):
    responses.post(SERVER + "/rest/v11/oauth2/token", json=DATA["token"])
    responses.get(SERVER + "/rest/v11/me", json=DATA["profile"])
    sign_in(config(client_id="mycrm", options={"platform": "broker_x"}))
    body = parse_qs(responses.calls[0].request.body)
    assert body["client_id"] == ["mycrm"] and body["platform"] == ["broker_x"]


@responses.activate
def test_refresh_rotates(public_dns):
    responses.post(SERVER + "/rest/v11/oauth2/token", json=DATA["refresh"])
    tokens = SugarCRMProvider().refresh_at(config(), SERVER, "old-rt")
    assert tokens.refresh_token == "e5f6a7b8-rotated"
    body = parse_qs(responses.calls[0].request.body)
    assert body["grant_type"] == ["refresh_token"] and body["platform"] == ["aurinko_auth"]


@responses.activate
@pytest.mark.parametrize(
    "status,body,failure",
    [
        (400, {"error": "invalid_grant", "error_message": "Invalid refresh token"}, TERMINAL_USER),
        (503, {"error": "x"}, TRANSIENT),
    ],
)
def test_refresh_errors(public_dns, status, body, failure):
    responses.post(SERVER + "/rest/v11/oauth2/token", status=status, json=body)
    with pytest.raises(ProviderCallError) as info:
        SugarCRMProvider().refresh_at(config(), SERVER, "rt")
    assert info.value.failure == failure


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "::1"])
def test_private_instance_refused(address):
    with (
        mock.patch(
            "aurinko_auth.security.netguard._getaddrinfo",
            return_value=[(2, 1, 6, "", (address, 443))],
        ),
        pytest.raises(InvalidRequest, match="public"),
    ):
        sign_in(config())


@pytest.mark.parametrize(
    "url",
    [
        "http://crm.example.com",
        "ftp://x",
        "https://u:p@h.example",
        "https://h.example/?q=1",
        "",
        "https://h.example:99999",
        "https://" + "h" * 200 + ".example",
    ],
)
def test_bad_server_url(url):
    with pytest.raises(InvalidRequest):
        sign_in(config(), serverUrl=url)


@responses.activate
@pytest.mark.parametrize(
    "status,body",
    [
        (401, DATA["error_body"]),  # what Sugar answers
        (400, {"error": "invalid_grant", "error_description": "Invalid credentials given."}),
    ],
)
def test_wrong_password_is_a_form_error(public_dns, status, body):
    responses.post(SERVER + "/rest/v11/oauth2/token", status=status, json=body)
    with pytest.raises(SignInFailed) as refused:
        sign_in(config(), password="wrong")
    assert refused.value.code == "credentials.invalid"
    assert refused.value.status == 400
    assert len(responses.calls) == 1  # no profile call


@responses.activate
def test_unreachable_instance_is_not_a_password_error(public_dns):
    responses.post(SERVER + "/rest/v11/oauth2/token", status=503, json={"error": "x"})
    with pytest.raises(ProviderCallError) as failed:
        sign_in(config())
    assert failed.value.failure == TRANSIENT and not isinstance(failed.value, SignInFailed)


@responses.activate
def test_every_call_goes_to_the_checked_address(public_dns):
    """DNS is asked once per call and the connection goes to that answer; the Host header
    keeps the name."""
    responses.post(SERVER + "/rest/v11/oauth2/token", json=DATA["token"])
    responses.get(SERVER + "/rest/v11/me", json=DATA["profile"])
    sign_in(config())
    assert public_dns.call_count == 2  # token, profile: each resolved once and checked
    assert all(c.request.headers["Host"] == "crm.example.com" for c in responses.calls)


def test_sessions_are_pinned_and_ignore_proxies(public_dns, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    provider = SugarCRMProvider()
    seen = []

    def fake_send(adapter, request, **kwargs):
        seen.append(
            (type(adapter).__name__, getattr(adapter, "address", None), kwargs.get("proxies"))
        )
        raise ProviderCallError("stop", code="stop")

    monkeypatch.setattr("requests.adapters.HTTPAdapter.send", fake_send)
    with pytest.raises(ProviderCallError):
        sign_in(config())
    assert seen == [("PinnedAdapter", "93.184.216.34", {})]
    with pytest.raises(ProviderCallError):
        provider.refresh_at(config(), SERVER, "rt")
    assert seen[-1][:2] == ("PinnedAdapter", "93.184.216.34")


@responses.activate
def test_redirect_to_another_host_is_refused(public_dns):
    responses.post(
        SERVER + "/rest/v11/oauth2/token",
        status=307,
        headers={"Location": "https://elsewhere.example/steal"},
    )
    with pytest.raises(InvalidRequest) as refused:
        sign_in(config())
    assert refused.value.code == "host.unpinned"


@pytest.mark.parametrize(
    "given,expected",
    [
        ("crm.example.com", "https://crm.example.com"),
        ("HTTPS://CRM.Example.com/", "https://crm.example.com"),
        ("https://crm.example.com/#Home", "https://crm.example.com"),
        ("https://crm.example.com/sugar/rest/v11/", "https://crm.example.com/sugar"),
        ("https://crm.example.com:8443/sugar/index.php", "https://crm.example.com:8443/sugar"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_server_url_normalized(given, expected):
    assert normalize_server_url(given) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("login", "a\x00b"),
        ("password", "p\x00"),
        ("serverUrl", "https://crm.example.com\x00"),
        ("login", "x" * 400),
        ("password", "x" * 1100),
        ("password", ""),
        ("login", " "),
        ("serverUrl", ""),
    ],
)
def test_bad_form_values(field, value):
    data = {"serverUrl": SERVER, "login": "sally", "password": "pw", field: value}
    with pytest.raises(InvalidRequest) as refused:
        SugarCRMProvider().clean(data)
    assert refused.value.status == 400


def test_clean_keeps_the_password_verbatim():
    cleaned = SugarCRMProvider().clean(
        {"serverUrl": " crm.example.com/ ", "login": " sally ", "password": " pw "}
    )
    assert cleaned == {"serverUrl": SERVER, "login": "sally", "password": " pw "}


@responses.activate
def test_renew_refreshes_at_the_accounts_instance(public_dns):
    """tokens.py calls renew(config, account): the account's serverUrl names the instance."""
    other = "https://other-crm.example.org/sugar"
    responses.post(other + "/rest/v11/oauth2/token", json=DATA["refresh"])
    account = Account(
        service_type="SugarCRM",
        server_url=other,
        credentials={"access_token": "a", "refresh_token": "old-rt"},
    )
    tokens = SugarCRMProvider().renew(config(options={"platform": "broker_x"}), account)
    assert tokens.refresh_token == "e5f6a7b8-rotated"
    body = parse_qs(responses.calls[0].request.body)
    assert body["refresh_token"] == ["old-rt"] and body["platform"] == ["broker_x"]
    assert body["client_id"] == ["sugar"]


@responses.activate
def test_endpoint_overrides_with_server_placeholder(public_dns):
    responses.post(SERVER + "/custom/token", json=DATA["refresh"])
    tokens = SugarCRMProvider().refresh_at(
        config(endpoints={"token": "{server}/custom/token"}), SERVER, "rt"
    )
    assert tokens.access_token == "a1b2c3d4-new"


@responses.activate
def test_revoke_logs_the_session_out(public_dns):
    responses.post(SERVER + "/rest/v11/oauth2/token", json=DATA["refresh"])
    responses.post(SERVER + "/rest/v11/oauth2/logout", json={"success": True})
    provider = SugarCRMProvider()
    account = Account(service_type="SugarCRM", server_url=SERVER)
    cfg = provider.resolve(config(), account=account)
    assert provider.revoke(cfg, "old-rt", "refresh_token") is True
    logout = responses.calls[1].request
    assert logout.headers["OAuth-Token"] == DATA["refresh"]["access_token"]
    assert parse_qs(logout.body) == {"refresh_token": [DATA["refresh"]["refresh_token"]]}


def test_configured_without_a_client_id(app_factory):
    """Sugar's built-in client needs no registration: an app enables SugarCRM with only its
    platform name; Google still needs a client id."""
    from aurinko_auth import services

    app, _ = app_factory()
    cfg = services.configure_provider(app, "SugarCRM", options={"platform": "acme_sync"})
    provider = SugarCRMProvider()
    assert provider.client_id(cfg) == "sugar" and provider.platform(cfg) == "acme_sync"
    with pytest.raises(InvalidRequest):
        services.configure_provider(app, "Google")


def test_private_ca_bundle_is_used(public_dns, monkeypatch, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PASSWORD_CA_BUNDLE": "/etc/corp-ca.pem"}
    seen = []

    def fake_send(adapter, request, **kwargs):
        seen.append(kwargs.get("verify"))
        raise ProviderCallError("stop", code="stop")

    monkeypatch.setattr("requests.adapters.HTTPAdapter.send", fake_send)
    with pytest.raises(ProviderCallError):
        sign_in(config())
    assert seen == ["/etc/corp-ca.pem"]


def test_endpoint_overrides_with_placeholders_are_accepted(app_factory):
    from aurinko_auth import services

    app, _ = app_factory()
    cfg = services.configure_provider(
        app, "SugarCRM", endpoints={"token": "{server}/rest/v10/oauth2/token"}
    )
    assert cfg.endpoints == {"token": "{server}/rest/v10/oauth2/token"}
    zoho = services.configure_provider(
        app,
        "Zoho",
        client_id="c",
        endpoints={"token": "https://proxy.example.com/{accounts_host}/oauth/v2/token"},
    )
    assert "{accounts_host}" in zoho.endpoints["token"]
    with pytest.raises(InvalidRequest):
        services.configure_provider(app, "SugarCRM", endpoints={"token": "http://crm.example"})
