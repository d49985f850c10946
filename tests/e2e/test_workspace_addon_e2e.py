"""The Google Workspace add-on example (docs/examples/workspace-addon/Code.gs) against the
broker: its own code runs under Node with the Apps Script services it uses
(tests/e2e/apps_script.js: real synchronous HTTP for UrlFetchApp, the identity token from a
local issuer for ScriptApp.getIdentityToken, recording CardService builders), and the sign-in
link it builds is opened in a real Chromium through the sandbox.

The homepage card first offers "Sign in" (``/v1/user`` with the identity headers is a 401,
so it calls ``POST /v1/auth/prepare`` and links ``authorize?token=...&userAccount=primary``
with no returnUrl); after the sign-in, which ends on the broker's ``/v1/auth/done`` page, the
reloaded card shows the user and the account, read with the identity token alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from aurinko_auth.models import AppUser, HostIdentity, IdentityTrust
from tests.e2e.conftest import EXAMPLES_DIR, sandbox_sign_in
from tests.identity.conftest import issuer  # noqa: F401  (the local issuer fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CODE = EXAMPLES_DIR / "workspace-addon" / "Code.gs"
RUNTIME = Path(__file__).with_name("apps_script.js")
AUDIENCE = "1234-addon.apps.googleusercontent.com"  # the script's OAuth client
SUB = "110169484474386270001"


def run(function: str, broker, app, id_token: str) -> dict:
    node = shutil.which("node")
    assert node, "Node.js runs the add-on's Code.gs (.ci/run installs Debian's nodejs)"
    env = {
        "PATH": os.environ["PATH"],
        "SCRIPT_BROKER_URL": broker.url,
        "SCRIPT_CLIENT_ID": app.client_id,
        "AURINKO_TEST_ID_TOKEN": id_token,
    }
    done = subprocess.run(
        [node, str(RUNTIME), str(CODE), function],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def widgets(card: dict) -> list[dict]:
    return [w for section in card["children"] for w in section["children"]]


@pytest.fixture
def addon_app(broker, oauth_peer, app_factory, provider_config_factory, issuer):  # noqa: F811
    app, _ = app_factory(return_urls=["https://script.google.com/usercallback"], scopes="Mail.Read")
    client_id, client_secret = oauth_peer.add_client(broker.url + "/v1/auth/callback")
    provider_config_factory(
        app,
        "Google",
        client_id=client_id,
        client_secret=client_secret,
        endpoints=oauth_peer.endpoints(),
    )
    IdentityTrust.objects.create(
        app=app,
        token_type="googleIdToken",
        audiences=[AUDIENCE],
        jwks_url=issuer.base + "/keys",
    )
    return app


def test_workspace_addon_signs_in_with_its_google_id_token(broker, addon_app, chromium, issuer):  # noqa: F811
    id_token = issuer.google(aud=AUDIENCE, sub=SUB, email="alice@example.com")
    card = run("onHomepage", broker, addon_app, id_token)
    [button] = widgets(card)
    assert button["kind"] == "TextButton" and button["text"] == "Sign in"
    link = button["openLink"]
    assert (link["openAs"], link["onClose"]) == ("OVERLAY", "RELOAD_ADD_ON")
    query = parse_qs(urlsplit(link["url"]).query)
    assert query["userAccount"] == ["primary"] and query["token"][0].startswith("aprep_")
    assert "returnUrl" not in query

    # Google opens the link in a window over the add-on; the sign-in ends on the broker's page.
    page = chromium.new_page()
    page.goto(link["url"])
    page.wait_for_selector("#id_username")
    sandbox_sign_in(page)
    page.wait_for_url("**/v1/auth/done?**")
    assert parse_qs(urlsplit(page.url).query)["status"] == ["success"]

    # The add-on reloads: the same identity token now reads the user.
    card = run("onHomepage", broker, addon_app, id_token)
    section = card["children"][0]
    assert section["header"] == "Signed in as alice@example.com"
    assert [w["text"] for w in section["children"]] == ["Google primary: alice@example.com"]
    user = AppUser.objects.get(app=addon_app)
    identity = HostIdentity.objects.get(app=addon_app)
    assert (identity.user, identity.token_type, identity.subject) == (user, "googleIdToken", SUB)


def test_a_token_for_another_audience_gets_a_message_card(broker, addon_app, issuer):  # noqa: F811
    card = run("onHomepage", broker, addon_app, issuer.google(aud="someone-else", sub=SUB))
    [message] = widgets(card)
    assert message["kind"] == "TextParagraph"
    assert message["text"].startswith("identity.audience: ")
    assert not AppUser.objects.exists()
