"""The Direct API's Graph base is Aurinko's ``https://graph.microsoft.com/v1.0``:
``/v1/direct/me/messages`` reaches ``/v1.0/me/messages``; a path naming its Graph version
(``v1.0/...``, ``beta/...``) keeps it."""

from __future__ import annotations

import pytest
import responses

from aurinko_auth.providers.registry import get_provider

pytestmark = pytest.mark.django_db

GRAPH = "https://graph.microsoft.com"


@responses.activate
@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("me/messages?$top=1", "/v1.0/me/messages"),
        ("v1.0/me/messages?$top=1", "/v1.0/me/messages"),
        ("beta/me/messages?$top=1", "/beta/me/messages"),
    ],
)
def test_graph_paths(client, linked_account, path, upstream):
    account, token = linked_account("Office365", expires_in=3600)
    called = responses.get(f"{GRAPH}{upstream}", json={"value": []})
    r = client.get(f"/v1/direct/{path}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200, r
    assert called.call_count == 1
    assert responses.calls[0].request.url == f"{GRAPH}{upstream}?$top=1"


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("https://graph.microsoft.com/v1.0", "me", "https://graph.microsoft.com/v1.0/me"),
        ("https://graph.microsoft.com/v1.0/", "beta/me", "https://graph.microsoft.com/beta/me"),
        ("https://graph.microsoft.com/beta", "me", "https://graph.microsoft.com/beta/me"),
        ("https://graph.microsoft.com/beta", "v1.0/me", "https://graph.microsoft.com/v1.0/me"),
        # An owner's base naming no version is taken as it is.
        ("http://127.0.0.1:8765/api/", "me", "http://127.0.0.1:8765/api/me"),
        ("http://127.0.0.1:8765/api", "v1.0/me", "http://127.0.0.1:8765/api/v1.0/me"),
    ],
)
def test_direct_url_of_office365(base, path, url):
    assert get_provider("Office365").direct_url(base, path) == url


def test_other_providers_forward_under_their_base():
    assert get_provider("Google").direct_url("https://www.googleapis.com/", "gmail/v1/x") == (
        "https://www.googleapis.com/gmail/v1/x"
    )
