"""`manage.py aurinko_app`: JSON output exactly as SPEC gives it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aurinko_auth.exceptions import AuthenticationFailed
from aurinko_auth.hotpath.auth import app_from_credentials
from aurinko_auth.models import App, AppMembership, ProviderConfig

pytestmark = pytest.mark.django_db


def run(*args: str) -> object:
    out = StringIO()
    call_command("aurinko_app", *args, stdout=out)
    return json.loads(out.getvalue())


def test_create_prints_client_id_and_secret(django_user_model):
    owner = django_user_model.objects.create_user("owner")
    created = run(
        "create",
        "--name",
        "CRM sync",
        "--return-url",
        "https://a.example.com/cb",
        "--return-url",
        "http://127.0.0.1:3000/cb",
        "--scopes",
        "Mail.Read Mail.Send",
        "--owner",
        "owner",
    )
    assert set(created) == {"clientId", "clientSecret"}
    app = App.objects.get(client_id=created["clientId"])
    assert app.return_urls == ["https://a.example.com/cb", "http://127.0.0.1:3000/cb"]
    assert app.allowed_scopes == ["Mail.Read", "Mail.Send"]
    assert created["clientSecret"] not in app.client_secret_hash
    assert AppMembership.objects.get(app=app).user == owner
    assert app_from_credentials(created["clientId"], created["clientSecret"]).app == app


@pytest.mark.parametrize(
    "args",
    [
        ["--return-url", "http://app.example.com/cb"],
        ["--return-url", "https://app.example.com/cb#x"],
        ["--return-url", "https://*.example.com/cb"],
        ["--return-url", "https://a.example.com/cb", "--scopes", "Files.Read"],
        ["--return-url", "https://a.example.com/cb", "--owner", "nobody"],
    ],
)
def test_create_rejects_bad_input(args):
    with pytest.raises(CommandError):
        run("create", "--name", "x", *args)
    assert not App.objects.exists()


def test_provider_sets_configuration_with_endpoints():
    created = run("create", "--name", "x", "--return-url", "https://a.example.com/cb")
    shown = run(
        "provider",
        created["clientId"],
        "office365",
        "--oauth-client-id",
        "azure-app",
        "--oauth-client-secret",
        "s3cret",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--endpoint",
        "token=https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token",
    )
    assert shown["serviceType"] == "Office365" and shown["tenant"] == "contoso.onmicrosoft.com"
    assert "s3cret" not in json.dumps(shown)
    config = ProviderConfig.objects.get()
    assert config.client_secret == "s3cret"
    assert config.endpoints["token"].startswith("https://login.microsoftonline.us/")


@pytest.mark.parametrize(
    "endpoint", ["token=http://evil.example.com/token", "nosuch=https://x", "token"]
)
def test_provider_rejects_bad_endpoints(endpoint):
    created = run("create", "--name", "x", "--return-url", "https://a.example.com/cb")
    with pytest.raises(CommandError):
        run(
            "provider",
            created["clientId"],
            "Google",
            "--oauth-client-id",
            "g",
            "--oauth-client-secret",
            "s",
            "--endpoint",
            endpoint,
        )


def test_provider_rejects_unknown_app_and_service_type():
    with pytest.raises(CommandError):
        run("provider", "nope", "Google", "--oauth-client-id", "g")
    created = run("create", "--name", "x", "--return-url", "https://a.example.com/cb")
    with pytest.raises(CommandError):
        run("provider", created["clientId"], "Yahoo", "--oauth-client-id", "g")


def test_list_and_rotate_secret():
    created = run("create", "--name", "x", "--return-url", "https://a.example.com/cb")
    listed = run("list")
    assert listed[0]["clientId"] == created["clientId"] and "clientSecret" not in listed[0]
    rotated = run("rotate-secret", created["clientId"])
    assert rotated["clientId"] == created["clientId"]
    assert rotated["clientSecret"] != created["clientSecret"]
    with pytest.raises(AuthenticationFailed):
        app_from_credentials(created["clientId"], created["clientSecret"])
    assert app_from_credentials(created["clientId"], rotated["clientSecret"])


def test_required_scopes_on_create_and_with_the_scopes_subcommand():
    created = run(
        "create",
        "--name",
        "x",
        "--return-url",
        "https://a.example.com/cb",
        "--scopes",
        "Mail.Read Calendar.Read",
        "--required-scopes",
        "Mail.Read",
    )
    app = App.objects.get(client_id=created["clientId"])
    assert app.required_scopes == ["Mail.Read"]
    changed = run("scopes", app.client_id, "--required", "Mail.Read,Calendar.Read")
    assert changed == {
        "clientId": app.client_id,
        "scopes": ["Mail.Read", "Calendar.Read"],
        "requiredScopes": ["Mail.Read", "Calendar.Read"],
    }
    app.refresh_from_db()
    assert app.required_scopes == ["Mail.Read", "Calendar.Read"]
    # A required scope must be allowed; narrowing the allowed scopes below it is refused too.
    with pytest.raises(CommandError, match="Mail.Send is not allowed"):
        run("scopes", app.client_id, "--required", "Mail.Send")
    with pytest.raises(CommandError, match="Calendar.Read is not allowed"):
        run("scopes", app.client_id, "--allowed", "Mail.Read")
    app.refresh_from_db()
    assert app.allowed_scopes == ["Mail.Read", "Calendar.Read"]
    assert run("scopes", app.client_id, "--required", "")["requiredScopes"] == []
    listed = run("list")
    assert listed[0]["requiredScopes"] == []
    with pytest.raises(CommandError):
        run("create", "--name", "y", "--scopes", "Mail.Read", "--required-scopes", "Mail.Send")
