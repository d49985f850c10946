"""The invalidation channel of the two-level auth cache (``AUTH_LOCAL_CACHE``).

Every worker process keeps a :class:`~aurinko_auth.hotpath.local.LocalCache` and one daemon
thread listening on a channel: PostgreSQL ``LISTEN`` (``"postgresql"``: the database of the
tokens, nothing new to run) or Redis pub/sub (``"redis"``: the server of ``AUTH_CACHE``, or a
``redis://`` URL). :func:`announce` is called where something that authentication depends on
changes (a token deleted, an account changed or deleted, an app disabled or its secret
rotated, a session revoked; :mod:`aurinko_auth.signals`); once the transaction commits it
marks the shared cache's entries (:func:`~aurinko_auth.hotpath.cache.tombstone`), drops this
process's entries and publishes the tags, and every listener drops its own.

A listener that loses its connection logs a warning, empties its cache and keeps entries at
most ``AUTH_LOCAL_CACHE_FALLBACK_TTL`` seconds until it is back (it reconnects with backoff
and logs the recovery). Until the first connection the fallback TTL applies too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import connections, router, transaction

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.hotpath import cache as shared_cache
from aurinko_auth.hotpath.local import LocalCache
from aurinko_auth.models import AccountToken

logger = logging.getLogger(__name__)

CHANNEL = "aurinko_auth_invalidate"
LISTENER_NAME = "aurinko-auth-invalidation"  # application_name / client name of listeners
HEARTBEAT = 1.0  # seconds between liveness checks of an idle listener connection
MAX_PAYLOAD = 7000  # bytes per message (PostgreSQL's NOTIFY payload limit is 8000)
_lock = threading.Lock()
_state: dict[str, Any] = {"pid": None, "cache": None, "listener": None}


def local_cache() -> LocalCache | None:
    """This process's cache (its listener started on first use), or None when off."""
    if not aurinko_settings.AUTH_LOCAL_CACHE:
        return None
    if _state["pid"] != os.getpid():  # first use, or a forked worker
        _start()
    return _state["cache"]


def _start() -> None:
    with _lock:
        if _state["pid"] == os.getpid():
            return
        cache = LocalCache(
            aurinko_settings.AUTH_LOCAL_CACHE_SIZE,
            ttl=aurinko_settings.AUTH_CACHE_TIMEOUT,
            fallback_ttl=aurinko_settings.AUTH_LOCAL_CACHE_FALLBACK_TTL,
        )
        listener = Listener(cache, transport())
        listener.start()
        _state.update(pid=os.getpid(), cache=cache, listener=listener)


def stop() -> None:
    """Stop this process's listener and forget its cache (settings changed, tests)."""
    with _lock:
        listener = _state["listener"]
        _state.update(pid=None, cache=None, listener=None)
    if listener is not None:
        listener.stop()


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in ("AURINKO_AUTH", "CACHES", "DATABASES"):
        stop()


setting_changed.connect(_reset)


def announce(
    tags: Iterable[str], token_hashes: Iterable[str] = (), using: str | None = None
) -> None:
    """Once the current transaction on ``using`` commits (at once outside one): tombstone
    these tokens in the shared cache, drop the entries carrying ``tags`` (or these tokens)
    here, and publish the tags to every worker."""
    hashes = list(token_hashes)
    everything = [*tags, *(f"t:{h}" for h in hashes)]
    if not everything:
        return

    def send() -> None:
        shared_cache.tombstone(hashes)
        if not aurinko_settings.AUTH_LOCAL_CACHE:
            return
        cache = local_cache()
        if cache is not None:
            cache.invalidate(everything)
        try:
            transport().publish(everything)
        except Exception as exc:  # noqa: BLE001  (the commit happened; never fail the request)
            logger.error(
                "auth cache: could not publish an invalidation (%s); other workers drop "
                "the entries within AUTH_CACHE_TIMEOUT",
                type(exc).__name__,
            )

    transaction.on_commit(send, using=using)


def announce_account(account_id: int, user_id: int | None, using: str | None = None) -> None:
    """Announce a change to one account: its token lookups (which carry the rendered
    ``GET /v1/account`` body) and its user's account list. For writes that bypass the model
    signals (``QuerySet.update``) but change what the API shows, such as the refresher's
    ``tokenStatus`` and ``active``: one query for the token hashes when a shared cache is on."""
    hashes: list[str] = []
    if shared_cache.auth_cache() is not None:
        tokens = AccountToken.objects.db_manager(using) if using else AccountToken.objects
        hashes = list(tokens.filter(account_id=account_id).values_list("token_hash", flat=True))
    announce([f"a:{account_id}", *([f"u:{user_id}"] if user_id else [])], hashes, using=using)


def payloads(tags: list[str]) -> Iterator[str]:
    """Space-separated tags in messages of at most MAX_PAYLOAD bytes."""
    batch: list[str] = []
    size = 0
    for tag in tags:
        if batch and size + len(tag) + 1 > MAX_PAYLOAD:
            yield " ".join(batch)
            batch, size = [], 0
        batch.append(tag)
        size += len(tag) + 1
    if batch:
        yield " ".join(batch)


# --- transports --------------------------------------------------------------------------


