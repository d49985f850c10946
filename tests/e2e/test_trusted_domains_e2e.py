"""Trusted domains in a real Chromium: a page on an origin that is no return URL's calls the
session API with ``fetch(..., {credentials: "include"})`` and a custom header (so the
browser sends a CORS preflight first) only while that origin is one of the app's trusted
domains; removing it takes effect at the next call."""

from __future__ import annotations

import pytest

from aurinko_auth import usersessions
from aurinko_auth.models import Account, AppUser, UserSession
from aurinko_auth.security import origins

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FETCH = """async ([url, method]) => {
  try {
    const r = await fetch(url, {method, credentials: "include",
                                headers: {"X-Requested-With": "fetch"}});
    return {status: r.status, body: await r.json()};
  } catch (e) {
    return {error: String(e)};
  }
}"""


def test_a_trusted_page_uses_the_session_api(broker, addin_site, chromium, app_factory):
    # The page: another port on the broker's site (same-site, so the browser's default
    # third-party cookie blocking does not apply), which no return URL of the app names.
    page_origin = addin_site[0].replace("127.0.0.1", "localhost")
    app, _ = app_factory(return_urls=["https://app.example.com/callback"])
    user = AppUser.objects.create(app=app, email="alice@example.com", trusted_identity=True)
    Account.objects.create(
        app=app,
        user=user,
        service_type="Google",
        account_type=Account.Type.PRIMARY,
        auth_user_id="g-1",
        email="alice@example.com",
        credentials={"access_token": "x"},
    )
    chromium.add_cookies(
        [
            {
                "name": usersessions.cookie_name(app.pk),
                "value": usersessions.start(user),
                "domain": "localhost",
                "path": "/",
                "secure": True,
                "httpOnly": True,
                "sameSite": "None",
            }
        ]
    )
    page = chromium.new_page()
    page.goto(page_origin + "/index.html")
    user_url = broker.url + "/v1/user"

    refused = page.evaluate(FETCH, [user_url, "GET"])
    assert "error" in refused, refused  # CORS: the browser hides the answer from the page

    origins.set_trusted_domains(app, add=[page_origin])
    got = page.evaluate(FETCH, [user_url, "GET"])
    assert got.get("status") == 200, got
    assert got["body"]["id"] == str(user.pk) and got["body"]["accounts"][0]["type"] == "primary"

    origins.set_trusted_domains(app, remove=[page_origin])
    assert "error" in page.evaluate(FETCH, [user_url, "GET"])

    origins.set_trusted_domains(app, add=[page_origin])
    out = page.evaluate(FETCH, [broker.url + "/v1/user/logout", "POST"])
    assert out.get("status") == 200 and out["body"] == {"status": "Ok"}, out
    assert UserSession.objects.get().revoked_at is not None
