"""Staff passkeys (issue 19 item 5) by django-otp-webauthn: registered on the admin's Passkeys
page by a session a device verified, then the second factor of the real login form after the
password; every wrong assertion refused, counted by the throttling and audited. The
authenticator is tests/admin/softkey.py (the browser test uses Chromium's)."""

from __future__ import annotations

import json

import pytest
from django.core import checks
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from aurinko_auth.admin import mfa
from aurinko_auth.models import AuditEvent
from tests.admin.conftest import PASSWORD
from tests.admin.softkey import SoftPasskey

LOGIN = "/admin/login/?next=/admin/"
PASSKEYS = "/admin/django_otp_webauthn/webauthncredential/"
OPTIONS = PASSKEYS + "passkey-options/"


@pytest.fixture(autouse=True)
def relying_party(settings):
    settings.OTP_WEBAUTHN_RP_ID = "testserver"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://testserver"]


@pytest.fixture
def olivia(staff_factory):
    return staff_factory("olivia")


def sign_in_with_recovery_code(client, user, code="rc-4n8q2w"):
    """Password and a recovery code through the login form: the first sign-in of a staff user
    whose only device is a code a superuser issued (``manage.py addstatictoken``)."""
    recovery, _ = StaticDevice.objects.get_or_create(user=user, name="recovery", confirmed=True)
    recovery.token_set.create(token=code)
    response = client.post(
        LOGIN,
        {
            "username": user.get_username(),
            "password": PASSWORD,
            "otp_device": recovery.persistent_id,
            "otp_token": code,
        },
    )
    assert response.status_code == 302, response.context["form"].errors


