"""The Direct API (/v1/direct/{path}) with the provider mocked by `responses`."""

from __future__ import annotations

import base64

import pytest
import requests
import responses
from responses import matchers

from aurinko_auth.api.direct import ResponseTooLarge, _capped, clean_path
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import Account, TokenStatus
from tests.lifecycle.conftest import GOOGLE_TOKEN

API = "https://www.googleapis.com"


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@responses.activate
def test_get_is_forwarded_with_the_provider_token(
    client, linked_account, django_assert_num_queries
):
    account, token = linked_account(expires_in=3600)
    upstream = responses.get(
        f"{API}/gmail/v1/users/me/messages",
        match=[
            matchers.query_string_matcher("q=from%3Aalice&maxResults=2"),
            matchers.header_matcher(
                {"Authorization": f"Bearer {account.credentials['access_token']}"}
            ),
        ],
        json={"messages": [{"id": "18c1", "threadId": "18c1"}], "resultSizeEstimate": 1},
        headers={
            "Set-Cookie": "NID=provider; HttpOnly",
            "X-Request-Id": "req-1",
            "Cache-Control": "private",
            "X-Internal": "secret",
        },
    )
    # The account token; the provider credentials (authentication never loads them); the
    # provider configuration.
    with django_assert_num_queries(3):
        r = client.get(
            "/v1/direct/gmail/v1/users/me/messages?q=from%3Aalice&maxResults=2", **bearer(token)
        )
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json"
    assert b"".join(r.streaming_content) == (
        b'{"messages": [{"id": "18c1", "threadId": "18c1"}], "resultSizeEstimate": 1}'
    )
    assert upstream.call_count == 1
    assert r["X-Request-Id"] == "req-1"
    # The provider's "private" is kept; provider data is never stored (issue 19 item 1).
    cache_control = {d.strip() for d in r["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control and r["Pragma"] == "no-cache"
    assert not r.has_header("Set-Cookie") and not r.has_header("X-Internal")


@responses.activate
def test_credential_and_hop_by_hop_headers_are_not_forwarded(client, linked_account):
    account, token = linked_account(expires_in=3600)
    upstream = responses.post(
        f"{API}/upload", status=201, body=b"<ok/>", content_type="application/xml"
    )
    r = client.post(
        "/v1/direct/upload",
        data=b"<mail>hello</mail>",
        content_type="application/xml",
        HTTP_COOKIE="sessionid=abc",
        HTTP_X_AURINKO_ACCOUNTID=str(account.pk),
        HTTP_X_FORWARDED_FOR="10.0.0.1",
        HTTP_PROXY_AUTHORIZATION="Basic eA==",
        HTTP_CONNECTION="keep-alive, X-Secret-Hop",
        HTTP_X_SECRET_HOP="1",
        HTTP_KEEP_ALIVE="timeout=5",
        HTTP_ACCEPT="application/xml",
        HTTP_IF_MATCH='"etag-1"',
        HTTP_PREFER='outlook.timezone="UTC"',
        **bearer(token),
    )
    assert r.status_code == 201 and r["Content-Type"] == "application/xml"
    assert b"".join(r.streaming_content) == b"<ok/>"
    sent = upstream.calls[0].request
    assert sent.body == b"<mail>hello</mail>"
    assert sent.headers["Content-Type"] == "application/xml"
    assert sent.headers["Authorization"] == f"Bearer {account.credentials['access_token']}"
    assert sent.headers["Accept"] == "application/xml"
    assert sent.headers["If-Match"] == '"etag-1"'
    assert sent.headers["Prefer"] == 'outlook.timezone="UTC"'
    lowered = {k.lower() for k in sent.headers}
    for name in (
        "cookie",
        "x-aurinko-accountid",
        "x-forwarded-for",
        "proxy-authorization",
        "x-secret-hop",
        "keep-alive",
    ):
        assert name not in lowered, name
    assert "aat_" not in str(sent.headers)


@responses.activate
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_methods_and_statuses_pass_through(client, linked_account, method):
    _, token = linked_account(expires_in=3600)
    responses.add(
        method.upper(),
        f"{API}/calendar/v3/calendars/primary/events/e1",
        status=404,
        json={"error": {"code": 404, "message": "Not Found"}},
    )
    r = getattr(client, method)(
        "/v1/direct/calendar/v3/calendars/primary/events/e1",
        data=b"{}",
        content_type="application/json",
        **bearer(token),
    )
    assert r.status_code == 404
    assert b"Not Found" in b"".join(r.streaming_content)


@responses.activate
def test_head_and_options(client, linked_account):
    _, token = linked_account(expires_in=3600)
    responses.head(f"{API}/x", status=200, headers={"ETag": '"1"'}, content_type="text/plain")
    responses.add("OPTIONS", f"{API}/x", status=204, headers={"Allow": "GET"})
    r = client.head("/v1/direct/x", **bearer(token))
    assert r.status_code == 200 and r["ETag"] == '"1"'
    r = client.options("/v1/direct/x", **bearer(token))
    assert r.status_code == 204


@responses.activate
def test_client_credentials_select_the_account(
    client, linked_account, app_factory, account_factory
):
    account, _ = linked_account(expires_in=3600)
    app = account.app
    from aurinko_auth import services

    secret = services.rotate_secret(app)
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    responses.get(f"{API}/me", json={"ok": True})
    r = client.get(
        "/v1/direct/me",
        HTTP_AUTHORIZATION=f"Basic {basic}",
        HTTP_X_AURINKO_ACCOUNT_ID=str(account.pk),
    )
    assert r.status_code == 200
    other_app, _ = app_factory(name="Other")
    foreign = account_factory(other_app)
    r = client.get(
        "/v1/direct/me",
        HTTP_AUTHORIZATION=f"Basic {basic}",
        HTTP_X_AURINKO_ACCOUNTID=str(foreign.pk),
    )
    assert r.status_code == 404 and r.json()["code"] == "resource.not_found"
    r = client.get("/v1/direct/me", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert r.status_code == 400 and r.json()["code"] == "account.missing"
    assert client.get("/v1/direct/me").status_code == 401


@responses.activate
def test_expired_token_is_refreshed_before_forwarding(client, linked_account):
    account, token = linked_account()
    refresh = responses.post(
        GOOGLE_TOKEN,
        json={"access_token": "ya29.fresh", "expires_in": 3599, "token_type": "Bearer"},
    )
    responses.get(
        f"{API}/me",
        json={"ok": True},
        match=[matchers.header_matcher({"Authorization": "Bearer ya29.fresh"})],
    )
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.status_code == 200, r
    assert refresh.call_count == 1
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.status_code == 200 and refresh.call_count == 1


@responses.activate
def test_dead_account_answers_401_token_dead(client, linked_account):
    _, token = linked_account(expires_in=3600, active=False, token_status=TokenStatus.NEEDS_REAUTH)
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.status_code == 401
    assert r.json()["code"] == "token.dead"
    assert not responses.calls


@responses.activate
def test_revoked_refresh_token_answers_401_and_deactivates(client, linked_account):
    account, token = linked_account()
    responses.post(
        GOOGLE_TOKEN,
        status=400,
        json={"error": "invalid_grant", "error_description": "Bad Request"},
    )
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "token.dead"
    me = client.get("/v1/account", **bearer(token)).json()
    assert me["active"] is False and me["tokenStatus"] == "dead"


@responses.activate
def test_provider_outage_during_refresh_answers_503_with_retry_after(client, linked_account):
    _, token = linked_account()
    responses.post(GOOGLE_TOKEN, status=429, headers={"Retry-After": "30"}, body="slow down")
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.status_code == 503
    assert r.json()["code"] == "provider.unavailable"
    assert r["Retry-After"] == "30"


@responses.activate
def test_provider_429_passes_through(client, linked_account):
    _, token = linked_account(expires_in=3600)
    responses.get(
        f"{API}/me", status=429, headers={"Retry-After": "7"}, json={"error": {"code": 429}}
    )
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.status_code == 429 and r["Retry-After"] == "7"


@responses.activate
def test_accept_header_is_the_providers_business(client, linked_account):
    _, token = linked_account(expires_in=3600)
    responses.get(f"{API}/feed", body=b"<feed/>", content_type="application/atom+xml")
    r = client.get("/v1/direct/feed", HTTP_ACCEPT="application/atom+xml", **bearer(token))
    assert r.status_code == 200 and r["Content-Type"] == "application/atom+xml"


@pytest.mark.parametrize(
    "path",
    [
        "../oauth2/token",
        "a/../../b",
        "%2e%2e/x",
        "a/%2E%2E/b",
        "%252e%252e/x",
        "..%2fx",
        "a/..%5cb",
        ".",
        "a/./b",
        "%2e",
    ],
)
def test_path_traversal_is_refused(client, linked_account, path):
    _, token = linked_account(expires_in=3600)
    r = client.get(f"/v1/direct/{path}", **bearer(token))
    assert r.status_code == 400, path
    assert r.json()["code"] == "direct.invalid_path"
    # And when the server hands us the raw URI (gunicorn's RAW_URI).
    r = client.get("/v1/direct/x", RAW_URI=f"/v1/direct/{path}", **bearer(token))
    assert r.status_code == 400, path


def test_clean_path_keeps_encoding_and_quotes_the_rest():
    assert clean_path("me/messages/AAMk%2FAB%3D%3D") == "me/messages/AAMk%2FAB%3D%3D"
    assert clean_path("files/a b/ü") == "files/a%20b/%C3%BC"
    assert clean_path("/users/me") == "users/me"
    assert clean_path("..hidden/file..txt") == "..hidden/file..txt"
    with pytest.raises(InvalidRequest):
        clean_path("a/%00/b")


@responses.activate
def test_raw_uri_preserves_encoded_slashes(client, linked_account):
    _, token = linked_account(expires_in=3600)
    upstream = responses.get(f"{API}/me/messages/AAMk%2FAB%3D%3D", json={"id": 1})
    r = client.get(
        "/v1/direct/me/messages/AAMk/AB==",
        RAW_URI="/v1/direct/me/messages/AAMk%2FAB%3D%3D",
        **bearer(token),
    )
    assert r.status_code == 200
    assert upstream.calls[0].request.url == f"{API}/me/messages/AAMk%2FAB%3D%3D"


@responses.activate
def test_request_size_limit(client, linked_account, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "DIRECT_MAX_REQUEST_BYTES": 10}
    _, token = linked_account(expires_in=3600)
    r = client.post("/v1/direct/upload", data=b"x" * 11, content_type="text/plain", **bearer(token))
    assert r.status_code == 413 and r.json()["code"] == "direct.request_too_large"
    assert not responses.calls


@responses.activate
def test_response_size_limit_by_content_length(client, linked_account, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "DIRECT_MAX_RESPONSE_BYTES": 10}
    _, token = linked_account(expires_in=3600)
    responses.get(
        f"{API}/big", body=b"y" * 11, content_type="text/plain", headers={"Content-Length": "11"}
    )
    r = client.get("/v1/direct/big", **bearer(token))
    assert r.status_code == 502 and r.json()["code"] == "direct.response_too_large"
    # Without a Content-Length the stream is cut off with an error, never truncated quietly.
    responses.get(f"{API}/chunked", body=b"z" * 11, content_type="text/plain")
    r = client.get("/v1/direct/chunked", **bearer(token))
    assert r.status_code == 200
    with pytest.raises(ResponseTooLarge):
        b"".join(r.streaming_content)


def test_response_stream_is_cut_off_past_the_limit():
    class Upstream:
        closed = False

        def iter_content(self, chunk_size):
            yield from (b"a" * 6, b"b" * 6)

        def close(self):
            self.closed = True

    upstream = Upstream()
    stream = _capped(upstream, 10)
    assert next(stream) == b"a" * 6
    with pytest.raises(Exception) as info:
        next(stream)
    assert getattr(info.value, "code", "") == "direct.response_too_large"
    assert upstream.closed


@responses.activate
def test_provider_timeout_and_unreachable(client, linked_account):
    _, token = linked_account(expires_in=3600)
    responses.get(f"{API}/slow", body=requests.ReadTimeout("read timed out"))
    responses.get(f"{API}/down", body=requests.ConnectionError("refused"))
    r = client.get("/v1/direct/slow", **bearer(token))
    assert r.status_code == 504 and r.json()["code"] == "provider.timeout"
    r = client.get("/v1/direct/down", **bearer(token))
    assert r.status_code == 502 and r.json()["code"] == "provider.unreachable"


@responses.activate
def test_rate_limit_per_account_and_per_app(
    client, linked_account, account_factory, account_token_factory, settings, monkeypatch
):
    settings.AURINKO_AUTH = {
        **settings.AURINKO_AUTH,
        "DIRECT_RATE_LIMIT_ACCOUNT": "2/m",
        "DIRECT_RATE_LIMIT_APP": "3/h",
    }
    # A fixed clock: the windows cannot roll over mid-test, and Retry-After is exact.
    monkeypatch.setattr("aurinko_auth.security.ratelimit._now", lambda: 1_000_000.5)
    account, token = linked_account(expires_in=3600)
    responses.get(f"{API}/me", json={"ok": True})
    assert [client.get("/v1/direct/me", **bearer(token)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.json()["code"] == "rate.limited"
    assert r["Retry-After"] == "20"  # the minute window ends at 1_000_020
    # Another account of the same app has its own budget, but the app's is shared.
    other = account_factory(account.app, access_token_expires_at=account.access_token_expires_at)
    other_token = account_token_factory(other)
    assert client.get("/v1/direct/me", **bearer(other_token)).status_code == 200
    r = client.get("/v1/direct/me", **bearer(other_token))
    assert r.status_code == 429 and r["Retry-After"] == "800"  # the hour ends at 1_000_800
    assert len(responses.calls) == 3


def test_account_state_is_unchanged_by_a_refused_call(client, linked_account):
    account, token = linked_account(expires_in=3600)
    client.get("/v1/direct/../x", **bearer(token))
    assert Account.objects.get(pk=account.pk).credential_version == 1


GRAPH_401 = {
    "error": {
        "code": "InvalidAuthenticationToken",
        "message": "Access token has expired or is not yet valid.",
    }
}


@responses.activate
def test_provider_401_refreshes_once_and_retries(client, linked_account):
    account, token = linked_account(expires_in=3600)  # we think it is valid; the provider not
    old = account.credentials["access_token"]
    refresh = responses.post(
        GOOGLE_TOKEN, json={"access_token": "ya29.after401", "expires_in": 3599}
    )
    refused = responses.post(
        f"{API}/send",
        status=401,
        json=GRAPH_401,
        match=[matchers.header_matcher({"Authorization": f"Bearer {old}"})],
    )
    accepted = responses.post(
        f"{API}/send",
        status=202,
        body=b"",
        match=[matchers.header_matcher({"Authorization": "Bearer ya29.after401"})],
    )
    r = client.post(
        "/v1/direct/send", data=b'{"to": "a"}', content_type="application/json", **bearer(token)
    )
    assert r.status_code == 202
    assert refresh.call_count == 1 and refused.call_count == 1 and accepted.call_count == 1
    assert accepted.calls[0].request.body == b'{"to": "a"}'  # the same request again
    assert Account.objects.get(pk=account.pk).credentials["access_token"] == "ya29.after401"


@responses.activate
def test_provider_401_refresh_is_bounded_per_account(client, linked_account):
    _, token = linked_account(expires_in=3600)
    refresh = responses.post(GOOGLE_TOKEN, json={"access_token": "ya29.n", "expires_in": 3599})
    responses.get(f"{API}/always401", status=401, json=GRAPH_401)
    for _ in range(3):
        r = client.get("/v1/direct/always401", **bearer(token))
        assert r.status_code == 401 and b"InvalidAuthenticationToken" in b"".join(
            r.streaming_content
        )
    assert refresh.call_count == 1  # DIRECT_REFRESH_ON_401 = 1 per 5 minutes


@responses.activate
def test_provider_401_after_another_worker_refreshed_reuses_its_token(client, linked_account):
    account, token = linked_account(expires_in=3600)
    old = account.credentials["access_token"]
    refresh = responses.post(GOOGLE_TOKEN, json={"access_token": "unused", "expires_in": 1})

    def other_worker_refreshes(request):
        Account.objects.filter(pk=account.pk).update(
            credentials={"access_token": "from-other-worker", "refresh_token": "rt"},
            credential_version=2,
        )
        return 401, {}, '{"error": "invalid_token"}'

    responses.add_callback(
        responses.GET,
        f"{API}/me",
        callback=other_worker_refreshes,
        match=[matchers.header_matcher({"Authorization": f"Bearer {old}"})],
    )
    responses.get(
        f"{API}/me",
        json={"ok": True},
        match=[matchers.header_matcher({"Authorization": "Bearer from-other-worker"})],
    )
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.status_code == 200
    assert refresh.call_count == 0


@responses.activate
def test_provider_401_with_a_revoked_grant_deactivates(client, linked_account):
    account, token = linked_account(expires_in=3600)
    responses.get(f"{API}/me", status=401, json=GRAPH_401)
    responses.post(GOOGLE_TOKEN, status=400, json={"error": "invalid_grant"})
    r = client.get("/v1/direct/me", **bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "token.dead"
    assert not Account.objects.get(pk=account.pk).active
