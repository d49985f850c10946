"""Audit details have one key style, camelCase (the JSON API's), wherever they are written;
secret-looking keys are redacted in any spelling."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import aurinko_auth
from aurinko_auth import audit

PACKAGE = Path(aurinko_auth.__file__).parent
# record()'s own parameters; every other keyword is a detail key.
PARAMETERS = {"app", "actor", "request", "actor_name"}
CAMEL_CASE = re.compile(r"[a-z][a-zA-Z0-9]*\Z")


def _record_calls():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func, "value", None)
            if name == "record" and (
                path.name == "audit.py" or getattr(owner, "id", None) == "audit"
            ):
                yield path.relative_to(PACKAGE.parent), node


def test_every_audit_record_call_uses_camel_case_detail_keys():
    calls = list(_record_calls())
    # The admin (apps, accounts), the flows and accounts.py all record events.
    assert len(calls) >= 15
    wrong = [
        f"{path}:{node.lineno}: {kw.arg}"
        for path, node in calls
        for kw in node.keywords
        if kw.arg is not None and kw.arg not in PARAMETERS and not CAMEL_CASE.match(kw.arg)
    ]
    assert wrong == []


def test_camel_case_secret_keys_are_redacted(db, team):
    event = audit.record(
        audit.Event.PROVIDER_CHANGED,
        app=team.app,
        clientSecret="oops",
        nested={"refreshToken": "rt", "ACCESS-TOKEN": "at", "fine": 1},
        serviceAccountKey="{}",
        secretChanged="yes",
    )
    event.refresh_from_db()
    assert event.details == {
        "clientSecret": "[redacted]",
        "nested": {"refreshToken": "[redacted]", "ACCESS-TOKEN": "[redacted]", "fine": 1},
        "serviceAccountKey": "[redacted]",
        "secretChanged": "yes",
    }
