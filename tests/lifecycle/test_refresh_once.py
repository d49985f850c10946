"""Issue 19 item 7: a refresh is exactly-once even when the provider token lives less than
``REFRESH_LEEWAY``. A caller that waited while another worker refreshed uses that worker's
token (its ``credential_version`` changed), and a token shorter-lived than the leeway is not
refreshed again on every call. The many-process version against a real peer is in
test_lifecycle_e2e.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.utils import timezone

from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import Account
from tests.lifecycle.conftest import GOOGLE_TOKEN

SHORT = {"access_token": "ya29.short", "expires_in": 2, "token_type": "Bearer"}


@responses.activate
def test_a_caller_that_waited_uses_the_token_another_worker_stored(linked_account):
    account, _ = linked_account()  # expired, credential_version 1, as this caller read it
    # Meanwhile another worker refreshed: a 2 s token, far inside the 120 s leeway (and with
    # an old updated_at, so only the version tells that it is new).
    now = timezone.now()
    Account.objects.filter(pk=account.pk).update(
        credentials={**account.credentials, "access_token": "ya29.theirs"},
        credential_version=2,
        access_token_expires_at=now + timedelta(seconds=2),
        updated_at=now - timedelta(hours=1),
    )
    grant = responses.post(GOOGLE_TOKEN, json=SHORT)
    assert tokens.fresh_access_token(account) == "ya29.theirs"
    assert grant.call_count == 0
    assert account.credential_version == 2


@responses.activate
def test_a_token_shorter_lived_than_the_leeway_is_refreshed_once_per_lifetime(linked_account):
    account, _ = linked_account()
    grant = responses.post(GOOGLE_TOKEN, json=SHORT)
    assert tokens.fresh_access_token(account) == "ya29.short"
    for _ in range(5):  # later calls, each reading the row afresh as a request does
        assert tokens.fresh_access_token(Account.objects.get(pk=account.pk)) == "ya29.short"
    assert grant.call_count == 1
    # Past half its lifetime (the leeway's cap) it is refreshed again, once.
    Account.objects.filter(pk=account.pk).update(
        access_token_expires_at=timezone.now() + timedelta(seconds=0.5),
        updated_at=timezone.now() - timedelta(seconds=1.5),
    )
    assert tokens.fresh_access_token(Account.objects.get(pk=account.pk)) == "ya29.short"
    assert grant.call_count == 2


def test_refresh_leeway_is_the_setting_capped_at_half_the_lifetime(linked_account):
    now = timezone.now()
    account, _ = linked_account(access_token_expires_at=now + timedelta(hours=1))
    account.updated_at = now
    assert tokens.refresh_leeway(account) == timedelta(seconds=120)
    with override_settings(AURINKO_AUTH={"REFRESH_LEEWAY": 30}):
        assert tokens.refresh_leeway(account) == timedelta(seconds=30)
    account.access_token_expires_at = now + timedelta(seconds=10)
    assert tokens.refresh_leeway(account) == timedelta(seconds=5)


# `check` runs the model checks, which on Django 6.1 ask the database (JSONField support).
@pytest.mark.django_db
@pytest.mark.parametrize("value", [-1, "120", None, float("nan"), 10**9])
def test_a_bad_refresh_leeway_fails_the_system_check(value):
    bad = {**settings.AURINKO_AUTH, "REFRESH_LEEWAY": value}
    with override_settings(AURINKO_AUTH=bad), pytest.raises(SystemCheckError, match="E008"):
        call_command("check")
    with override_settings(AURINKO_AUTH={**settings.AURINKO_AUTH, "REFRESH_LEEWAY": 30}):
        call_command("check")
