"""End-to-end fixtures: the broker served by ``live_server`` and a real OAuth2 server."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings as django_settings

from tests.peers.oauth_server import OAuthPeer


@pytest.fixture(scope="session")
def oauth_peer(tmp_path_factory) -> Iterator[OAuthPeer]:
    peer = OAuthPeer.start(tmp_path_factory.mktemp("oauth-peer"))
    peer.add_user("alice", "alice-pw", "alice@example.com", "Alice Example")
    peer.add_user("bob", "bob-pw", "bob@example.com", "Bob Example")
    yield peer
    peer.stop()


@pytest.fixture
def broker(live_server, settings):
    """The broker under test, with AURINKO_PUBLIC_URL pointing at the live server."""
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "PUBLIC_URL": live_server.url}
    return live_server


def follow_until(
    session: requests.Session,
    url: str,
    stop_host: str,
    peer: OAuthPeer,
    username: str,
    password: str,
    max_hops: int = 12,
) -> str:
    """Follow a browser's redirects from ``url``, signing in at the sandbox when asked,
    until a redirect leaves for ``stop_host`` (the app's returnUrl). Returns that URL."""
    for _ in range(max_hops):
        if urlsplit(url).hostname == stop_host:
            return url
        if "/sandbox/login/" in url:
            response = peer.login(session, url, username, password)
            assert response.status_code == 302, response.text[:500]
        else:
            response = session.get(url, allow_redirects=False, timeout=15)
            assert response.status_code in (301, 302, 303), (
                url,
                response.status_code,
                response.text[:500],
            )
        url = requests.compat.urljoin(url, response.headers["Location"])
    raise AssertionError("too many redirects")
