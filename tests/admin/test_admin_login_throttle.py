"""Admin sign-in throttling (issue 19 item 5): per account and per client address, counted in
the shared cache, a clear lockout message, audit events."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from aurinko_auth.models import AuditEvent
from tests.admin.conftest import PASSWORD

LOGIN = "/admin/login/?next=/admin/"


def sign_in(client, username, password, ip="203.0.113.7"):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, follow=False
    )


def test_the_right_password_after_too_many_wrong_ones_is_refused(client, staff_factory):
    staff_factory("olivia")
    for _ in range(5):
        response = sign_in(client, "olivia", "wrong")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    # The sixth attempt, with the right password, is refused without checking it.
    response = sign_in(client, "olivia", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"Too many failed sign-ins" in response.content
    assert re.search(rb"Try again in ([1-9]|1[0-5]) minute\(s\)", response.content)
    throttled = AuditEvent.objects.filter(event="admin.signin_failed", details__reason="throttled")
    assert throttled.count() == 1 and throttled.get().actor_name == "olivia"
    assert AuditEvent.objects.filter(event="admin.signin_failed").count() == 6
    # Another account from another address still signs in.
    staff_factory("adam")
    assert sign_in(client, "adam", PASSWORD, ip="198.51.100.9").status_code == 302


def test_the_account_lock_holds_from_any_address_and_any_spelling(client, staff_factory):
    staff_factory("olivia")
    for i in range(5):
        sign_in(client, "olivia", "wrong", ip=f"198.51.100.{i + 1}")
    response = sign_in(client, "OLIVIA ", PASSWORD, ip="192.0.2.50")
    assert b"Too many failed sign-ins" in response.content


@override_settings(AURINKO_AUTH={"ADMIN_LOGIN_RATE_ACCOUNT": None, "ADMIN_LOGIN_RATE_IP": "3/h"})
def test_one_address_trying_many_accounts_is_locked_out(client, staff_factory):
    staff_factory("victim")
    for name in ("a", "b", "c"):
        sign_in(client, name, "guess")
    response = sign_in(client, "victim", PASSWORD)
    assert b"Too many failed sign-ins" in response.content and "_auth_user_id" not in client.session
    # The same account from another address is fine (the per-account limit is off here).
    assert sign_in(client, "victim", PASSWORD, ip="192.0.2.1").status_code == 302


def test_successful_sign_ins_do_not_count(client, staff_factory):
    staff_factory("olivia")
    for _ in range(8):
        assert sign_in(client, "olivia", PASSWORD).status_code == 302
        client.logout()


@pytest.mark.parametrize("cache_alias", ["default"])
def test_counts_live_in_the_shared_cache(client, staff_factory, cache_alias):
    """Another worker sees the same counts: they are in the cache, not in the process."""
    from django.core.cache import caches

    staff_factory("olivia")
    for _ in range(5):
        sign_in(client, "olivia", "wrong")
    keys = [k for k in caches[cache_alias]._cache if "admin-login-account" in k]  # locmem
    assert keys and "olivia" not in " ".join(keys)
    caches[cache_alias].clear()  # e.g. the window ended: the lock is gone
    assert sign_in(client, "olivia", PASSWORD).status_code == 302
