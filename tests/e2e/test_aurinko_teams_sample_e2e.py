"""Aurinko's Teams sample (``yoxel/aurinko-workplace-apps``, ``msteams/``) works unchanged against
the broker (issue 16, done-when), in a real Chromium.

The example of docs/examples/teams (ours, written to make the sample's exact sequence) is served on the
broker's own origin (the sample computes its API as ``window.location.origin + '/v1'``), asks
Teams' ``authentication.authenticate`` to open ``/v1/auth/authorize?clientId=..&serviceType=
Office365&authServiceType=MsTeamsBot&userAccount=primary&returnUrl=<origin>/msteams/
auth_callback.html`` in a popup; the callback page reads ``status`` (and ``details`` on an
error) the way the sample does (the first query parameter whose name starts with it) and
notifies the tab; the tab then calls ``GET /v1/user/accounts`` by XMLHttpRequest with
``X-Aurinko-ClientId`` and a JSON content type, and shows the ``name`` and ``email`` of the
record whose ``userAccountType`` is ``primary``. The Teams SDK is stubbed as it behaves in a
browser (its CDN script answered by the test): ``authenticate`` opens a window and waits for
the callback page's message.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import Http404, HttpResponse
from django.urls import include, path

from aurinko_auth.models import Account, AppUser
from tests.e2e.conftest import (
    EXAMPLES_DIR,
    office365_sandbox_app,
    open_sign_in_popup,
    sandbox_sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEAMS_SDK = """
window.microsoftTeams = {
  initialize() {},
  authentication: {
    authenticate({ url, successCallback, failureCallback }) {
      const popup = window.open(url, "teams-auth", "width=600,height=530");
      window.addEventListener("message", function onMessage(event) {
        if (event.source !== popup || !event.data || !event.data.teamsAuth) return;
        window.removeEventListener("message", onMessage);
        if (event.data.teamsAuth === "success") successCallback(event.data.result);
        else failureCallback(event.data.reason);
      });
    },
    notifySuccess(result) {
      window.opener.postMessage({ teamsAuth: "success", result }, window.location.origin);
      window.close();
    },
    notifyFailure(reason) {
      window.opener.postMessage({ teamsAuth: "failure", reason }, window.location.origin);
      window.close();
    },
  },
};
"""

EXAMPLE = EXAMPLES_DIR / "teams"
TEAMS_SDK_URL = "https://statics.teams.cdn.office.net/sdk/v1.6.0/js/MicrosoftTeams.min.js"


def sample_page(request, name: str) -> HttpResponse:
    if name not in ("index.html", "auth_callback.html"):
        raise Http404(name)
    response = HttpResponse((EXAMPLE / name).read_text(), content_type="text/html")
    # Static pages as the sample's host serves them (no COOP: Django's default same-origin
    # would put the popup of a same-origin-policy page in another browsing context group).
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


# The host project with the sample's pages beside the broker, on its origin.
urlpatterns = [
    path("msteams/<str:name>", sample_page),
    path("", include("project.urls")),
]


@pytest.fixture
def teams_app(broker, oauth_peer, app_factory, provider_config_factory, settings, chromium):
    settings.ROOT_URLCONF = __name__
    # Teams' SDK, as it behaves in a browser tab (no network: the CDN is answered here).
    chromium.route(
        TEAMS_SDK_URL,
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=TEAMS_SDK),
    )
    callback = broker.url + "/msteams/auth_callback.html"
    return office365_sandbox_app(broker, oauth_peer, app_factory, provider_config_factory, callback)


def test_teams_sample_signs_in_with_a_popup_and_shows_the_primary_account(
    broker, teams_app, chromium
):
    tab = chromium.new_page()
    tab.goto(f"{broker.url}/msteams/index.html?clientId={teams_app.client_id}")
    sandbox_sign_in(open_sign_in_popup(tab, "#authorize"))

    tab.wait_for_selector("#authorized", state="visible", timeout=20000)
    assert tab.text_content("#email") == "alice@example.com"
    assert tab.text_content("#username") == "Alice Example"
    assert tab.text_content("#error-message") == ""
    user = AppUser.objects.get(app=teams_app)
    assert Account.objects.get(user=user).account_type == "primary"


def test_teams_sample_shows_the_details_of_a_failure(broker, teams_app, chromium):
    """A refused sign-in ends on the callback page with ``status=error``: the sample passes
    ``details`` to ``notifyFailure``, and the tab shows it."""
    tab = chromium.new_page()
    tab.goto(f"{broker.url}/msteams/index.html?clientId={teams_app.client_id}")
    popup = open_sign_in_popup(tab, "#authorize")
    # The user declines at the provider: it sends the browser back with OAuth's error for the
    # broker's state (read off the sign-in page's "next", the authorize request).
    authorize = parse_qs(urlsplit(popup.url).query)["next"][0]
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    # (navigated by the page, as a provider's redirect is: a browser-initiated navigation to
    # another site would give the popup a new browsing instance without its opener)
    popup.evaluate(
        "(url) => { location.href = url; }",
        f"{broker.url}/v1/auth/callback?error=access_denied&state={state}",
    )
    tab.wait_for_function(
        "document.getElementById('error-message').textContent.startsWith('failure: ')",
        timeout=20000,
    )
    shown = tab.text_content("#error-message")
    assert shown != "failure: null" and len(shown) > len("failure: ") + 5
    assert not AppUser.objects.filter(app=teams_app).exists()
