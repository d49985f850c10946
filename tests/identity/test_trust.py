"""Which identity tokens an app trusts: ``aurinko_app trust``/``untrust`` and the admin."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aurinko_auth.models import IdentityTrust

pytestmark = pytest.mark.django_db
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def run(*args: str) -> object:
    out = StringIO()
    call_command("aurinko_app", *args, stdout=out)
    return json.loads(out.getvalue())


def test_trust_stores_and_prints_the_trust(app_factory):
    app, _ = app_factory()
    printed = run(
        "trust",
        app.client_id,
        "entraIdToken",
        "--audience",
        "api://addin.example.com/5f2c",
        "--audience",
        "5f2c0e0a-0000-4000-8000-000000000001",
        "--tenant",
        TENANT.upper(),
        "--issuer",
        "http://127.0.0.1:8123/{tid}/v2.0",
        "--jwks",
        "http://127.0.0.1:8123/keys",
    )
    assert printed == {
        "clientId": app.client_id,
        "type": "entraIdToken",
        "audiences": ["api://addin.example.com/5f2c", "5f2c0e0a-0000-4000-8000-000000000001"],
        "tenants": [TENANT],
        "issuer": "http://127.0.0.1:8123/{tid}/v2.0",
        "jwks": "http://127.0.0.1:8123/keys",
    }
    trust = IdentityTrust.objects.get(app=app)
    assert trust.as_dict() == printed
    # Running it again replaces the trust (scripts are idempotent).
    again = run("trust", app.client_id, "entraIdToken", "--audience", "other-client")
    assert again["audiences"] == ["other-client"] and again["tenants"] == []
    assert again["issuer"] is None and IdentityTrust.objects.filter(app=app).count() == 1


def test_untrust_removes_it(app_factory):
    app, _ = app_factory()
    run("trust", app.client_id, "googleIdToken", "--audience", "123.apps.googleusercontent.com")
    assert run("untrust", app.client_id, "googleIdToken") == {
        "clientId": app.client_id,
        "type": "googleIdToken",
        "trusted": False,
    }
    assert not IdentityTrust.objects.exists()
    with pytest.raises(CommandError, match="does not trust"):
        run("untrust", app.client_id, "googleIdToken")


@pytest.mark.parametrize(
    "args, message",
    [
        (["entraIdToken"], "audience"),
        (["entraIdToken", "--audience", " "], "at least one audience"),
        (["exchangeIdToken", "--audience", "not-a-url"], "add-in URL"),
        (["exchangeIdToken", "--audience", "http://addin.example.com/x"], "add-in URL"),
        (["entraIdToken", "--audience", "a", "--tenant", "contoso.com"], "tenant id"),
        (["googleIdToken", "--audience", "a", "--tenant", "not a domain"], "hosted domain"),
        (["entraIdToken", "--audience", "a", "--issuer", "http://idp.example.com"], "https"),
        (["googleIdToken", "--audience", "a", "--jwks", "ftp://x.example.com/k"], "https"),
        (["samlToken", "--audience", "a"], "invalid choice"),
    ],
)
def test_trust_is_validated(app_factory, args, message):
    app, _ = app_factory()
    with pytest.raises((CommandError, SystemExit)) as caught:
        run("trust", app.client_id, *args)
    if isinstance(caught.value, CommandError):
        assert message in str(caught.value)
    assert not IdentityTrust.objects.exists()


def test_unknown_app_is_refused():
    with pytest.raises(CommandError, match="No app"):
        run("trust", "nope-nope-nope", "googleIdToken", "--audience", "a")
