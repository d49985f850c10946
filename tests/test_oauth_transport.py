"""http provider endpoints on loopback, without OAUTHLIB_INSECURE_TRANSPORT, and only there,
and only in our own sessions (issue 18 item 3)."""

import pytest
import requests_oauthlib
import responses
from oauthlib.oauth2 import InsecureTransportError
from oauthlib.oauth2.rfc6749 import utils

from aurinko_auth.security.oauth_transport import OAuth2Session, loopback_http


@pytest.fixture(autouse=True)
def no_insecure_transport_env(monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/authorize", "http://localhost/authorize", "http://[::1]/a"]
)
def test_our_session_accepts_http_on_loopback(url):
    session = OAuth2Session(client_id="c", redirect_uri="http://127.0.0.1:8000/v1/auth/callback")
    authorize, _ = session.authorization_url(url, state="ast_x")
    assert authorize.startswith(url + "?")


@responses.activate
def test_our_session_fetches_a_token_over_loopback_http():
    responses.post(
        "http://127.0.0.1:9000/token",
        json={"access_token": "t", "token_type": "Bearer", "expires_in": 60},
    )
    session = OAuth2Session(client_id="c", redirect_uri="http://127.0.0.1:8000/cb")
    token = session.fetch_token(
        "http://127.0.0.1:9000/token", code="x", client_secret="s", include_client_id=True
    )
    assert token["access_token"] == "t"


@pytest.mark.parametrize(
    "url",
    [
        "http://auth.example.com/authorize",
        "http://127.0.0.1.example.com/authorize",
        "http://10.0.0.1/authorize",
    ],
)
def test_our_session_refuses_other_http(url):
    session = OAuth2Session(client_id="c", redirect_uri="http://127.0.0.1:8000/cb")
    with pytest.raises(InsecureTransportError):
        session.authorization_url(url)
    with pytest.raises(InsecureTransportError):
        session.fetch_token(url, code="x", client_secret="s")


def test_other_users_of_oauthlib_keep_its_rule():
    """The host's own requests-oauthlib sessions, and oauthlib outside our calls, refuse
    loopback http as before: nothing changes process-wide."""
    host_session = requests_oauthlib.OAuth2Session(client_id="c")
    with pytest.raises(InsecureTransportError):
        host_session.authorization_url("http://127.0.0.1:9000/authorize")
    assert not utils.is_secure_transport("http://127.0.0.1:9000/token")
    with loopback_http():
        assert utils.is_secure_transport("http://127.0.0.1:9000/token")
        assert not utils.is_secure_transport("http://auth.example.com/token")
    assert not utils.is_secure_transport("http://127.0.0.1:9000/token")
    assert utils.is_secure_transport("https://auth.example.com/token")
