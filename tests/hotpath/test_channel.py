"""The two-level auth cache across worker processes (AUTH_LOCAL_CACHE), on PostgreSQL with
the shared Redis cache: a change committed here is refused by every worker within a second,
over PostgreSQL LISTEN/NOTIFY and over Redis pub/sub; a token hammered while it is revoked
never succeeds after its invalidation was seen; a listener that loses its connection falls
back to the short TTL, says so, and recovers."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from aurinko_auth import crypto, services, usersessions
from aurinko_auth.hotpath import channel
from aurinko_auth.hotpath.tokens import account_from_token
from aurinko_auth.models import Account, AccountToken, AppUser

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/8"
MODES = {"postgresql": "postgresql", "redis": "redis"}


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hotpath.worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def ask(self, **command: object) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the worker died")
        return json.loads(line)

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(params=list(MODES))
def mode(request, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (worker processes share the database)")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "AUTH_CACHE": "default",
        "AUTH_LOCAL_CACHE": MODES[request.param],
    }
    redis.Redis.from_url(REDIS_URL).flushdb()
    yield request.param
    channel.stop()


@pytest.fixture(scope="module")
def worker_pool(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two worker processes per channel, started once per module (Django's start-up is most
    of their cost); the database is emptied between tests, their caches keep nothing that
    a later test looks up."""
    pool: dict[str, list[Worker]] = {}

    def get(mode: str) -> list[Worker]:
        if mode not in pool:
            with django_db_blocker.unblock():
                url = database_url()
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DATABASE_URL": url,
                "CACHE_URL": REDIS_URL,
                "AURINKO_AUTH_CACHE": "default",
                "AURINKO_AUTH_LOCAL_CACHE": MODES[mode],
                "PYTHONPATH": str(ROOT),
            }
            logs = tmp_path_factory.mktemp(f"workers-{mode}")
            pool[mode] = [Worker(env, logs / f"worker{i}.log") for i in range(2)]
            for worker in pool[mode]:
                assert worker.ask(op="ready") == {"ready": True}
        return pool[mode]

    yield get
    for started in pool.values():
        for worker in started:
            worker.stop()


@pytest.fixture
def workers(mode, worker_pool):
    return worker_pool(mode)


@pytest.fixture
def token(app_factory, account_factory, account_token_factory):
    app, _ = app_factory()
    account = account_factory(app)
    return app, account, account_token_factory(account)


def until_all_refuse(workers: list[Worker], op: str, **command: object) -> float:
    """Seconds from now until every worker refuses (polling each in turn)."""
    start = time.monotonic()
    pending = set(range(len(workers)))
    while pending and time.monotonic() - start < 5:
        for i in list(pending):
            if not workers[i].ask(op=op, **command)["ok"]:
                pending.discard(i)
    assert not pending, "a worker still accepts after 5 s"
    return time.monotonic() - start


def test_warm_workers_run_no_query_and_a_revoked_token_is_refused_by_all(workers, token):
    _, account, plaintext = token
    first, second = workers
    assert first.ask(op="token", token=plaintext) == {"ok": True, "code": None, "queries": 1}
    # The other worker finds it in the shared cache; then both in their own.
    assert second.ask(op="token", token=plaintext) == {"ok": True, "code": None, "queries": 0}
    for worker in workers:
        assert worker.ask(op="token", token=plaintext)["queries"] == 0
        assert worker.ask(op="state")["entries"] == 1
    AccountToken.objects.filter(account=account).delete()  # committed: no test transaction
    assert until_all_refuse(workers, "token", token=plaintext) < 1.0
    for worker in workers:
        assert worker.ask(op="token", token=plaintext)["code"] == "token.invalid"


@pytest.mark.parametrize("change", ["account deleted", "app disabled"])
def test_account_and_app_changes_reach_every_worker(workers, token, change):
    app, account, plaintext = token
    for worker in workers:
        worker.ask(op="token", token=plaintext)
        assert worker.ask(op="token", token=plaintext) == {"ok": True, "code": None, "queries": 0}
    if change == "account deleted":
        Account.objects.get(pk=account.pk).delete()
    else:
        app.active = False
        app.save()
    assert until_all_refuse(workers, "token", token=plaintext) < 1.0


