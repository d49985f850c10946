"""Aurinko's Outlook sample's sequence (``yoxel/aurinko-workplace-apps``, ``outlook/
sample-office.js``) against the broker in a real Chromium, Office.js stubbed (issue 17,
done-when): the add-in asks Office for its Exchange identity token, sends it to
``POST /v1/auth/prepare`` (``X-Aurinko-AuthType: exchangeIdToken``, ``Authorization: Bearer``,
``X-Aurinko-ClientId``), opens ``/v1/auth/authorize?token=...&userAccount=primary`` (no
returnUrl) in a popup, waits for the broker page's message, then reads ``GET /v1/user`` with
the identity headers only (no cookie is sent: ``credentials: "omit"``)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import include, path

from aurinko_auth.models import AppUser, HostIdentity, IdentityTrust
from tests.e2e.conftest import (
    addin_sample_view,
    office365_sandbox_app,
    open_sign_in_popup,
    sandbox_sign_in,
)
from tests.identity.conftest import issuer  # noqa: F401  (the local issuer fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TOKEN: dict[str, str] = {}

OFFICE_JS = """
window.Office = {
  onReady(callback) { callback({ host: "Outlook" }); },
  context: { mailbox: {
    getUserIdentityTokenAsync(callback) {
      callback({ status: "succeeded", value: %s });
    },
  } },
};
"""

ADDIN = """<!doctype html><html><head><meta charset="utf-8"><title>add-in</title>
<script src="/outlook/office.js"></script></head><body>
<button id="signin">Sign in</button>
<p id="error"></p><p id="email"></p><p id="trusted"></p>
<script>
const api = window.location.origin + "/v1";
const clientId = new URLSearchParams(location.search).get("clientId");
function identityHeaders(token) {
  return { "X-Aurinko-AuthType": "exchangeIdToken", "Authorization": "Bearer " + token,
           "X-Aurinko-ClientId": clientId };
}
Office.onReady(() => {
  document.getElementById("signin").onclick = () => {
    Office.context.mailbox.getUserIdentityTokenAsync(async (result) => {
      const idToken = result.value;
      const prepared = await fetch(api + "/auth/prepare", {
        method: "POST", headers: identityHeaders(idToken), credentials: "omit" });
      if (!prepared.ok) { document.getElementById("error").textContent = "prepare " + prepared.status; return; }
      const { token } = await prepared.json();
      const popup = window.open(api + "/auth/authorize?clientId=" + clientId +
        "&serviceType=Office365&scopes=Mail.Read&userAccount=primary&token=" + token, "auth");
      window.addEventListener("message", async function onMessage(event) {
        if (event.source !== popup) return;
        window.removeEventListener("message", onMessage);
        if (event.data.status !== "success") {
          document.getElementById("error").textContent = event.data.error; return;
        }
        const me = await fetch(api + "/user", { headers: identityHeaders(idToken), credentials: "omit" });
        const user = await me.json();
        document.getElementById("email").textContent = user.email;
        document.getElementById("trusted").textContent = String(user.trustedIdentity);
      });
    });
  };
});
</script></body></html>"""


# outer.html (the host framing the add-in), the stubbed office.js and the add-in page.
sample_page = addin_sample_view(ADDIN, OFFICE_JS, TOKEN)


urlpatterns = [
    path("outlook/<str:name>", sample_page),
    path("", include("project.urls")),
]


@pytest.fixture
def outlook_app(broker, oauth_peer, app_factory, provider_config_factory, settings, issuer):  # noqa: F811
    settings.ROOT_URLCONF = __name__
    addin_url = broker.url + "/outlook/index.html"
    app = office365_sandbox_app(broker, oauth_peer, app_factory, provider_config_factory, addin_url)
    IdentityTrust.objects.create(app=app, token_type="exchangeIdToken", audiences=[addin_url])
    TOKEN["value"] = issuer.exchange(aud=addin_url)
    return app


def test_outlook_sample_signs_in_with_the_identity_token_and_reads_the_user(
    broker, outlook_app, chromium
):
    page = chromium.new_page()
    page.goto(f"{broker.url}/outlook/index.html?clientId={outlook_app.client_id}")
    sandbox_sign_in(open_sign_in_popup(page, "#signin"))
    page.wait_for_function(
        "document.getElementById('email').textContent || document.getElementById('error').textContent",
        timeout=20000,
    )
    assert page.text_content("#error") == ""
    assert page.text_content("#email") == "alice@example.com"
    assert page.text_content("#trusted") == "true"
    user = AppUser.objects.get(app=outlook_app)
    assert HostIdentity.objects.get(app=outlook_app).user == user


def test_in_a_third_party_iframe_with_third_party_cookies_blocked(broker, outlook_app, chromium):
    """Issue 17's done-when: the host's page on one site (``127.0.0.1``) embeds the add-in of
    another (``localhost``) in a profile that blocks third-party cookies (the ``chromium``
    fixture's default). The add-in needs no cookie: it signs in with the host's identity token
    and reads ``/v1/user`` with the identity headers."""
    addin = f"{broker.url}/outlook/index.html?clientId={outlook_app.client_id}"
    outer = broker.url.replace("localhost", "127.0.0.1") + "/outlook/outer.html"
    page = chromium.new_page()
    page.goto(outer + "?" + urlencode({"src": addin}))
    frame = page.frame_locator("#addin")
    with page.expect_popup() as opened:
        frame.locator("#signin").click()
    popup = opened.value
    popup.wait_for_selector("#id_username")
    sandbox_sign_in(popup)
    email = frame.locator("#email")
    frame.locator("#email:not(:empty), #error:not(:empty)").first.wait_for(timeout=20000)
    assert frame.locator("#error").text_content() == ""
    assert email.text_content() == "alice@example.com"
    assert frame.locator("#trusted").text_content() == "true"
    # The sign-in also left the session cookie, first-party, in the popup's top-level jar: a
    # tab of the broker reads /v1/user with it, the add-in's iframe cannot (third-party there).
    fetch_user = """async () => (await fetch("/v1/user", {credentials: "include"})).status"""
    tab = chromium.new_page()
    tab.goto(f"{broker.url}/v1/health")
    assert tab.evaluate(fetch_user) == 200
    assert frame.locator("body").evaluate(fetch_user) == 401
