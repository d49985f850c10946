"""Untrusted values parsed in one place: ids and numbers from queries, headers, paths and forms.

``str.isdigit()`` is true for ``"²"`` and ``"١"`` (superscripts, other scripts' digits), and
``int()`` accepts some of them and refuses others: a check with one and a conversion with the
other is a 500 waiting to happen. Everything here takes ASCII decimal digits only.
"""

from __future__ import annotations

import re

_DECIMAL = re.compile(r"[0-9]{1,19}", re.ASCII)
# A database id (a positive signed 64-bit integer) at most.
MAX_ID = 2**63 - 1


def decimal(value: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """``value`` as an int when it is ASCII decimal digits within [minimum, maximum], else None
    (the caller raises its own error: a 400 for a parameter, a 404 for a path id)."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def object_id(value: object) -> int | None:
    """A primary key from a path, header or query (1 .. 2**63-1), else None."""
    return decimal(value, minimum=1)


def has_nul(*values: object) -> bool:
    """Whether any of ``values`` holds a NUL character (PostgreSQL refuses them in text)."""
    return any(isinstance(v, str) and "\x00" in v for v in values)