def test_rotated_secret_is_refused_by_every_worker(workers, app_factory, account_factory):
    app, secret = app_factory()
    plaintext = AccountToken.issue(account_factory(app))
    for worker in workers:
        assert worker.ask(op="client", client_id=app.client_id, secret=secret)["ok"]
        worker.ask(op="token", token=plaintext)
        assert worker.ask(op="token", token=plaintext)["queries"] == 0
    services.rotate_secret(app)
    assert until_all_refuse(workers, "client", client_id=app.client_id, secret=secret) < 1.0
    # The app row cached with the token (its secret's hash) was dropped too: read again.
    for worker in workers:
        assert worker.ask(op="token", token=plaintext) == {"ok": True, "code": None, "queries": 1}


def test_revoked_session_is_refused_by_every_worker(workers, token):
    app, _, _ = token
    user = AppUser.objects.create(app=app)
    session = usersessions.start(user)
    for worker in workers:
        worker.ask(op="session", session=session)
        assert worker.ask(op="session", session=session) == {
            "ok": True,
            "code": None,
            "queries": 0,
        }
    usersessions.revoke(usersessions.find([session])[0])
    assert until_all_refuse(workers, "session", session=session) < 1.0


def test_hammered_token_never_succeeds_after_its_invalidation_was_seen(workers, token):
    _, account, plaintext = token
    tag = f"t:{crypto.hash_token(plaintext)}"
    for worker in workers:
        worker.ask(op="token", token=plaintext)
    for worker in workers:  # both hammer for 2 s; the token is revoked after 0.5 s
        worker.proc.stdin.write(json.dumps({"op": "hammer", "token": plaintext, "seconds": 2}))
        worker.proc.stdin.write("\n")
        worker.proc.stdin.flush()
    time.sleep(0.5)
    AccountToken.objects.filter(account=account).delete()
    committed = time.monotonic()
    for worker in workers:
        result = json.loads(worker.proc.stdout.readline())
        seen = [at for at, tags in result["seen"] if tag in tags]
        assert seen, "the worker never saw the invalidation"
        lookups = result["lookups"]
        assert len(lookups) > 100  # it did hammer
        assert any(ok for _, _, ok in lookups) and not lookups[-1][2]
        stale = [start for start, _, ok in lookups if ok and start > seen[0]]
        assert stale == []
        assert seen[0] - committed < 1.0
        first_refusal = min(start for start, _, ok in lookups if not ok)
        assert first_refusal - committed < 1.0


def kill_listener(mode: str) -> None:
    """Cut this process's listener connection, as a network failure or a restart would."""
    name = f"{channel.LISTENER_NAME}-{os.getpid()}"
    if mode == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                [name],
            )
            assert cursor.fetchone() is not None
        return
    server = redis.Redis.from_url(REDIS_URL)
    ids = [c["id"] for c in server.client_list() if c.get("name") == name]
    assert ids
    for client_id in ids:
        server.client_kill_filter(_id=client_id)


def wait_for(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_lost_channel_falls_back_to_the_short_ttl_logs_it_and_recovers(mode, token, caplog):
    _, account, plaintext = token
    caplog.set_level(logging.INFO, logger="aurinko_auth.hotpath.channel")
    cache = channel.local_cache()
    listener = channel._state["listener"]
    assert listener.connected.wait(10) and cache.listening
    account_from_token(plaintext)
    assert len(cache) == 1

    kill_listener(mode)
    wait_for(lambda: not cache.listening)
    assert len(cache) == 0  # messages may be missed now: it starts again empty
    wait_for(lambda: any("channel lost" in r.getMessage() for r in caplog.records))
    lost = next(r for r in caplog.records if "channel lost" in r.getMessage())
    assert lost.levelno == logging.WARNING

    wait_for(lambda: cache.listening)
    wait_for(lambda: any("channel recovered" in r.getMessage() for r in caplog.records))
    # Listening again: another process's invalidation (published, not applied here by the
    # sender) drops the entry.
    account_from_token(plaintext)
    assert len(cache) == 1
    channel.transport().publish([f"a:{account.pk}"])
    # (how fast is bench B5's to measure; a loaded CI machine may take a while)
    wait_for(lambda: len(cache) == 0, seconds=5.0)


def test_while_the_channel_is_down_entries_live_at_most_the_fallback_ttl(token, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "AUTH_LOCAL_CACHE": "redis://127.0.0.1:1/8"}
    _, _, plaintext = token
    cache = channel.local_cache()  # its listener can never connect (nothing on port 1)
    time.sleep(0.3)
    assert not cache.listening
    account_from_token(plaintext)
    assert len(cache) == 1
    assert cache.get(f"t:{crypto.hash_token(plaintext)}") is not None
    time.sleep(cache.fallback_ttl + 0.1)
    assert cache.get(f"t:{crypto.hash_token(plaintext)}") is None
