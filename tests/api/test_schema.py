"""The OpenAPI schema at /v1/schema: valid, and true to the real responses."""

from __future__ import annotations

import base64

import jsonschema
import pytest
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from referencing import Registry, Resource

from aurinko_auth import usersessions
from aurinko_auth.models import AppUser, UserSession


@pytest.fixture
def schema(client):
    response = client.get("/v1/schema?format=json")
    assert response.status_code == 200
    return response.json()


def check(schema: dict, path: str, method: str, response) -> None:
    """Validate a real response body against the schema of that operation and status."""
    operation = schema["paths"][path][method]
    spec = operation["responses"][str(response.status_code)]
    if "content" not in spec:
        assert not response.content
        return
    body_schema = spec["content"]["application/json"]["schema"]

    def resolve(node):  # point local refs at the whole document
        if isinstance(node, dict):
            out = {k: ("urn:schema" + v if k == "$ref" else resolve(v)) for k, v in node.items()}
            if "properties" in out:  # every field we send is described (GET /v1/schema)
                out.setdefault("additionalProperties", False)
            return out
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    described = resolve(schema)
    registry = Registry().with_resource("urn:schema", Resource.opaque(described))
    jsonschema.Draft202012Validator(resolve(body_schema), registry=registry).validate(
        response.json()
    )


def test_schema_is_valid_openapi(schema):
    validate_schema(schema)
    assert set(schema["components"]["securitySchemes"]) == {
        "accountToken",
        "clientCredentials",
        "publicClient",
        "userSessionHeader",
        "userSessionCookie",
    }
    assert "/v1/account" in schema["paths"] and "/v1/user" in schema["paths"]


def test_real_responses_match_the_schema(
    schema, client, app_factory, account_factory, account_token_factory
):
    app, secret = app_factory()
    account = account_factory(app, requested_scopes=["Mail.Read"], scopes=["Mail.Read"])
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {account_token_factory(account)}"}
    basic = {
        "HTTP_AUTHORIZATION": "Basic "
        + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    }
    cases = [
        ("/v1/account", "get", client.get("/v1/account", **bearer), 200),
        ("/v1/account", "get", client.get("/v1/account"), 401),
        ("/v1/am/accounts", "get", client.get("/v1/am/accounts", **basic), 200),
        ("/v1/am/accounts", "get", client.get("/v1/am/accounts?limit=x", **basic), 400),
        (
            "/v1/am/accounts/{account_id}",
            "get",
            client.get(f"/v1/am/accounts/{account.pk}", **basic),
            200,
        ),
        ("/v1/am/accounts/{account_id}", "get", client.get("/v1/am/accounts/999", **basic), 404),
        ("/v1/auth/token/{code}", "post", client.post("/v1/auth/token/nope", **basic), 400),
        ("/v1/user", "get", client.get("/v1/user"), 401),
    ]
    for path, method, response, status in cases:
        assert response.status_code == status, (path, response.content)
        check(schema, path, method, response)


def test_user_session_responses_match_the_schema(schema, client, app_factory, account_factory):
    app, _ = app_factory()
    user = AppUser.objects.create(app=app, email="ann@example.com")
    account_factory(app, user=user, account_type="primary")
    token = usersessions.start(user)
    header = {"HTTP_X_AURINKO_SESSION": token}
    check(schema, "/v1/user", "get", client.get("/v1/user", **header))
    check(schema, "/v1/user/sessions", "get", client.get("/v1/user/sessions", **header))
    session = UserSession.objects.get()
    response = client.delete(f"/v1/user/sessions/{session.pk}", **header)
    check(schema, "/v1/user/sessions/{session_id}", "delete", response)


def test_the_schema_is_generated_without_warnings(client, capsys):
    """drf-spectacular warned on every /v1/schema request (an unguessable Direct API view, an
    operationId collision): issue 18 item 15."""
    capsys.readouterr()
    for _ in range(2):
        assert client.get("/v1/schema?format=json").status_code == 200
    captured = capsys.readouterr()
    assert "Warning" not in captured.err and "Error" not in captured.err, captured.err
    assert "Warning" not in captured.out and "Error" not in captured.out, captured.out


def test_values_left_out_when_unknown_are_optional_in_the_schema(schema):
    schemas = schema["components"]["schemas"]
    for name in ("Account", "UserAccount"):
        required = set(schemas[name]["required"])
        assert required >= {"id", "type", "daemon", "tokenStatus"}
        assert not required & {"serverUrl", "authOrgId", "clientOrgId", "authObtainedAt"}
        assert not any(f.get("nullable") for f in schemas[name]["properties"].values())
    assert schemas["AccountType"]["enum"] == ["personal", "daemon", "managed"]  # Aurinko's names
    assert schemas["UserAccountType"]["enum"] == ["primary", "secondary"]
    assert "done" in schemas["AccountPage"]["required"]


def test_every_field_served_is_described_and_what_is_left_out_is_optional(
    schema, client, app_factory, account_factory, account_token_factory
):
    """The fields Aurinko's contract has that we send only when known (serverUrl, userId,
    authExpiresAt...) are in /v1/schema and not required; check() refuses undescribed ones."""
    app, secret = app_factory()
    user = AppUser.objects.create(app=app, email="ann@example.com", auth_org_id="example.com")
    bare = account_factory(app)
    full = account_factory(
        app,
        user=user,
        account_type="primary",
        name="Ann",
        server_url="https://mail.example.com",
        auth_org_id="example.com",
        client_org_id="tenant-a",
        auth_obtained_at=timezone.now(),
        access_token_expires_at=timezone.now(),
        access_token_issued_at=timezone.now(),
        native_scopes=["https://mail.google.com/"],
    )
    basic = {
        "HTTP_AUTHORIZATION": "Basic "
        + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    }
    for account in (bare, full):
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {account_token_factory(account)}"}
        check(schema, "/v1/account", "get", client.get("/v1/account", **bearer))
        path = f"/v1/am/accounts/{account.pk}"
        check(schema, "/v1/am/accounts/{account_id}", "get", client.get(path, **basic))
    served = set(client.get(path, **basic).json())
    assert served >= {"userId", "authExpiresAt", "tokenIssuedAt", "serverUrl"}
    check(schema, "/v1/am/accounts", "get", client.get("/v1/am/accounts", **basic))
    header = {"HTTP_X_AURINKO_SESSION": usersessions.start(user)}
    body = client.get("/v1/user", **header)
    assert {"name", "authOrgId", "lastActivity"} <= set(body.json())
    check(schema, "/v1/user", "get", body)
    check(schema, "/v1/user/accounts", "get", client.get("/v1/user/accounts", **header))
    response = client.delete(f"/v1/am/accounts/{bare.pk}", **basic)
    check(schema, "/v1/am/accounts/{account_id}", "delete", response)
