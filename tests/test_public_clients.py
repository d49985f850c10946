"""Public clients (issue 17 item 3): extension return URLs, the admin and command-line
switches, and the migration's data step for responseType=token."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from aurinko_auth import services
from aurinko_auth.exceptions import AurinkoError, InvalidReturnUrl
from aurinko_auth.models import App
from aurinko_auth.security import returnurls

EXTENSION_ID = "abcdefghijklmnopabcdefghijklmnop"
EXTENSION_URLS = [
    f"chrome-extension://{EXTENSION_ID}/callback.html",
    f"https://{EXTENSION_ID}.chromiumapp.org/cb",
    "https://2e4f0c3a3b1d4c6e9f3a1b2c3d4e5f60.extensions.allizom.org/cb",
]


@pytest.mark.parametrize("url", EXTENSION_URLS)
def test_extension_return_urls_are_accepted_and_matched(url):
    assert returnurls.validate_registered(url, public_client=True) == url
    assert returnurls.match(url + "?x=1", [url]) == url + "?x=1"


@pytest.mark.parametrize(
    "url",
    [
        "chrome-extension://short/cb.html",
        f"chrome-extension://{EXTENSION_ID.upper()}/cb.html",  # ids are lower-case a-p
        f"chrome-extension://{'z' * 32}/cb.html",
        f"chrome-extension://{EXTENSION_ID}:8080/cb.html",
        f"chrome-extension://user@{EXTENSION_ID}/cb.html",
        f"chrome-extension://{EXTENSION_ID}/cb.html#frag",
        "moz-extension://abc/cb.html",
        "javascript://alert(1)",
    ],
)
def test_malformed_extension_urls_are_refused(url):
    with pytest.raises(InvalidReturnUrl):
        returnurls.validate_registered(url, public_client=True)


def test_chrome_extension_urls_need_a_public_client(db):
    url = EXTENSION_URLS[0]
    with pytest.raises(InvalidReturnUrl, match="public client"):
        returnurls.validate_registered(url)
    with pytest.raises(AurinkoError, match="public client"):
        services.create_app(name="Ext", return_urls=[url])
    app, _ = services.create_app(name="Ext", return_urls=[url], public_client=True)
    assert app.return_urls == [url] and app.public_client


def test_a_redirect_to_an_extension_page_is_allowed(client, app_factory):
    from aurinko_auth.views import redirect

    response = redirect(EXTENSION_URLS[0] + "?code=x")
    assert response.status_code == 303 and response["Location"].startswith("chrome-extension:")


def run(*args: str) -> object:
    out = StringIO()
    call_command("aurinko_app", *args, stdout=out)
    return json.loads(out.getvalue())


def test_command_line_creates_a_public_client(db):
    created = run(
        "create",
        "--name",
        "Extension",
        "--return-url",
        EXTENSION_URLS[0],
        "--public-client",
    )
    app = App.objects.get(client_id=created["clientId"])
    assert app.public_client and not app.token_response
    with pytest.raises(CommandError, match="public client"):
        run("create", "--name", "x", "--return-url", EXTENSION_URLS[0])
    legacy = run(
        "create", "--name", "Legacy", "--return-url", "https://a.example.com/cb", "--token-response"
    )
    listed = {a["clientId"]: a for a in run("list")}
    assert listed[legacy["clientId"]]["tokenResponse"] is True
    assert listed[created["clientId"]]["publicClient"] is True


def test_command_line_switches_an_existing_app(db):
    created = run("create", "--name", "Ext", "--return-url", EXTENSION_URLS[0], "--public-client")
    client_id = created["clientId"]
    assert run("client", client_id, "--token-response") == {
        "clientId": client_id,
        "publicClient": True,
        "publicReturnUrls": [],
        "tokenResponse": True,
    }
    # A confidential app may not keep an extension page as its return URL.
    with pytest.raises(CommandError, match="public client"):
        run("client", client_id, "--confidential")
    assert App.objects.get(client_id=client_id).public_client is True
    other = run("create", "--name", "Web", "--return-url", "https://a.example.com/cb")["clientId"]
    assert run("client", other, "--public")["publicClient"] is True
    assert run("client", other, "--confidential", "--no-token-response") == {
        "clientId": other,
        "publicClient": False,
        "publicReturnUrls": [],
        "tokenResponse": False,
    }


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_token_response_for_existing_apps():
    executor = MigrationExecutor(connection)
    before, after = (
        [("aurinko_auth", "0009_hubspot_service_type")],
        [("aurinko_auth", "0010_app_public_client_token_response")],
    )
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("aurinko_auth", "App")
    old.objects.create(name="Old", client_id="old-app-0001", client_secret_hash="x" * 64)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("aurinko_auth", "App")
    assert new.objects.get(client_id="old-app-0001").token_response is True
    assert new.objects.create(name="New", client_id="new-app-0001").token_response is False
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_command_line_declares_one_return_url_public(db):
    """A confidential app (its server's URL) with its extension's page as a public return URL
    (docs/add-ins.md "Public return URLs")."""
    server = "https://a.example.com/cb"
    created = run("create", "--name", "Mixed", "--return-url", server)["clientId"]
    # A chrome-extension page on a confidential app: only as a public return URL.
    with pytest.raises(CommandError, match="public return URLs"):
        run("create", "--name", "x", "--return-url", server, "--return-url", EXTENSION_URLS[0])
    assert run("client", created, "--public-return-url", EXTENSION_URLS[0]) == {
        "clientId": created,
        "publicClient": False,
        "publicReturnUrls": [EXTENSION_URLS[0]],
        "tokenResponse": False,
    }
    app = App.objects.get(client_id=created)
    assert app.return_urls == [server, EXTENSION_URLS[0]]  # added as a return URL too
    # It may not stop being public while the app is confidential: nothing is changed.
    with pytest.raises(CommandError, match="public client"):
        run("client", created, "--confidential-return-url", EXTENSION_URLS[0])
    app.refresh_from_db()
    assert app.public_return_urls == [EXTENSION_URLS[0]]
    run("client", created, "--public-return-url", EXTENSION_URLS[1])
    out = run("client", created, "--confidential-return-url", EXTENSION_URLS[1])
    assert out["publicReturnUrls"] == [EXTENSION_URLS[0]]
    app.refresh_from_db()
    assert EXTENSION_URLS[1] in app.return_urls  # still a return URL, no longer public
    with pytest.raises(CommandError, match="returnUrl"):
        run("client", created, "--public-return-url", "http://a.example.com/cb")
    both = run(
        "create", "--name", "y", "--return-url", server, "--public-return-url", EXTENSION_URLS[0]
    )
    listed = {a["clientId"]: a for a in run("list")}
    assert listed[both["clientId"]]["publicReturnUrls"] == [EXTENSION_URLS[0]]
    assert listed[both["clientId"]]["returnUrls"] == [server, EXTENSION_URLS[0]]


def test_a_public_return_url_is_one_of_the_apps_return_urls(db):
    with pytest.raises(AurinkoError, match="one of the app's return URLs"):
        returnurls.validate_public(["https://b.example.com/cb"], ["https://a.example.com/cb"])