def register(client, key):
    options = client.post(PASSKEYS + "register/begin/").json()
    response = client.post(
        PASSKEYS + "register/complete/",
        json.dumps(key.create(options)),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return WebAuthnCredential.objects.get(pk=response.json()["id"])


def sign_in_with_passkey(client, key, *, username="olivia", password=PASSWORD, **forged):
    options = client.post(OPTIONS).json()
    assertion = json.dumps(key.get(options, **forged))
    return client.post(
        LOGIN, {"username": username, "password": password, "passkey": assertion}
    ), assertion


@pytest.fixture
def registered(client, mfa_required, olivia):
    """olivia's passkey, registered after her first sign-in with a recovery code; signed out."""
    sign_in_with_recovery_code(client, olivia)
    key = SoftPasskey()
    credential = register(client, key)
    client.logout()
    return key, credential


def signed_in(client):
    return "_auth_user_id" in client.session and client.get("/admin/").status_code == 200


def test_register_then_sign_in_with_password_and_passkey(client, mfa_required, olivia):
    sign_in_with_recovery_code(client, olivia)
    page = client.get(PASSKEYS)
    assert page.status_code == 200
    assert b'id="passkey-registration-placeholder"' in page.content
    assert b"otp_webauthn_register.js" in page.content
    key = SoftPasskey()
    credential = register(client, key)
    assert credential.user == olivia and credential.confirmed and credential.discoverable
    assert credential.name.startswith("Passkey added ")
    assert AuditEvent.objects.filter(event="admin.passkey_added", actor=olivia).count() == 1
    assert credential.name.encode() in client.get(PASSKEYS).content
    client.logout()

    login_page = client.get(LOGIN)
    assert b'id="passkey-sign-in"' in login_page.content
    assert b"admin_passkey_sign_in.js" in login_page.content
    response, _ = sign_in_with_passkey(client, key)
    assert response.status_code == 302, response.context["form"].errors
    assert signed_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == credential.persistent_id
    credential.refresh_from_db()
    assert credential.sign_count == key.counter and credential.last_used_at is not None
    assert AuditEvent.objects.filter(event="admin.signin", actor=olivia).count() == 2


def test_the_challenge_names_no_credentials(client, registered):
    options = client.post(OPTIONS).json()
    assert options["rpId"] == "testserver"
    assert options.get("allowCredentials", []) == []  # nothing about who has passkeys
    assert options["userVerification"] == "discouraged"  # the second factor after a password
    assert client.get(OPTIONS).status_code == 405


def test_without_mfa_required_no_challenge_is_given(client, olivia):
    assert client.post(OPTIONS).status_code == 404
    assert b"passkey-sign-in" not in client.get(LOGIN).content


@pytest.mark.parametrize(
    "forged",
    [
        {"origin": "https://evil.example"},
        {"rp_id": "evil.example"},
        {"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        {"counter": 0},  # a cloned authenticator's (or a replayed) counter
    ],
    ids=["origin", "rp-id", "challenge", "counter"],
)
def test_a_wrong_assertion_is_refused(client, registered, olivia, forged):
    key, credential = registered
    if "counter" in forged:
        sign_in_with_passkey(client, key)
        client.logout()
    response, _ = sign_in_with_passkey(client, key, **forged)
    assert response.status_code == 200 and b"That passkey did not verify" in response.content
    assert not signed_in(client)
    failed = AuditEvent.objects.filter(event="admin.signin_failed", actor_name="olivia").last()
    assert failed.details == {"reason": "passkey.invalid"}


def test_a_tampered_signature_and_garbage_are_refused(client, registered):
    key, _ = registered
    options = client.post(OPTIONS).json()
    assertion = key.get(options)
    signature = bytearray(assertion["response"]["signature"].encode())
    signature[-3] = ord("A") if signature[-3] != ord("A") else ord("B")
    assertion["response"]["signature"] = signature.decode()
    for passkey in (json.dumps(assertion), "not json", "[]", '{"id": 1}'):
        client.post(OPTIONS)
        response = client.post(
            LOGIN, {"username": "olivia", "password": PASSWORD, "passkey": passkey}
        )
        assert response.status_code == 200 and b"That passkey did not verify" in response.content
        assert not signed_in(client)


def test_a_challenge_is_used_once(client, registered, staff_factory):
    key, _ = registered
    staff_factory("vera")
    # olivia's fresh assertion, first sent (say by a phishing relay) with vera's password.
    response, assertion = sign_in_with_passkey(client, key, username="vera")
    assert response.status_code == 200
    # The challenge went with that refusal: the same assertion cannot sign olivia in.
    replay = {"username": "olivia", "password": PASSWORD, "passkey": assertion}
    assert client.post(LOGIN, replay).status_code == 200
    assert AuditEvent.objects.filter(details__reason="passkey.no_challenge").count() == 1
    # Nor against a new challenge it did not sign.
    client.post(OPTIONS)
    assert client.post(LOGIN, replay).status_code == 200
    assert not signed_in(client)


def test_another_users_passkey_is_refused(client, registered, staff_factory):
    key, _ = registered
    staff_factory("vera")
    response, _ = sign_in_with_passkey(client, key, username="vera")
    assert response.status_code == 200 and not signed_in(client)
    failed = AuditEvent.objects.filter(event="admin.signin_failed", actor_name="vera").last()
    assert failed.details == {"reason": "passkey.credential_user_mismatch"}


def test_the_passkey_does_not_replace_the_password(client, registered):
    key, _ = registered
    response, _ = sign_in_with_passkey(client, key, password="wrong password")
    assert response.status_code == 200 and not signed_in(client)


def test_wrong_passkeys_count_as_failed_sign_ins(client, registered):
    key, _ = registered
    for _ in range(5):
        sign_in_with_passkey(client, key, origin="https://evil.example")
    response, _ = sign_in_with_passkey(client, key)
    assert response.status_code == 200 and b"Too many failed sign-ins" in response.content
    assert not signed_in(client)


def test_a_locked_out_address_gets_no_challenge(client, registered, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ADMIN_LOGIN_RATE_IP": "2/15m"}
    key, _ = registered
    for username in ("nobody-1", "nobody-2"):
        client.post(LOGIN, {"username": username, "password": "wrong"})
    response = client.post(OPTIONS)
    assert response.status_code == 429 and response["Retry-After"]
    assert response.json()["code"] == "rate.limited"
    assert "aurinko_admin_passkey_challenge" not in client.session


def test_registration_needs_a_session_a_device_verified(client, mfa_required, olivia):
    TOTPDevice.objects.create(user=olivia, name="phone", confirmed=True)
    client.force_login(olivia)  # the password only (e.g. from before MFA was required)
    response = client.post(PASSKEYS + "register/begin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(PASSKEYS + "register/complete/", "{}", content_type="application/json")
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.exists()


def test_without_mfa_required_a_device_holder_cannot_register_on_a_password(client, olivia):
    TOTPDevice.objects.create(user=olivia, name="phone", confirmed=True)
    client.force_login(olivia)
    response = client.post(PASSKEYS + "register/begin/")
    assert response.status_code == 403 and response.json()["code"] == "user_not_verified"


def test_staff_see_and_remove_their_own_passkeys_only(client, registered, olivia, staff_factory):
    _, credential = registered
    vera = staff_factory("vera")
    sign_in_with_recovery_code(client, vera, code="rc-vera-1")
    listing = client.get(PASSKEYS)
    assert listing.status_code == 200 and credential.name.encode() not in listing.content
    assert client.post(f"{PASSKEYS}{credential.pk}/delete/", {"post": "yes"}).status_code == 302
    assert WebAuthnCredential.objects.filter(pk=credential.pk).exists()  # not hers
    client.logout()
    sign_in_with_recovery_code(client, olivia, code="rc-olivia-2")
    assert client.post(f"{PASSKEYS}{credential.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=credential.pk).exists()
    removed = AuditEvent.objects.get(event="admin.passkey_removed")
    assert removed.actor == olivia and removed.details["deviceId"] == credential.pk


def test_the_code_form_offers_no_passkey_as_a_device(registered, olivia):
    TOTPDevice.objects.create(user=olivia, name="phone", confirmed=True)
    names = [name for _, name in mfa.ThrottledOTPAdminAuthenticationForm.device_choices(olivia)]
    assert "phone" in names and not any(n.startswith("Passkey") for n in names)


@pytest.mark.parametrize(
    "public_url, rp_id, origins, warned",
    [
        ("https://auth.example.com", "auth.example.com", ["https://auth.example.com"], False),
        ("https://auth.example.com", "example.com", ["https://auth.example.com"], False),
        ("https://auth.example.com", "other.com", ["https://auth.example.com"], True),
        ("https://auth.example.com", "auth.example.com", ["https://other.example.com"], True),
        ("http://127.0.0.1:8000", "127.0.0.1", ["http://127.0.0.1:8000"], True),
    ],
)
def test_the_relying_party_is_checked_against_the_public_url(
    settings, public_url, rp_id, origins, warned
):
    from aurinko_auth.checks import check_admin_mfa

    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ADMIN_MFA": "required"}
    settings.AURINKO_AUTH["PUBLIC_URL"] = public_url
    settings.OTP_WEBAUTHN_RP_ID = rp_id
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = origins
    messages = [m for m in check_admin_mfa() if m.level >= checks.WARNING]
    assert [m.id for m in messages] == (["aurinko_auth.W052"] if warned else [])
    if warned and public_url.startswith("https://auth"):
        # The hint names the host project's settings with the values that fit PUBLIC_URL.
        assert messages[0].hint.startswith(
            "Set OTP_WEBAUTHN_RP_ID = 'auth.example.com' and "
            "OTP_WEBAUTHN_ALLOWED_ORIGINS = ['https://auth.example.com']"
        ), messages[0].hint
    elif warned:
        assert messages[0].hint.startswith("Serve the admin at a host name"), messages[0].hint
