"""Moving from Aurinko: an app created with the clientId and clientSecret it had there, from
the command line and the admin (issue 16 part B, item 3)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from aurinko_auth.models import App, AuditEvent
from tests.admin.conftest import form_data
from tests.flows.conftest import basic

pytestmark = pytest.mark.django_db

CLIENT_ID = "a8b7c6d5e4f3g2h1"
CLIENT_SECRET = "Yx9-Secret_from.Aurinko~0123456789"


def run(*args: str, stdin: str | None = None) -> dict:
    from aurinko_auth.management.commands.aurinko_app import Command

    out = StringIO()
    command = Command()
    if stdin is not None:
        command.stdin = StringIO(stdin)
    call_command(command, *args, stdout=out)
    return json.loads(out.getvalue())


def create(*extra: str, stdin: str | None = None) -> dict:
    return run(
        "create",
        "--name",
        "Imported",
        "--return-url",
        "https://a.example.com/cb",
        *extra,
        stdin=stdin,
    )


def test_create_with_the_aurinko_credentials_authenticates_with_them(client):
    created = create("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    assert created == {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}
    app = App.objects.get(client_id=CLIENT_ID)
    assert app.client_secret_hash != CLIENT_SECRET and CLIENT_SECRET not in app.user_signing_key
    ok = client.get("/v1/am/accounts", HTTP_AUTHORIZATION=basic(CLIENT_ID, CLIENT_SECRET))
    assert ok.status_code == 200
    wrong = client.get("/v1/am/accounts", HTTP_AUTHORIZATION=basic(CLIENT_ID, CLIENT_SECRET + "x"))
    assert wrong.status_code == 401


def test_the_secret_may_come_from_stdin():
    created = create("--client-id", CLIENT_ID, "--client-secret", "-", stdin=CLIENT_SECRET + "\n")
    assert App.objects.get(client_id=created["clientId"]).check_client_secret(CLIENT_SECRET)


@pytest.mark.parametrize(
    "args, message",
    [
        (("--client-id", "short", "--client-secret", CLIENT_SECRET), "8 to 64"),
        (("--client-id", "has space in it", "--client-secret", CLIENT_SECRET), "8 to 64"),
        (("--client-id", "x" * 65, "--client-secret", CLIENT_SECRET), "8 to 64"),
        (("--client-id", CLIENT_ID, "--client-secret", "too-short"), "16 to 128"),
        (("--client-id", CLIENT_ID, "--client-secret", "with a space 0123456"), "16 to 128"),
        (("--client-id", CLIENT_ID), "go together"),
        (("--client-secret", CLIENT_SECRET), "go together"),
    ],
)
def test_bad_imported_credentials_are_clear_errors_and_write_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        create(*args)
    assert not App.objects.exists()


def test_a_taken_client_id_is_refused():
    create("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    with pytest.raises(CommandError, match="exists already"):
        create("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    assert App.objects.count() == 1


def test_admin_owner_imports_an_app_with_its_credentials(client, django_user_model):
    owner = django_user_model.objects.create_user("olivia", password="pw", is_staff=True)
    client.force_login(owner)
    data = {
        "name": "Imported",
        "return_urls": "https://a.example.com/cb",
        "allowed_scopes": ["Mail.Read"],
        "import_client_id": CLIENT_ID,
        "import_client_secret": CLIENT_SECRET,
    }
    response = client.post("/admin/aurinko_auth/app/add/", data)
    assert response.status_code == 302, response.content[:2000]
    app = App.objects.get(client_id=CLIENT_ID)
    assert app.check_client_secret(CLIENT_SECRET) and not app.aurinko_signatures
    event = AuditEvent.objects.get(app=app, event="app.created")
    assert event.details["imported"] is True and CLIENT_SECRET not in json.dumps(event.details)


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"import_client_id": "no"}, b"8 to 64"),
        ({"import_client_id": CLIENT_ID}, b"go together"),
        ({"import_client_id": CLIENT_ID, "import_client_secret": "short"}, b"16 to 128"),
    ],
)
def test_admin_import_is_validated(client, django_user_model, extra, message):
    owner = django_user_model.objects.create_user("olivia", password="pw", is_staff=True)
    client.force_login(owner)
    data = {"name": "Imported", "return_urls": "https://a.example.com/cb", **extra}
    response = client.post("/admin/aurinko_auth/app/add/", data)
    assert response.status_code == 200 and message in response.content
    assert not App.objects.exists()


def test_admin_switches_signatures_only_with_the_current_secret(client, django_user_model):
    from aurinko_auth.models import AppMembership

    created = create("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    app = App.objects.get(client_id=created["clientId"])
    owner = django_user_model.objects.create_user("olivia", password="pw", is_staff=True)
    AppMembership.objects.create(app=app, user=owner, role="owner")
    client.force_login(owner)
    url = reverse("admin:aurinko_auth_app_change", args=[app.pk])
    data = form_data(client.get(url))
    data["aurinko_signatures"] = "on"
    refused = client.post(url, {**data, "current_client_secret": "wrong-secret-0123456789"})
    assert refused.status_code == 200 and b"current client secret" in refused.content
    app.refresh_from_db()
    assert not app.aurinko_signatures
    done = client.post(url, {**data, "current_client_secret": CLIENT_SECRET})
    assert done.status_code == 302, done.content[:3000]
    app.refresh_from_db()
    assert app.aurinko_signatures and app.user_signing_key == CLIENT_SECRET
