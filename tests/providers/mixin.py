"""The shared provider contract. Every OAuth2 provider has a subclass of ``ProviderContract``
in ``test_contract.py`` that names its provider class and its recorded response shapes
(``tests/providers/data/<name>.json``); all tests here run for each of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from aurinko_auth.exceptions import UnsupportedScope
from aurinko_auth.models import ProviderConfig
from aurinko_auth.providers.base import (
    TERMINAL_APP,
    TERMINAL_USER,
    TRANSIENT,
    ProviderCallError,
    TokenSet,
)
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.scopes import UNIFIED_SCOPES

DATA = Path(__file__).parent / "data"
REDIRECT = "https://broker.example.com/v1/auth/callback"


class ProviderContract:
    provider_class: ClassVar[type[OAuth2Provider]]
    data_file: ClassVar[str]
    # The error code in the recorded error body and the failure it must map to.
    recorded_error_failure: ClassVar[str] = TERMINAL_USER

    @pytest.fixture
    def provider(self) -> OAuth2Provider:
        return self.provider_class()

    @pytest.fixture
    def config(self) -> ProviderConfig:
        return ProviderConfig(
            service_type=self.provider_class.id,
            client_id="cid-123",
            client_secret="csecret-456",
            endpoints={},
        )

    @pytest.fixture
    def recorded(self) -> dict[str, Any]:
        return json.loads((DATA / self.data_file).read_text())

    def _supported(self, provider: OAuth2Provider) -> list[str]:
        return [s for s in UNIFIED_SCOPES if s in provider.scope_map]

    # --- authorize ---------------------------------------------------------------------------
    def test_authorize_url(self, provider, config):
        unified = self._supported(provider)[:2]
        native = provider.native_scopes(unified)
        url = provider.authorization_url(
            config, state="st-1", redirect_uri=REDIRECT, scopes=native, code_challenge="ch" * 22
        )
        parts = urlsplit(url)
        default = urlsplit(provider.endpoint("authorize", config))
        assert (parts.scheme, parts.netloc, parts.path) == (
            default.scheme,
            default.netloc,
            default.path,
        )
        query = parse_qs(parts.query)
        assert query["response_type"] == ["code"]
        assert query["client_id"] == ["cid-123"]
        assert query["redirect_uri"] == [REDIRECT]
        assert query["state"] == ["st-1"]
        sent = query["scope"][0].split(provider.scope_delimiter)
        assert set(provider.base_scopes) | set(native) == set(sent)
        if provider.pkce:
            assert query["code_challenge_method"] == ["S256"]
            assert query["code_challenge"] == ["ch" * 22]
        else:
            assert "code_challenge" not in query

    def test_authorize_endpoint_override(self, provider, config):
        config.endpoints = {"authorize": "https://override.example.net/auth"}
        url = provider.authorization_url(
            config, state="s", redirect_uri=REDIRECT, scopes=[], code_challenge=None
        )
        assert url.startswith("https://override.example.net/auth?")

    def test_http_endpoint_refused(self, provider, config):
        config.endpoints = {"authorize": "http://idp.example.net/auth"}
        with pytest.raises(Exception, match="https"):
            provider.authorization_url(
                config, state="s", redirect_uri=REDIRECT, scopes=[], code_challenge=None
            )

    def test_unsupported_scope(self, provider):
        missing = [s for s in UNIFIED_SCOPES if s not in provider.scope_map]
        if not missing:
            pytest.skip(f"{provider.id} supports every unified scope")
        with pytest.raises(UnsupportedScope):
            provider.native_scopes([missing[0]])

    def test_declares_lifecycle_facts(self, provider):
        assert provider.id and provider.name
        assert {"authorize", "token"} <= set(provider.endpoints)
        for url in provider.endpoints.values():
            assert url.startswith("https://")
        assert isinstance(provider.rotates_refresh_tokens, bool)
        assert isinstance(provider.returns_expires_in, bool)

    # --- tokens ------------------------------------------------------------------------------
    @responses.activate
    def test_exchange_code(self, provider, config, recorded):
        token_url = provider.endpoint("token", config)
        responses.post(token_url, json=recorded["token"])
        tokens = provider.exchange_code(
            config, code="code-1", redirect_uri=REDIRECT, code_verifier="v" * 43
        )
        assert tokens.access_token == recorded["token"]["access_token"]
        assert tokens.refresh_token == recorded["token"]["refresh_token"]
        if provider.returns_expires_in:
            assert tokens.expires_at is not None
        else:
            assert "expires_in" not in recorded["token"]
            assert tokens.expires_at is None
        body = parse_qs(responses.calls[0].request.body)
        assert body["grant_type"] == ["authorization_code"]
        assert body["code"] == ["code-1"]
        assert body["redirect_uri"] == [REDIRECT]
        assert ("code_verifier" in body) == provider.pkce
        assert "csecret-456" not in responses.calls[0].request.url

    @responses.activate
    def test_refresh_keeps_or_rotates(self, provider, config, recorded):
        token_url = provider.endpoint("token", config)
        responses.post(token_url, json=recorded["refresh"])
        tokens = provider.refresh(config, "old-refresh-token")
        assert tokens.access_token == recorded["refresh"]["access_token"]
        expected = recorded["refresh"].get("refresh_token") or "old-refresh-token"
        assert tokens.refresh_token == expected
        if provider.rotates_refresh_tokens:
            assert recorded["refresh"].get("refresh_token"), "recorded shape must rotate"
        body = parse_qs(responses.calls[0].request.body)
        assert body["grant_type"] == ["refresh_token"]
        assert body["refresh_token"] == ["old-refresh-token"]

    @responses.activate
    def test_refresh_without_refresh_token_keeps_old(self, provider, config, recorded):
        shape = {k: v for k, v in recorded["refresh"].items() if k != "refresh_token"}
        responses.post(provider.endpoint("token", config), json=shape)
        assert provider.refresh(config, "old-rt").refresh_token == "old-rt"

    # --- profile -----------------------------------------------------------------------------
    @responses.activate
    def test_profile(self, provider, config, recorded):
        tokens = provider.parse_token(recorded["token"])
        url = provider.endpoint("userinfo", config).replace(
            "{token}", recorded["token"]["access_token"]
        )
        responses.get(url, json=recorded["profile"])
        profile = provider.fetch_profile(config, tokens)
        got = {k: getattr(profile, k) for k in recorded["expected_profile"]}
        assert got == recorded["expected_profile"]

    @responses.activate
    def test_profile_server_error_is_transient(self, provider, config, recorded):
        tokens = TokenSet(access_token="at")
        url = provider.endpoint("userinfo", config).replace("{token}", "at")
        responses.get(url, status=503)
        with pytest.raises(ProviderCallError) as info:
            provider.fetch_profile(config, tokens)
        assert info.value.failure == TRANSIENT

    # --- error mapping -----------------------------------------------------------------------
    def _refresh_error(self, provider, config, **kw) -> ProviderCallError:
        with responses.RequestsMock() as mock:
            mock.post(provider.endpoint("token", config), **kw)
            with pytest.raises(ProviderCallError) as info:
                provider.refresh(config, "rt")
        return info.value

    def test_invalid_grant_is_terminal_user(self, provider, config):
        err = self._refresh_error(provider, config, status=400, json={"error": "invalid_grant"})
        assert err.failure == TERMINAL_USER

    def test_invalid_client_is_terminal_app(self, provider, config):
        err = self._refresh_error(provider, config, status=401, json={"error": "invalid_client"})
        assert err.failure == TERMINAL_APP

    @pytest.mark.parametrize("status", [500, 502, 503, 429])
    def test_server_errors_are_transient(self, provider, config, status):
        err = self._refresh_error(provider, config, status=status, json={"error": "x"})
        assert err.failure == TRANSIENT

    def test_recorded_provider_error(self, provider, config, recorded):
        err = self._refresh_error(provider, config, status=400, json=recorded["error_body"])
        assert err.failure == self.recorded_error_failure
        assert "rt" not in str(err).split()
