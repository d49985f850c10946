"""Staff passkeys in a real Chromium with its virtual authenticator (CDP ``WebAuthn`` domain:
CTAP2, internal, resident keys, user verification): the first sign-in with a recovery code,
a passkey registered on the Passkeys page by django-otp-webauthn's script, then the admin
opened with the password and the passkey; an assertion over another challenge, and a
password alone, are refused."""

from __future__ import annotations

import base64
import os
from urllib.parse import urlsplit

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from aurinko_auth.models import AuditEvent
from tests.admin.conftest import PASSWORD

pytestmark = pytest.mark.e2e

LOGIN = "/admin/login/?next=/admin/"
PASSKEYS = "/admin/django_otp_webauthn/webauthncredential/"


@pytest.fixture
def relying_party(live_server, settings):
    """The deployment's relying party as project/settings.py derives it from PUBLIC_URL."""
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PUBLIC_URL": live_server.url}
    settings.OTP_WEBAUTHN_RP_ID = urlsplit(live_server.url).hostname
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert settings.OTP_WEBAUTHN_RP_ID == "localhost"  # a secure context without TLS


def at_the_admin_index(url: str) -> bool:
    # Not a glob like "**/admin/": the login page's own "?next=/admin/" would match it.
    return urlsplit(url).path == "/admin/"


def fill_login(page):
    page.goto(LOGIN)
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)


def test_a_passkey_registered_in_chromium_signs_in_to_the_admin(
    browser, live_server, relying_party, mfa_required, staff_factory, screenshots
):
    olivia = staff_factory("olivia")
    recovery = StaticDevice.objects.create(user=olivia, name="recovery", confirmed=True)
    recovery.token_set.create(token="rc-9d2k7p")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    # First sign-in: the password, then the recovery code a superuser issued.
    fill_login(page)
    page.click("input[type=submit][value='Log in']")
    page.select_option("#id_otp_device", label="recovery")
    page.fill("#id_otp_token", "rc-9d2k7p")
    page.click("input[type=submit][value='Log in']")
    page.wait_for_url(at_the_admin_index)

    # Register a passkey: the browser's ceremony, verified by the server, listed.
    page.goto(PASSKEYS)
    page.click("#passkey-register-button")
    expect(page.locator("#result_list")).to_contain_text("Passkey added")
    screenshots(page, "passkeys")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["isResidentCredential"] for c in stored["credentials"]] == [True]
    credential = WebAuthnCredential.objects.get(user=olivia)
    assert base64.urlsafe_b64encode(credential.credential_id).rstrip(b"=").decode() == (
        stored["credentials"][0]["credentialId"].replace("+", "-").replace("/", "_").rstrip("=")
    )

    # Signed out, then in with the password and the passkey.
    context.clear_cookies()
    fill_login(page)
    screenshots(page, "login-with-passkey")
    page.click("#passkey-sign-in")
    page.wait_for_url(at_the_admin_index)
    expect(page.locator("#user-tools")).to_contain_text("olivia")  # not on the login page
    credential.refresh_from_db()
    assert credential.last_used_at is not None and credential.sign_count >= 1
    assert AuditEvent.objects.filter(event="admin.signin", actor=olivia).count() == 2

    # An assertion over a challenge the server did not issue is refused.
    context.clear_cookies()

    def other_challenge(route):
        response = route.fetch()
        options = response.json()
        options["challenge"] = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        route.fulfill(response=response, json=options)

    page.route("**/passkey-options/", other_challenge)
    fill_login(page)
    page.click("#passkey-sign-in")
    expect(page.locator(".errornote")).to_contain_text("That passkey did not verify")
    assert "/admin/login/" in page.url
    page.unroute("**/passkey-options/")
    assert page.goto("/admin/").url.startswith(live_server.url + "/admin/login/")
    failed = AuditEvent.objects.filter(event="admin.signin_failed", actor_name="olivia").last()
    assert failed.details == {"reason": "passkey.invalid"}

    # Nor does the password alone open the admin.
    fill_login(page)
    page.click("input[type=submit][value='Log in']")
    expect(page.locator(".errornote")).to_be_visible()
    assert page.goto("/admin/").url.startswith(live_server.url + "/admin/login/")
    context.close()
