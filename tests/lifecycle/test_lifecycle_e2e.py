"""The token lifecycle end to end on PostgreSQL: the broker itself under gunicorn (4 sync
worker processes, so concurrent calls land in different processes) and the sandbox identity
provider (django-oauth-toolkit, rotating refresh tokens with reuse protection, a token
endpoint as slow as a busy real one) on loopback.

* 20 concurrent Direct API calls right after expiry: exactly one refresh grant at the peer,
  all 20 answered by the peer's protected API with the new token;
* a refresh token revoked at the peer: the account becomes inactive, the Direct API answers
  401 ``token.dead``, and authorizing again reactivates the same account;
* key rotation: re-encrypt under a new key, remove the old one, everything still works.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.models import Account, ProviderConfig
from tests.e2e.conftest import follow_until
from tests.peers.oauth_server import ROOT, OAuthPeer, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
        reason="needs PostgreSQL: several gunicorn worker processes share one database and "
        "rely on its row locks (run with DATABASE_URL=postgres://...)",
    ),
]

RETURN_URL = "https://app.example.com/aurinko/callback"
KEY_A = "EP13v8kMEIzprRkJb6MOcG9bKtKgUG9ql-BEkwkb5r0="  # tests/settings.py
KEY_B = "wT3h9Q2m1tVb8gK0yXc5rJp7uN4sL6dA2fE9hZ1kM0o="


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    # A token endpoint as slow as a busy real one, so the 20 calls overlap the refresh.
    with mock.patch.dict(os.environ, {"SANDBOX_TOKEN_DELAY_MS": "400"}):
        peer = OAuthPeer.start(tmp_path_factory.mktemp("lifecycle-peer"))
    for name in ("carol", "dave", "erin", "frank", "grace", "heidi", "ivan"):
        peer.add_user(name, f"{name}-pw", f"{name}@example.com", name.title())
    yield peer
    peer.stop()


def peer_tokens(peer: OAuthPeer, username: str, *args: str) -> dict[str, int]:
    return json.loads(peer._manage(peer.env, "sandbox_tokens", username, *args))


@dataclass
class Broker:
    url: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def broker_env(keys: str) -> dict[str, str]:
    db = connection.settings_dict  # the test database pytest-django created and migrated
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": url,
        "AURINKO_ENV_FILE": "/dev/null",
        "SECRET_KEY": "lifecycle-e2e",
        "DEBUG": "0",
        "AURINKO_ENCRYPTION_KEYS": keys,
        "AURINKO_ALLOW_LOOPBACK_ENDPOINTS": "1",  # the peer's endpoints are on loopback
        "LOG_LEVEL": "DEBUG",
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture
def broker_factory(transactional_db, tmp_path):
    """``broker_factory(keys, port=None) -> Broker``: the broker under gunicorn, 4 sync
    workers, on the test database; stopped (by its PID) before the database is flushed."""
    started: list[Broker] = []

    def start(keys: str = KEY_A, port: int | None = None, **extra_env: str) -> Broker:
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = tmp_path / f"broker-{port}-{len(started)}.log"
        log = open(log_path, "wb")  # noqa: SIM115  (kept open for the child's lifetime)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--no-control-socket",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "4",
                "--timeout",
                "60",
                "project.wsgi:application",
            ],
            cwd=ROOT,
            env={**broker_env(keys), "AURINKO_PUBLIC_URL": url, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        broker = Broker(url, process, log_path)
        started.append(broker)
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"broker exited:\n{broker.log()}")
            try:
                if requests.get(url + "/v1/account", timeout=2).status_code == 401:
                    return broker
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"broker did not start:\n{broker.log()}")
            time.sleep(0.2)

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture
def linked(peer, app_factory, provider_config_factory):
    """``linked(broker, username) -> dict``: an app configured for the peer and an account
    linked through the real Account flow (browser redirects, sign-in, code exchange)."""
    state: dict = {}

    def link(broker: Broker, username: str) -> dict:
        if "app" not in state:
            app, secret = app_factory(return_urls=[RETURN_URL])
            client_id, client_secret = peer.add_client(broker.url + "/v1/auth/callback")
            provider_config_factory(
                app,
                "Office365",
                client_id=client_id,
                client_secret=client_secret,
                endpoints=peer.endpoints(),
            )
            state.update(app=app, secret=secret, client_id=client_id, client_secret=client_secret)
        app = state["app"]
        start = (
            f"{broker.url}/v1/auth/authorize?clientId={app.client_id}"
            f"&serviceType=Office365&scopes=Mail.Read&returnUrl={RETURN_URL}&state=s"
        )
        final = follow_until(
            requests.Session(), start, "app.example.com", peer, username, f"{username}-pw"
        )
        query = parse_qs(urlsplit(final).query)
        assert query["status"] == ["success"], query
        exchanged = requests.post(
            f"{broker.url}/v1/auth/token/{query['code'][0]}",
            auth=(app.client_id, state["secret"]),
            timeout=10,
        )
        assert exchanged.status_code == 200, exchanged.text
        return {**state, **exchanged.json()}

    return link


def expire_now(peer: OAuthPeer, username: str, account_id: int) -> None:
    """The account's access token has just expired: at the peer and in the broker's row."""
    peer_tokens(peer, username, "--expire")
    Account.objects.filter(pk=account_id).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )


def direct_me(broker: Broker, token: str) -> requests.Response:
    return requests.get(
        f"{broker.url}/v1/direct/me", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def test_twenty_concurrent_calls_after_expiry_refresh_exactly_once(peer, broker_factory, linked):
    broker = broker_factory()
    carol = linked(broker, "carol")
    assert direct_me(broker, carol["accessToken"]).json()["username"] == "carol"
    assert peer_tokens(peer, "carol")["refresh_tokens"] == 1

    expire_now(peer, "carol", carol["accountId"])
    old = Account.objects.get(pk=carol["accountId"])
    # The old provider token really is dead at the peer now.
    refused = requests.get(
        peer.url("/sandbox/api/me"),
        timeout=10,
        headers={"Authorization": f"Bearer {old.credentials['access_token']}"},
    )
    assert refused.status_code == 401

    barrier = threading.Barrier(20)
    results: list[requests.Response | Exception] = []

    def call() -> None:
        barrier.wait()
        try:
            results.append(direct_me(broker, carol["accessToken"]))
        except Exception as exc:  # noqa: BLE001
            results.append(exc)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 20
    for response in results:
        assert isinstance(response, requests.Response), response
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["username"] == "carol"
    # Exactly one refresh grant at the peer: with rotation, each grant revokes the refresh
    # token it used and issues a new one.
    counts = peer_tokens(peer, "carol")
    assert counts["refresh_tokens"] == 2, counts
    assert counts["revoked_refresh_tokens"] == 1, counts
    fresh = Account.objects.get(pk=carol["accountId"])
    assert fresh.credential_version == old.credential_version + 1
    assert fresh.credentials["refresh_token"] != old.credentials["refresh_token"]
    assert fresh.token_status == "healthy"
    log = broker.log()
    assert log.count("provider token refreshed") == 1, log
    # Nothing secret in the broker's log.
    for secret in (
        old.credentials["access_token"],
        old.credentials["refresh_token"],
        fresh.credentials["access_token"],
        fresh.credentials["refresh_token"],
        carol["accessToken"],
        carol["client_secret"],
    ):
        assert secret not in log


def test_revoked_refresh_token_makes_the_account_inactive(peer, broker_factory, linked):
    broker = broker_factory()
    dave = linked(broker, "dave")
    account = Account.objects.get(pk=dave["accountId"])
    revoked = requests.post(
        peer.url("/sandbox/o/revoke_token/"),
        timeout=10,
        data={
            "token": account.credentials["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": dave["client_id"],
            "client_secret": dave["client_secret"],
        },
    )
    assert revoked.status_code == 200
    expire_now(peer, "dave", dave["accountId"])

    r = direct_me(broker, dave["accessToken"])
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["code"] == "token.dead"
    me = requests.get(
        f"{broker.url}/v1/account",
        timeout=10,
        headers={"Authorization": f"Bearer {dave['accessToken']}"},
    ).json()
    assert me["active"] is False and me["tokenStatus"] == "dead"
    stored = Account.objects.get(pk=dave["accountId"])
    assert stored.token_status == "needs_reauth" and stored.last_error == "invalid_grant"
    # A dead account costs the provider nothing more.
    before = peer_tokens(peer, "dave")
    assert direct_me(broker, dave["accessToken"]).status_code == 401
    assert peer_tokens(peer, "dave") == before

    # Authorizing the same identity again reactivates the same account.
    again = linked(broker, "dave")
    assert again["accountId"] == dave["accountId"]
    for token in (dave["accessToken"], again["accessToken"]):
        r = direct_me(broker, token)
        assert r.status_code == 200 and r.json()["username"] == "dave"
    assert Account.objects.get(pk=dave["accountId"]).active


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_key_rotation_round_trip_after_the_old_key_is_removed(
    peer, broker_factory, linked, settings
):
    broker = broker_factory(keys=KEY_A)
    erin = linked(broker, "erin")
    port = urlsplit(broker.url).port
    broker.stop()

    rotating = broker_env(f"{KEY_B},{KEY_A}")
    pending = manage(rotating, "aurinko_rotate_keys", "--check")
    assert pending.returncode == 1, pending.stdout + pending.stderr
    rotated = manage(rotating, "aurinko_rotate_keys", "--batch-size", "1")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "re-encrypted" in rotated.stdout
    done = manage(broker_env(KEY_B), "aurinko_rotate_keys", "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "check: 0 value(s)" in done.stdout

    # Only the new key from here on, in the broker and in this process.
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ENCRYPTION_KEYS": [KEY_B]}
    assert crypto.configured_keys() == [KEY_B]
    before = Account.objects.get(pk=erin["accountId"])
    assert before.credentials["refresh_token"]
    broker = broker_factory(keys=KEY_B, port=port)
    expire_now(peer, "erin", erin["accountId"])
    # The refresh needs the provider client secret and the refresh token, both re-encrypted.
    r = direct_me(broker, erin["accessToken"])
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "erin"
    after = Account.objects.get(pk=erin["accountId"])
    assert after.credential_version == before.credential_version + 1
    assert peer_tokens(peer, "erin")["revoked_refresh_tokens"] == 1


def test_rate_limit_is_shared_by_all_workers_through_redis(peer, broker_factory, linked):
    """CACHE_URL=redis://...: the per-account Direct API limit holds across 4 worker
    processes (a per-process cache would let each worker count on its own)."""
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"e2e-{uuid.uuid4().hex}"
    broker = broker_factory(
        DJANGO_SETTINGS_MODULE="tests.lifecycle.broker_settings",
        CACHE_URL="redis://127.0.0.1:6379/0",
        TEST_CACHE_PREFIX=prefix,
        # Per day, so the 12 calls cannot straddle a window boundary.
        TEST_DIRECT_RATE_LIMIT_ACCOUNT="5/d",
    )
    frank = linked(broker, "frank")
    statuses, retry_after = [], []
    lock = threading.Lock()

    def call() -> None:
        r = direct_me(broker, frank["accessToken"])
        with lock:
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert r.json()["code"] == "rate.limited"
                retry_after.append(int(r.headers["Retry-After"]))

    threads = [threading.Thread(target=call) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [429] * 7, statuses
    assert all(0 < wait <= 86400 for wait in retry_after)
    client = redis.Redis(host="127.0.0.1", port=6379)
    keys = client.keys(f"{prefix}:*")
    assert keys  # the counter lives in Redis
    client.delete(*keys)


def test_direct_api_passes_requests_through_a_real_server(peer, broker_factory, linked):
    """Method, body, query, status and content type through gunicorn to a real protected
    API; credentials and cookies stay behind; traversal is refused on the raw URI."""
    broker = broker_factory()
    grace = linked(broker, "grace")
    headers = {
        "Authorization": f"Bearer {grace['accessToken']}",
        "Cookie": "sessionid=broker-session",
        "X-Aurinko-AccountId": str(grace["accountId"]),
        "X-Forwarded-For": "10.1.2.3",
        "Prefer": "return=minimal",
        "Content-Type": "application/json",
    }
    r = requests.post(
        f"{broker.url}/v1/direct/echo/items?status=201&q=a%20b",
        timeout=30,
        headers=headers,
        data=b'{"subject": "hello"}',
    )
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert "Set-Cookie" not in r.headers
    assert r.headers["X-Request-Id"] == "sandbox-request"
    echoed = r.json()
    assert echoed["user"]["username"] == "grace"
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/sandbox/api/echo/items"
    assert echoed["query"] == "status=201&q=a%20b"
    assert echoed["body"] == '{"subject": "hello"}'
    sent = {k.lower(): v for k, v in echoed["headers"].items()}
    assert sent["prefer"] == "return=minimal" and sent["content-type"] == "application/json"
    for name in ("cookie", "x-aurinko-accountid", "x-forwarded-for"):
        assert name not in sent, name

    r = requests.put(
        f"{broker.url}/v1/direct/echo?status=409&type=text/plain",
        timeout=30,
        headers={"Authorization": f"Bearer {grace['accessToken']}", "Content-Type": "text/plain"},
        data=b"conflict",
    )
    assert r.status_code == 409 and r.text == "conflict"
    assert r.headers["Content-Type"].startswith("text/plain")

    # Traversal towards the peer's token endpoint, as the raw request line sends it.
    for path in ("../o/token/", "%2e%2e/o/token/", "%252e%252e/o/token/", "..%2fo/token/"):
        conn = http.client.HTTPConnection("127.0.0.1", urlsplit(broker.url).port, timeout=30)
        conn.request(
            "GET", f"/v1/direct/{path}", headers={"Authorization": f"Bearer {grace['accessToken']}"}
        )
        response = conn.getresponse()
        body = json.loads(response.read())
        conn.close()
        assert response.status == 400, (path, body)
        assert body["code"] == "direct.invalid_path"


def test_refused_client_credentials_pause_the_app_once(peer, broker_factory, linked):
    """invalid_client from the real token endpoint: one app-level record, 502 for callers,
    no further token requests, resumed when the configuration is fixed."""
    broker = broker_factory()
    heidi = linked(broker, "heidi")
    config = ProviderConfig.objects.get(app__client_id=heidi["app"].client_id)
    config.client_secret = "not-the-secret"
    config.save()
    expire_now(peer, "heidi", heidi["accountId"])
    for _ in range(3):
        r = direct_me(broker, heidi["accessToken"])
        assert r.status_code == 502, r.text
        assert r.json()["code"] == "provider.app_misconfigured"
    config.refresh_from_db()
    assert config.last_error == "invalid_client" and config.refresh_blocked
    me = requests.get(
        f"{broker.url}/v1/account",
        timeout=10,
        headers={"Authorization": f"Bearer {heidi['accessToken']}"},
    ).json()
    assert me["active"] is True and me["tokenStatus"] == "invalid"
    assert broker.log().count("provider configuration was refused") == 1
    assert peer_tokens(peer, "heidi")["revoked_refresh_tokens"] == 0

    config.client_secret = heidi["client_secret"]
    config.save()
    r = direct_me(broker, heidi["accessToken"])
    assert r.status_code == 200 and r.json()["username"] == "heidi"
    assert ProviderConfig.objects.get(pk=config.pk).last_error == ""


def test_token_revoked_early_at_the_provider_is_replaced_on_401(peer, broker_factory, linked):
    """The broker holds the token for valid, the provider no longer does: the Direct API
    refreshes once on the provider's 401 and retries the call."""
    broker = broker_factory()
    ivan = linked(broker, "ivan")
    peer_tokens(peer, "ivan", "--expire")  # only at the peer; the broker's row says valid
    before = Account.objects.get(pk=ivan["accountId"])
    assert before.access_token_expires_at > timezone.now() + timedelta(minutes=5)
    r = direct_me(broker, ivan["accessToken"])
    assert r.status_code == 200, r.text
    assert r.json()["username"] == "ivan"
    after = Account.objects.get(pk=ivan["accountId"])
    assert after.credential_version == before.credential_version + 1
    assert peer_tokens(peer, "ivan")["revoked_refresh_tokens"] == 1
