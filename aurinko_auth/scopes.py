"""Aurinko's unified scopes, and parsing of the ``scopes`` parameter."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aurinko_auth.exceptions import InvalidScope

UNIFIED_SCOPES: tuple[str, ...] = (
    "Mail.Read",
    "Mail.ReadWrite",
    "Mail.Send",
    "Mail.Drafts",
    "Mail.All",
    "Calendar.Read",
    "Calendar.ReadWrite",
    "Contacts.Read",
    "Contacts.ReadWrite",
    "Tasks.Read",
    "Tasks.ReadWrite",
)
# Other names Aurinko's clients send for a unified scope (its documentation's Mail.ReadOnly).
ALIASES = {"Mail.ReadOnly": "Mail.Read"}
_CANONICAL = {s.lower(): s for s in UNIFIED_SCOPES} | {a.lower(): s for a, s in ALIASES.items()}
_SPLIT = re.compile(r"[\s,]+")
MAX_SCOPES_LENGTH = 1024


def parse_scopes(value: str | None) -> list[str]:
    """Parse a space- or comma-separated list into canonical unified scope names (deduplicated,
    in the canonical order; an alias is its scope). Unknown names raise :class:`InvalidScope`."""
    if not value:
        return []
    if len(value) > MAX_SCOPES_LENGTH:
        raise InvalidScope("The scopes parameter is too long.")
    found: set[str] = set()
    for part in _SPLIT.split(value.strip()):
        if not part:
            continue
        canonical = _CANONICAL.get(part.lower())
        if canonical is None:
            raise InvalidScope(f"Unknown scope: {part[:64]!r}.")
        found.add(canonical)
    return [s for s in UNIFIED_SCOPES if s in found]


def check_allowed(scopes: Iterable[str], allowed: Iterable[str]) -> None:
    allowed_set = set(allowed)
    refused = [s for s in scopes if s not in allowed_set]
    if refused:
        raise InvalidScope(f"Scope(s) not allowed for this app: {', '.join(refused)}.")
