"""The account-token cache (AUTH_CACHE): no query when warm, and revocation takes effect at
once."""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.hotpath.cache import token_cache_key
from aurinko_auth.hotpath.tokens import account_from_token
from aurinko_auth.models import Account, AccountToken

REDIS_CHANNEL = "redis://127.0.0.1:6379/8"


@pytest.fixture(params=["shared", "shared+local"])
def cached(request, settings):
    """The shared cache alone, and with the per-process level in front (its channel on Redis,
    which runs on any test database)."""
    extra = {"AUTH_LOCAL_CACHE": REDIS_CHANNEL} if request.param == "shared+local" else {}
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "AUTH_CACHE": "default", **extra}
    caches["default"].clear()
    yield request.param
    caches["default"].clear()


@pytest.fixture
def token_for(app_factory, account_factory, account_token_factory):
    def make():
        app, _ = app_factory()
        account = account_factory(app)
        return app, account, account_token_factory(account)

    return make


def get_account(client, token):
    return client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_without_cache_one_query(client, token_for, django_assert_num_queries):
    _, _, token = token_for()
    with django_assert_num_queries(1):
        assert get_account(client, token).status_code == 200


def test_warm_cache_costs_no_query(cached, client, token_for, django_assert_num_queries):
    _, account, token = token_for()
    assert get_account(client, token).status_code == 200
    with django_assert_num_queries(0):
        response = get_account(client, token)
    assert response.status_code == 200
    assert response.json()["id"] == account.pk


def test_cached_entry_holds_no_provider_secret(cached, client, token_for):
    app, account, token = token_for()
    assert app.user_signing_key and account.credentials["access_token"]
    get_account(client, token)
    entry = caches["default"].get(token_cache_key(crypto.hash_token(token)))
    assert entry is not None and account.pk in entry[1][0]
    # A compact tuple of column values: no model instances, no secrets (plain or encrypted).
    blob = pickle.dumps(entry)
    assert b"django.db.models" not in blob and b"aurinko_auth.models" not in blob
    for secret in (
        account.credentials["access_token"],
        account.credentials["refresh_token"],
        app.user_signing_key,
    ):
        assert secret.encode() not in blob
    assert b"gAAAAA" not in blob  # no Fernet token (ciphertext) either


def test_revoked_token_stops_at_once(cached, client, token_for, django_capture_on_commit_callbacks):
    _, account, token = token_for()
    assert get_account(client, token).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        account.tokens.all().delete()
    assert get_account(client, token).status_code == 401


def test_deleted_account_stops_at_once(
    cached, client, token_for, django_capture_on_commit_callbacks
):
    _, account, token = token_for()
    assert get_account(client, token).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        Account.objects.get(pk=account.pk).delete()
    assert get_account(client, token).status_code == 401


def test_account_change_is_seen_at_once(
    cached, client, token_for, django_capture_on_commit_callbacks
):
    _, account, token = token_for()
    assert get_account(client, token).json()["name"] == ""
    with django_capture_on_commit_callbacks(execute=True):
        account.name = "Renamed"
        account.save()
    assert get_account(client, token).json()["name"] == "Renamed"


def test_disabled_app_stops_at_once(cached, client, token_for, django_capture_on_commit_callbacks):
    app, _, token = token_for()
    assert get_account(client, token).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        app.active = False
        app.save()
    response = get_account(client, token)
    assert response.status_code == 401
    assert response.json()["code"] == "client.inactive"


def test_api_answers_json_whatever_accept_says(client, token_for):
    _, account, token = token_for()
    response = client.get(
        "/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["id"] == account.pk
    response = client.get("/v1/account", HTTP_ACCEPT="text/html")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.required"


def test_token_lookup_builds_the_same_instances_as_the_orm(token_for, django_assert_num_queries):
    app, account, token = token_for()
    Account.objects.filter(pk=account.pk).update(
        scopes=["Mail.Read"],
        auth_obtained_at=timezone.now() - timedelta(days=1),
        extra_data={"locale": "fi"},
        daemon=True,
    )
    with django_assert_num_queries(1):
        principal = account_from_token(token)
    expected = Account.objects.select_related("app").get(pk=account.pk)
    for field in Account._meta.concrete_fields:
        if field.attname != "credentials":
            assert getattr(principal.account, field.attname) == getattr(expected, field.attname)
    for field in type(app)._meta.concrete_fields:
        assert getattr(principal.app, field.attname) == getattr(expected.app, field.attname)
    assert "credentials" not in principal.account.__dict__  # deferred, never decrypted here
    assert principal.account.credentials == expected.credentials  # loads on demand


def test_expired_account_token_is_refused(client, token_for):
    _, account, token = token_for()
    AccountToken.objects.filter(account=account).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = get_account(client, token)
    assert response.status_code == 401 and response.json()["code"] == "token.invalid"


def test_cached_body_follows_the_app(cached, client, token_for, django_capture_on_commit_callbacks):
    app, _, token = token_for()
    cold = get_account(client, token)
    warm = get_account(client, token)
    assert cold.content == warm.content and warm.json()["missingScopes"] == []
    with django_capture_on_commit_callbacks(execute=True):
        app.required_scopes = ["Mail.Read"]
        app.save()
    assert get_account(client, token).json()["missingScopes"] == ["Mail.Read"]


@pytest.mark.parametrize(
    ("failure", "code"),
    [("terminal_user", "invalid_grant"), ("transient", "temporarily_unavailable")],
)
def test_refresher_status_change_is_seen_at_once(
    cached, client, token_for, django_capture_on_commit_callbacks, failure, code
):
    """The refresher writes tokenStatus/active with QuerySet.update (no model signal): the
    lifecycle event that goes with the change drops the cached body once it commits."""
    from aurinko_auth.lifecycle.failures import record_failure
    from aurinko_auth.providers.base import ProviderCallError

    _, account, token = token_for()
    before = get_account(client, token)
    assert before.status_code == 200 and before.json()["tokenStatus"] == "active"
    with django_capture_on_commit_callbacks(execute=True):
        record_failure(
            Account.objects.get(pk=account.pk),
            None,
            ProviderCallError("refused", code=code, failure=failure),
            timezone.now(),
        )
    after = get_account(client, token)
    stored = Account.objects.get(pk=account.pk)
    assert stored.public_token_status != "active"
    if after.status_code == 200:
        assert after.json()["tokenStatus"] == stored.public_token_status
    else:
        assert after.json()["code"] == "token.dead" and not stored.active
