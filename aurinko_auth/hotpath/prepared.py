"""How a hot-path read uses its database connection, behind one setting, ``AUTH_PREPARED_QUERY``:

* on PostgreSQL, outside transactions, the statement is prepared once per connection
  (``PREPARE``) and run with ``EXECUTE``: planning the account-token join on every plain query
  costs several times its execution. A statement the server no longer has (a pooler reset the
  session) is prepared again;
* on any database, the read stands in for ``CONN_HEALTH_CHECKS``: Django would send
  ``SELECT 1`` before it, a second round trip on every request. If the persistent connection
  turns out to be dead, it is closed and the read retried once on a new one, which is what the
  health check would have done. This uses the connection's ``health_check_enabled`` and
  ``health_check_done`` attributes (undocumented Django internals): this module is the only
  one that touches them.

With the setting off (behind a pooler that drops prepared statements, say), reads are plain
``cursor.execute`` calls and Django's own health check runs as usual.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError

from aurinko_auth.conf import aurinko_settings

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"%s")
# Which statements each DB-API connection has prepared (a new connection has none).
_prepared_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_statements: dict[tuple[str, str], tuple[str, str, str]] = {}


def enabled() -> bool:
    return bool(aurinko_settings.AUTH_PREPARED_QUERY)


def read(conn: Any, run: Callable[[], T]) -> T:
    """``run()`` (one query on ``conn``), standing in for the connection's health check."""
    if (
        enabled()
        and getattr(conn, "health_check_enabled", False)
        and not conn.health_check_done
        and conn.connection is not None
        and not conn.in_atomic_block
    ):
        conn.health_check_done = True
        try:
            return run()
        except (OperationalError, InterfaceError):
            conn.close()
    return run()


def execute(conn: Any, cursor: Any, prefix: str, sql: str, params: Sequence[Any]) -> None:
    """``cursor.execute(sql, params)``, through a statement named ``prefix_<hash of sql>``
    prepared on this connection when that applies (PostgreSQL, autocommit, setting on).
    Only in autocommit, where a failed statement harms nothing."""
    if conn.vendor != "postgresql" or conn.in_atomic_block or not enabled():
        cursor.execute(sql, params)
        return
    name, prepare, run = statement(prefix, sql)
    raw = conn.connection
    done = _prepared_on.get(raw)
    if done is None:
        done = _prepared_on[raw] = set()
    if name not in done:
        _prepare(cursor, prepare)
        done.add(name)
    try:
        cursor.execute(run, params)
    except DatabaseError as exc:
        if _sqlstate(exc) != "26000":  # invalid_sql_statement_name
            raise
        _prepare(cursor, prepare)
        cursor.execute(run, params)


def statement(prefix: str, sql: str) -> tuple[str, str, str]:
    """``(name, PREPARE ..., EXECUTE ...)`` of ``sql``; named after the SQL, so a statement
    of that name is always this statement."""
    key = (prefix, sql)
    found = _statements.get(key)
    if found is None:
        name = f"{prefix}_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
        numbers = iter(range(1, sql.count("%s") + 1))
        body = _PLACEHOLDER.sub(lambda _: f"${next(numbers)}", sql)
        args = ", ".join(["%s"] * sql.count("%s"))
        found = _statements[key] = (name, f"PREPARE {name} AS {body}", f"EXECUTE {name}({args})")
    return found


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def _prepare(cursor: Any, prepare: str) -> None:
    try:
        cursor.execute(prepare)
    except DatabaseError as exc:
        if _sqlstate(exc) != "42P05":  # duplicate_prepared_statement: it is this statement
            raise
