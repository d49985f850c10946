"""An Outlook add-in that signs in with an Entra ID token (issue 17: NAA / Office SSO, the
way Exchange Online add-ins sign in since Microsoft turned the legacy Exchange tokens off), in
a real Chromium: the add-in's page gets its token from ``Office.auth.getAccessToken`` (Office.js
stubbed, the token signed by the local loopback issuer of tests/identity with its own OpenID
metadata and JWKS), sends it to ``POST /v1/auth/prepare`` (``X-Aurinko-AuthType:
entraIdToken``), opens ``/v1/auth/authorize?token=...&userAccount=primary`` in a popup (the
sandbox's Office 365 sign-in), and reads ``GET /v1/user`` with the identity headers only,
from an iframe of another site with third-party cookies blocked. The app trusts the issuer
through the command line (``aurinko_app trust``), as an operator would."""

from __future__ import annotations

import json
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.urls import include, path

from aurinko_auth.models import AppUser, HostIdentity
from tests.e2e.conftest import addin_sample_view, office365_sandbox_app, sandbox_sign_in
from tests.identity.conftest import issuer  # noqa: F401  (the local issuer fixture)
from tests.identity.issuer import ENTRA_AUDIENCE, TENANT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TOKEN: dict[str, str] = {}

# Office SSO's entry point (Office.auth.getAccessToken), stubbed: the host's Entra ID token.
OFFICE_JS = """
window.Office = {
  onReady(callback) { callback({ host: "Outlook" }); },
  auth: { getAccessToken(options) { return Promise.resolve(%s); } },
};
"""

ADDIN = """<!doctype html><html><head><meta charset="utf-8"><title>add-in</title>
<script src="/entra/office.js"></script></head><body>
<button id="signin">Sign in</button>
<p id="error"></p><p id="email"></p><p id="trusted"></p>
<script>
const api = window.location.origin + "/v1";
const clientId = new URLSearchParams(location.search).get("clientId");
const identityHeaders = (token) => ({ "X-Aurinko-AuthType": "entraIdToken",
  "Authorization": "Bearer " + token, "X-Aurinko-ClientId": clientId });
const fail = (text) => { document.getElementById("error").textContent = text; };
Office.onReady(() => {
  document.getElementById("signin").onclick = async () => {
    const idToken = await Office.auth.getAccessToken({ allowSignInPrompt: true });
    const prepared = await fetch(api + "/auth/prepare", {
      method: "POST", headers: identityHeaders(idToken), credentials: "omit" });
    if (!prepared.ok) return fail("prepare " + prepared.status + " " + (await prepared.json()).code);
    const { token } = await prepared.json();
    const popup = window.open(api + "/auth/authorize?" + new URLSearchParams({ clientId,
      serviceType: "Office365", scopes: "Mail.Read", userAccount: "primary", token }), "auth");
    window.addEventListener("message", async function onMessage(event) {
      if (event.source !== popup) return;
      window.removeEventListener("message", onMessage);
      if (event.data.status !== "success") return fail(event.data.error);
      const me = await fetch(api + "/user", { headers: identityHeaders(idToken), credentials: "omit" });
      if (!me.ok) return fail("user " + me.status);
      const user = await me.json();
      document.getElementById("email").textContent = user.email;
      document.getElementById("trusted").textContent = String(user.trustedIdentity);
    });
  };
});
</script></body></html>"""

sample_page = addin_sample_view(ADDIN, OFFICE_JS, TOKEN)


urlpatterns = [
    path("entra/<str:name>", sample_page),
    path("", include("project.urls")),
]


@pytest.fixture
def entra_app(broker, oauth_peer, app_factory, provider_config_factory, settings, issuer):  # noqa: F811
    settings.ROOT_URLCONF = __name__
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ALLOW_LOOPBACK_ENDPOINTS": True}
    addin_url = broker.url + "/entra/index.html"
    app = office365_sandbox_app(broker, oauth_peer, app_factory, provider_config_factory, addin_url)
    out = StringIO()
    call_command(
        "aurinko_app",
        "trust",
        app.client_id,
        "entraIdToken",
        "--audience",
        ENTRA_AUDIENCE,
        "--tenant",
        TENANT,
        "--issuer",
        issuer.base + "/{tid}/v2.0",
        "--jwks",
        issuer.base + "/keys",
        stdout=out,
    )
    assert json.loads(out.getvalue()) == {
        "clientId": app.client_id,
        "type": "entraIdToken",
        "audiences": [ENTRA_AUDIENCE],
        "tenants": [TENANT],
        "issuer": issuer.base + "/{tid}/v2.0",
        "jwks": issuer.base + "/keys",
    }
    return app


def run_addin(broker, app, chromium):
    """The add-in on ``localhost`` in an iframe of the host's page on ``127.0.0.1``; returns
    the frame after its sign-in (or refusal)."""
    addin = f"{broker.url}/entra/index.html?clientId={app.client_id}"
    outer = broker.url.replace("localhost", "127.0.0.1") + "/entra/outer.html"
    page = chromium.new_page()
    page.goto(outer + "?" + urlencode({"src": addin}))
    return page, page.frame_locator("#addin")


def test_the_addin_signs_in_with_an_entra_id_token_and_reads_the_user(
    broker,
    entra_app,
    chromium,
    issuer,  # noqa: F811
):
    TOKEN["value"] = issuer.entra()
    page, frame = run_addin(broker, entra_app, chromium)
    with page.expect_popup() as opened:
        frame.locator("#signin").click()
    popup = opened.value
    popup.wait_for_selector("#id_username")
    sandbox_sign_in(popup)
    frame.locator("#email:not(:empty), #error:not(:empty)").first.wait_for(timeout=20000)
    assert frame.locator("#error").text_content() == ""
    assert frame.locator("#email").text_content() == "alice@example.com"
    assert frame.locator("#trusted").text_content() == "true"
    identity = HostIdentity.objects.get(app=entra_app)
    assert identity.user == AppUser.objects.get(app=entra_app)
    assert identity.subject == f"{TENANT}:00000000-0000-0000-66f3-3332eca7ea81"
    # The keys were fetched once (prepare), not per request: /v1/user used the cached set.
    assert issuer.hits.get("/keys") == 1


def test_a_token_for_another_audience_is_refused_at_prepare(
    broker,
    entra_app,
    chromium,
    issuer,  # noqa: F811
):
    TOKEN["value"] = issuer.entra(aud="api://someone-else")
    _page, frame = run_addin(broker, entra_app, chromium)
    frame.locator("#signin").click()
    frame.locator("#error:not(:empty)").wait_for(timeout=20000)
    assert frame.locator("#error").text_content() == "prepare 401 identity.audience"
    assert not AppUser.objects.exists() and not HostIdentity.objects.exists()
