"""Aurinko's contract for the auth endpoints, checked against our real responses.

``aurinko_openapi_auth.json`` holds facts extracted once from Aurinko's published OpenAPI (its
``source`` names the repository, file and commit): per auth path and method the response
schema of each status, and every schema those use with its fields' types, formats, enums and
nullability. :func:`assert_conforms` turns the schema of a response's operation and status
into JSON Schema and validates the body with ``jsonschema`` (formats checked: ``date-time``,
``uuid``, ``int64``...).

OpenAPI 3.0 rules as a generated client (Java, TypeScript) applies them: a field without
``nullable: true`` is never ``null``; enum values outside the list are errors; fields the
contract does not list are allowed (our extensions); a status the operation does not list is an
error unless it is an error status (>= 400, Aurinko's ``default``), whose body is then
``ApiRequestFailed``. A success the contract describes without a body answers
``OkResponse`` (docs/aurinko-compat decisions, ``DELETE /v1/account``).

:data:`DIFFERENCES` are the deliberate differences from the contract (each in the README's
compatibility table); nothing else may differ.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

CONTRACT_FILE = Path(__file__).with_name("aurinko_openapi_auth.json")

# Deliberate differences: (schema, field) -> the field's schema as we serve it, and why.
DIFFERENCES: dict[tuple[str, str], tuple[dict[str, Any], str]] = {
    ("EndUserAccountDto", "type"): (
        {"ref": "UserAccountType", "nullable": False},
        "Aurinko's documentation (seed 004) shows /v1/user's accounts with type primary or "
        "secondary; the OpenAPI says AccountType. We follow the documentation and also send "
        "userAccountType (the OpenAPI's field for that role).",
    ),
}

# Integer formats of OpenAPI and their ranges (jsonschema knows no int32/int64).
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@cache
def contract() -> dict[str, Any]:
    return json.loads(CONTRACT_FILE.read_text())


def _field_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """One field's facts (type, format, enum, items, ref, nullable) as JSON Schema."""
    if "ref" in spec:
        out: dict[str, Any] = {"$ref": f"#/$defs/{spec['ref']}"}
    else:
        out = {}
        if "type" in spec:
            out["type"] = spec["type"]
        if "format" in spec:
            out["format"] = spec["format"]
            if spec["format"] in _INT_RANGES:
                out["minimum"], out["maximum"] = _INT_RANGES[spec["format"]]
        if "enum" in spec:
            out["enum"] = list(spec["enum"])
        if "items" in spec:
            out["items"] = _field_schema(spec["items"])
        if "additionalProperties" in spec:
            out["additionalProperties"] = _field_schema(spec["additionalProperties"])
    if spec.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _schema_def(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    if spec.get("type") == "object" and "properties" in spec:
        properties = {}
        for field, field_spec in spec["properties"].items():
            served = DIFFERENCES.get((name, field))
            properties[field] = _field_schema(served[0] if served else field_spec)
        out: dict[str, Any] = {"type": "object", "properties": properties}
        if spec.get("required"):
            out["required"] = list(spec["required"])
        return out
    return _field_schema({k: v for k, v in spec.items() if k != "required"})


@cache
def _defs() -> dict[str, Any]:
    return {name: _schema_def(name, spec) for name, spec in contract()["schemas"].items()}


def json_schema(name: str) -> dict[str, Any]:
    """The contract's schema ``name`` as a standalone JSON Schema (2020-12)."""
    return {"$ref": f"#/$defs/{name}", "$defs": copy.deepcopy(_defs())}


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """``(template, operation)`` of the contract for a request path (any mount point: the
    part from ``/v1/`` on)."""
    path = path[path.index("/v1/") :] if "/v1/" in path else path
    for template, methods in contract()["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path.rstrip("/") or "/") and method.lower() in methods:
            return template, methods[method.lower()]
    raise AssertionError(f"{method} {path} is not an operation of Aurinko's auth contract")


def response_schema(method: str, path: str, status: int) -> str:
    """The name of the contract's schema for this operation's ``status``."""
    template, op = operation(method, path)
    responses = op["responses"]
    if str(status) in responses:
        spec = responses[str(status)]
        if spec is None:
            if status >= 400:
                return "ApiRequestFailed"
            return "OkResponse"
        assert "ref" in spec, f"{template}: inline response schemas are not in the extract"
        return spec["ref"]
    if status >= 400 and "default" in responses:
        return "ApiRequestFailed"
    raise AssertionError(
        f"{method.upper()} {template} answered {status}; Aurinko's contract lists "
        f"{', '.join(sorted(responses))}"
    )


def validate(name: str, body: Any) -> list[str]:
    """Every way ``body`` breaks the contract's schema ``name`` (empty: it conforms)."""
    validator = jsonschema.Draft202012Validator(
        json_schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    ]


def assert_conforms(response: Any, *, method: str | None = None, path: str | None = None) -> Any:
    """Assert a Django test-client (or ``requests``) response is what Aurinko's contract says
    for its operation and status; returns the parsed body (None for a redirect)."""
    request = getattr(response, "request", None)
    if isinstance(request, dict):  # django.test.Client
        method = method or request["REQUEST_METHOD"]
        path = path or request["PATH_INFO"]
    elif request is not None:  # requests
        from urllib.parse import urlsplit

        method = method or request.method
        path = path or urlsplit(request.url).path
    assert method and path, "say which request this response answers (method=, path=)"
    status = response.status_code
    template, op = operation(method, path)
    if 300 <= status < 400:
        assert str(status) in op["responses"], (
            f"{method.upper()} {template} redirected with {status}; the contract says "
            f"{', '.join(sorted(op['responses']))}"
        )
        return None
    name = response_schema(method, path, status)
    content_type = response.headers.get("Content-Type", "")
    assert content_type.startswith("application/json"), (
        f"{method.upper()} {template} {status}: {content_type!r} body, the contract says JSON "
        f"{name}"
    )
    body = response.json()
    problems = validate(name, body)
    assert not problems, f"{method.upper()} {template} {status} is not {name}:\n" + "\n".join(
        problems
    )
    return body
