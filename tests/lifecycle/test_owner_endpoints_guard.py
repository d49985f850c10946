"""Issue 19 items 9 and 10 on the Direct API: an app owner's endpoint overrides pass the SSRF
guard of user-named servers (public addresses unless ALLOWED_PRIVATE_NETWORKS; loopback only
in DEBUG or with ALLOW_LOOPBACK_ENDPOINTS), and chunked request bodies are never dropped."""

from __future__ import annotations

import io
from unittest import mock

import pytest
import responses
from django.test import override_settings

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.models import ProviderConfig
from aurinko_auth.security import netguard


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def dns(address: str):
    return mock.patch.object(netguard, "_getaddrinfo", return_value=[(2, 1, 6, "", (address, 0))])


def settings_with(**values):
    from django.conf import settings

    return override_settings(AURINKO_AUTH={**settings.AURINKO_AUTH, **values})


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "127.0.0.1", "::1"])
@responses.activate
def test_owner_endpoint_on_an_internal_host_is_refused(client, linked_account, address):
    account, token = linked_account(
        expires_in=3600, config={"endpoints": {"api": "https://internal.example.com"}}
    )
    upstream = responses.get("https://internal.example.com/latest/meta-data", body="secret")
    with dns(address), settings_with(ALLOW_LOOPBACK_ENDPOINTS=False):
        r = client.get("/v1/direct/latest/meta-data", **bearer(token))
    assert r.status_code == 400 and r.json()["code"] == "host.private_address"
    assert upstream.call_count == 0


@responses.activate
def test_owner_endpoint_public_or_allowed_network_passes(client, linked_account):
    account, token = linked_account(
        expires_in=3600, config={"endpoints": {"api": "https://api.example.com"}}
    )
    responses.get("https://api.example.com/me", json={"ok": True})
    with dns("93.184.216.34"):
        assert client.get("/v1/direct/me", **bearer(token)).status_code == 200
    with dns("10.1.2.3"), settings_with(ALLOWED_PRIVATE_NETWORKS=["10.0.0.0/8"]):
        assert client.get("/v1/direct/me", **bearer(token)).status_code == 200


@responses.activate
def test_loopback_endpoint_only_with_the_setting_or_debug(client, linked_account):
    account, token = linked_account(
        expires_in=3600, config={"endpoints": {"api": "http://127.0.0.1:9/api"}}
    )
    responses.get("http://127.0.0.1:9/api/me", json={"ok": True})
    with settings_with(ALLOW_LOOPBACK_ENDPOINTS=False):
        assert client.get("/v1/direct/me", **bearer(token)).status_code == 400
        with override_settings(DEBUG=True):
            assert client.get("/v1/direct/me", **bearer(token)).status_code == 200
    assert aurinko_settings.ALLOW_LOOPBACK_ENDPOINTS  # tests/settings.py, for the test peers
    assert client.get("/v1/direct/me", **bearer(token)).status_code == 200


def test_the_authorize_redirect_is_not_resolved(linked_account):
    """Only servers we call are checked; the browser's authorize page is the user's to visit."""
    account, _ = linked_account(config={"endpoints": {"authorize": "https://idp.invalid/auth"}})
    from aurinko_auth.providers.registry import get_provider

    config = ProviderConfig.objects.get(app=account.app)
    with settings_with(ALLOW_LOOPBACK_ENDPOINTS=False):
        assert get_provider("Google").endpoint("authorize", config) == "https://idp.invalid/auth"


# --- item 9: chunked bodies ------------------------------------------------------------------


@responses.activate
def test_chunked_body_is_forwarded_when_the_server_ends_the_stream(client, linked_account):
    account, token = linked_account(expires_in=3600)
    upstream = responses.post("https://www.googleapis.com/upload", json={"id": "1"})
    body = b'{"raw": "' + b"x" * 70000 + b'"}'
    r = client.generic(
        "POST",
        "/v1/direct/upload",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
        **bearer(token),
    )
    assert r.status_code == 200, r.content
    assert upstream.call_count == 1 and upstream.calls[0].request.body == body


@responses.activate
def test_chunked_body_without_a_terminated_stream_is_a_411(client, linked_account):
    account, token = linked_account(expires_in=3600)
    upstream = responses.post("https://www.googleapis.com/upload", json={"id": "1"})
    r = client.generic(
        "POST",
        "/v1/direct/upload",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(b'{"a": 1}')},
        **bearer(token),
    )
    assert r.status_code == 411 and r.json()["code"] == "direct.length_required"
    assert upstream.call_count == 0
