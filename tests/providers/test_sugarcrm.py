"""SugarCRM: password grant with our own platform, rotation on refresh, the SSRF guard."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs

import pytest
import responses

from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import ProviderConfig
from aurinko_auth.providers.base import TERMINAL_USER, TRANSIENT, ProviderCallError
from aurinko_auth.providers.sugarcrm import SugarCRMProvider

DATA = json.loads((Path(__file__).parent / "data" / "sugarcrm.json").read_text())
SERVER = "https://crm.example.com"


@pytest.fixture
def public_dns():
    with mock.patch("aurinko_auth.netguard._getaddrinfo",
                    return_value=[(2, 1, 6, "", ("93.184.216.34", 443))]) as patched:
        yield patched


def config(**kw):
    return ProviderConfig(service_type="SugarCRM", **kw)


@responses.activate
def test_password_grant_and_profile(public_dns):
    responses.post(SERVER + "/rest/v11/oauth2/token", json=DATA["token"])
    responses.get(SERVER + "/rest/v11/me", json=DATA["profile"])
    tokens, profile = SugarCRMProvider().sign_in(
        config(), {"serverUrl": SERVER + "/", "login": "sally", "password": "pw"})
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
    SugarCRMProvider().sign_in(config(client_id="mycrm", tenant="broker_x"),
                               {"serverUrl": SERVER, "login": "s", "password": "p"})
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
@pytest.mark.parametrize("status,body,failure", [
    (400, {"error": "invalid_grant", "error_message": "Invalid refresh token"}, TERMINAL_USER),
    (503, {"error": "x"}, TRANSIENT),
])
def test_refresh_errors(public_dns, status, body, failure):
    responses.post(SERVER + "/rest/v11/oauth2/token", status=status, json=body)
    with pytest.raises(ProviderCallError) as info:
        SugarCRMProvider().refresh_at(config(), SERVER, "rt")
    assert info.value.failure == failure


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "::1"])
def test_private_instance_refused(address):
    with mock.patch("aurinko_auth.netguard._getaddrinfo",
                    return_value=[(2, 1, 6, "", (address, 443))]), \
            pytest.raises(InvalidRequest, match="public"):
        SugarCRMProvider().sign_in(config(), {"serverUrl": SERVER, "login": "a",
                                              "password": "b"})


@pytest.mark.parametrize("url", ["http://crm.example.com", "ftp://x", "https://u:p@h.example",
                                 "https://h.example/?q=1", ""])
def test_bad_server_url(url):
    with pytest.raises(InvalidRequest):
        SugarCRMProvider().sign_in(config(), {"serverUrl": url, "login": "a", "password": "b"})
