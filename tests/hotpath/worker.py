"""A worker process for the cross-process cache tests: Django set up as a server would be
(``tests.settings``, the database and AUTH_LOCAL_CACHE from the environment), answering one
JSON command per line on stdin with one JSON line on stdout.

    {"op": "ready"}                               -> waits until the listener is connected
    {"op": "token", "token": ...}                 -> {"ok", "code", "queries"}
    {"op": "session", "session": ...}             -> {"ok", "code", "queries"}
    {"op": "hammer", "token": ..., "seconds": s}  -> every lookup's start, end and outcome, and
                                                     when the listener saw each invalidation
    {"op": "state"}                               -> {"listening", "entries"}

Times are ``time.monotonic()``: one clock for every process of the machine.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from aurinko_auth.exceptions import AurinkoError  # noqa: E402
from aurinko_auth.hotpath import auth, channel, sessions, tokens  # noqa: E402

SEEN: list[tuple[float, list[str]]] = []


def _watch() -> None:
    """Record when this process's listener applies each invalidation."""
    cache = channel.local_cache()
    original = cache.invalidate

    def invalidate(tags):  # type: ignore[no-untyped-def]
        dropped = original(tags)
        SEEN.append((time.monotonic(), list(tags)))
        return dropped

    cache.invalidate = invalidate  # type: ignore[method-assign]


def _attempt(run) -> dict:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        try:
            run()
            return {"ok": True, "code": None, "queries": len(ctx.captured_queries)}
        except AurinkoError as exc:
            return {"ok": False, "code": str(exc.code), "queries": len(ctx.captured_queries)}


def handle(command: dict) -> dict:
    op = command["op"]
    if op == "ready":
        listener = channel._state["listener"]
        return {"ready": listener.connected.wait(10)}
    if op == "state":
        cache = channel.local_cache()
        return {"listening": cache.listening, "entries": len(cache)}
    if op == "token":
        return _attempt(lambda: tokens.account_from_token(command["token"]))
    if op == "client":
        return _attempt(lambda: auth.app_from_credentials(command["client_id"], command["secret"]))
    if op == "session":
        return _attempt(
            lambda: sessions.user_from_session(header=command["session"], cookies={}, origin=None)
        )
    if op == "hammer":
        SEEN.clear()
        lookups = []
        deadline = time.monotonic() + command["seconds"]
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                tokens.account_from_token(command["token"])
                ok = True
            except AurinkoError:
                ok = False
            lookups.append((start, time.monotonic(), ok))
        return {"lookups": lookups, "seen": SEEN}
    raise ValueError(op)


def main() -> None:
    channel.local_cache()  # start the listener, as the first request would
    _watch()
    # Prepare the token statement on this connection, as earlier requests would have.
    _attempt(lambda: tokens.account_from_token("aat_unknown"))
    for line in sys.stdin:
        print(json.dumps(handle(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
