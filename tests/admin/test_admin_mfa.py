"""Staff MFA on the admin (issue 19 item 5) by django-otp: TOTP and recovery codes, enforced
by ``AURINKO_AUTH["ADMIN_MFA"] = "required"``, signed in through the real login form."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core import checks
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from aurinko_auth.admin import mfa
from aurinko_auth.models import AuditEvent
from tests.admin.conftest import PASSWORD

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def olivia(staff_factory):
    user = staff_factory("olivia")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


def code_of(device, offset=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def sign_in(client, **data):
    return client.post(LOGIN, {"username": "olivia", "password": PASSWORD, **data})


def test_a_totp_sign_in_end_to_end(client, mfa_required, olivia):
    user, device = olivia
    page = client.get(LOGIN)
    assert b'name="otp_token"' in page.content  # django-otp's admin login template
    # The password alone does not sign in.
    response = sign_in(client)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    # A wrong code neither.
    response = sign_in(
        client,
        otp_device=device.persistent_id,
        otp_token="000000" if code_of(device) != "000000" else "111111",
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    # django-otp throttles a device after a wrong code (1 s, doubling): let it pass.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    # Password and the authenticator's current code: signed in, the admin opens.
    response = sign_in(client, otp_device=device.persistent_id, otp_token=code_of(device))
    assert response.status_code == 302, response.context["form"].errors
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(event="admin.signin", actor=user).count() == 1


def test_a_password_only_session_does_not_open_the_admin(client, mfa_required, olivia):
    user, _ = olivia
    client.force_login(user)  # e.g. a session from before MFA was required
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_recovery_code_works_once(client, mfa_required, olivia):
    user, _ = olivia
    recovery = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    recovery.token_set.create(token="rc-7f3k2m")
    response = sign_in(client, otp_device=recovery.persistent_id, otp_token="rc-7f3k2m")
    assert response.status_code == 302, response.context["form"].errors
    assert client.get("/admin/").status_code == 200
    client.logout()
    response = sign_in(client, otp_device=recovery.persistent_id, otp_token="rc-7f3k2m")
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_wrong_codes_count_as_failed_sign_ins(client, mfa_required, olivia):
    _, device = olivia
    wrong = "000000" if code_of(device) != "000000" else "111111"
    for _ in range(5):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
        sign_in(client, otp_device=device.persistent_id, otp_token=wrong)
    # The account is locked out now: even the right password and code are refused.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    response = sign_in(client, otp_device=device.persistent_id, otp_token=code_of(device))
    assert response.status_code == 200 and b"Too many failed sign-ins" in response.content


def test_without_the_setting_the_password_suffices(client, olivia):
    assert admin.site.login_form is not mfa.ThrottledOTPAdminAuthenticationForm
    assert sign_in(client).status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "value, apps, error",
    [
        ("yes", None, "aurinko_auth.E050"),
        ("required", ["django.contrib.admin", "aurinko_auth"], "aurinko_auth.E051"),
        ("required", None, None),
        (None, None, None),
    ],
)
def test_the_setting_is_checked(settings, value, apps, error):
    from aurinko_auth.checks import check_admin_mfa

    if apps is not None:
        settings.INSTALLED_APPS = [
            a for a in settings.INSTALLED_APPS if not a.startswith("django_otp")
        ]
    with override_settings(AURINKO_AUTH={"ADMIN_MFA": value}):
        found = [m.id for m in check_admin_mfa() if m.level >= checks.ERROR]
    assert found == ([error] if error else [])