def transport() -> PostgresTransport | RedisTransport:
    mode = str(aurinko_settings.AUTH_LOCAL_CACHE)
    if mode == "postgresql":
        return PostgresTransport(router.db_for_write(AccountToken))
    if mode == "redis":
        return RedisTransport(redis_url_of_cache())
    if mode.startswith(("redis://", "rediss://", "unix://")):
        return RedisTransport(mode)
    raise ValueError(f"AUTH_LOCAL_CACHE must be 'postgresql', 'redis' or a redis:// URL: {mode!r}")


def redis_url_of_cache() -> str:
    """The (first) server of the Redis cache ``AUTH_CACHE``."""
    alias = aurinko_settings.AUTH_CACHE
    servers = getattr(caches[alias], "_servers", None) if alias else None
    if not servers:
        raise ValueError("AUTH_LOCAL_CACHE = 'redis' needs AUTH_CACHE on Django's RedisCache")
    return str(servers[0])


class PostgresTransport:
    """LISTEN on a connection of its own; NOTIFY through Django's connection."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def publish(self, tags: list[str]) -> None:
        with connections[self.alias].cursor() as cursor:
            for payload in payloads(tags):
                cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])

    def subscribe(self) -> Any:
        import psycopg  # noqa: PLC0415  (optional: only with PostgreSQL)

        params = connections[self.alias].get_connection_params()
        for key in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(key, None)
        params.setdefault("connect_timeout", 5)
        params.setdefault("keepalives_idle", 5)
        params["application_name"] = f"{LISTENER_NAME}-{os.getpid()}"
        conn = psycopg.connect(**params, autocommit=True)
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def messages(self, conn: Any, stopping: threading.Event) -> Iterator[list[str]]:
        while not stopping.is_set():
            for notify in conn.notifies(timeout=HEARTBEAT):
                yield notify.payload.split()
            conn.execute("SELECT 1")  # an idle connection proves it is alive

    def close(self, conn: Any) -> None:
        conn.close()


class RedisTransport:
    """SUBSCRIBE on a connection of its own (no silent reconnect: a lost connection must be
    seen, the messages sent meanwhile are lost); PUBLISH through a shared client."""

    _publishers: dict[tuple[int, str], Any] = {}

    def __init__(self, url: str) -> None:
        self.url = url
        # Pub/sub ignores Redis' numbered databases: brokers sharing a server but not a
        # database must not hear each other.
        self.channel = f"{CHANNEL}:{urlsplit(url).path.lstrip('/') or '0'}"

    def publish(self, tags: list[str]) -> None:
        import redis  # noqa: PLC0415  (optional: only with Redis)

        key = (os.getpid(), self.url)
        client = self._publishers.get(key)
        if client is None:
            client = self._publishers[key] = redis.Redis.from_url(
                self.url, socket_timeout=2, socket_connect_timeout=2
            )
        for payload in payloads(tags):
            client.publish(self.channel, payload)

    def subscribe(self) -> Any:
        import redis  # noqa: PLC0415
        from redis.backoff import NoBackoff  # noqa: PLC0415
        from redis.retry import Retry  # noqa: PLC0415

        client = redis.Redis.from_url(
            self.url,
            socket_timeout=HEARTBEAT * 5,
            socket_connect_timeout=5,
            retry=Retry(NoBackoff(), 0),
            client_name=f"{LISTENER_NAME}-{os.getpid()}",
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        return pubsub

    def messages(self, pubsub: Any, stopping: threading.Event) -> Iterator[list[str]]:
        while not stopping.is_set():
            message = pubsub.get_message(timeout=HEARTBEAT)
            if message is None:
                pubsub.ping()  # an idle connection proves it is alive
            elif message.get("type") == "message":
                yield message["data"].decode().split()

    def close(self, pubsub: Any) -> None:
        pubsub.close()


class Listener(threading.Thread):
    """Drops the entries every message names; on a lost connection, empties the cache,
    falls back to the short TTL, logs it, and reconnects with backoff."""

    def __init__(self, cache: LocalCache, channel: PostgresTransport | RedisTransport) -> None:
        super().__init__(name="aurinko-auth-invalidation", daemon=True)
        self.cache = cache
        self.channel = channel
        self.stopping = threading.Event()
        self.connected = threading.Event()  # tests wait on it

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=0.2)

    def run(self) -> None:
        delay, lost = 0.2, False
        while not self.stopping.is_set():
            failure: BaseException | None = None
            conn = None
            try:
                conn = self.channel.subscribe()
                # Messages may have been missed before: start empty, then trust the channel.
                self.cache.clear()
                self.cache.listening = True
                self.connected.set()
                if lost:
                    logger.warning("auth cache: invalidation channel recovered")
                else:
                    logger.info("auth cache: listening for invalidations")
                delay, lost = 0.2, False
                for tags in self.channel.messages(conn, self.stopping):
                    self.cache.invalidate(tags)
            except Exception as exc:  # noqa: BLE001  (any failure: reconnect)
                failure = exc
            finally:
                # Messages may be missed from now on: drop what was cached while listening
                # before saying so (a lookup reading "not listening" finds no such entry).
                self.cache.clear()
                self.cache.listening = False
                self.connected.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):  # closing a dead connection
                        self.channel.close(conn)
            if self.stopping.is_set():
                break
            if not lost:
                logger.warning(
                    "auth cache: invalidation channel lost (%s); cached lookups live at most "
                    "%s s until it is back",
                    type(failure).__name__ if failure else "closed",
                    self.cache.fallback_ttl,
                )
            lost = True
            self.stopping.wait(delay)
            delay = min(delay * 2, 5.0)
