"""The account-token query on PostgreSQL, outside transactions (as in production requests): a
statement prepared once per connection, prepared again when the server lost it, and the read
itself standing in for CONN_HEALTH_CHECKS' SELECT 1 (a dead connection is replaced)."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection

from aurinko_auth.exceptions import AuthenticationFailed
from aurinko_auth.hotpath.tokens import account_from_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def token(app_factory, account_factory, account_token_factory):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (prepared statements, backend sessions)")
    app, _ = app_factory()
    account = account_factory(app)
    return account, account_token_factory(account)


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return [name for (name,) in cursor.fetchall()]


def test_token_query_is_prepared_once_per_connection(token, django_assert_num_queries):
    account, plaintext = token
    assert account_from_token(plaintext).account.pk == account.pk
    names = [n for n in prepared_statements() if n.startswith("aurinko_token_")]
    assert len(names) == 1
    with django_assert_num_queries(1) as ctx:
        assert account_from_token(plaintext).account.pk == account.pk
    assert ctx.captured_queries[0]["sql"].startswith(f"EXECUTE {names[0]}(")


def test_statement_lost_by_the_server_is_prepared_again(token):
    account, plaintext = token
    account_from_token(plaintext)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's session reset does
    assert account_from_token(plaintext).account.pk == account.pk
    assert any(n.startswith("aurinko_token_") for n in prepared_statements())


def test_unknown_token_through_the_prepared_statement(token):
    account_from_token(token[1])
    with pytest.raises(AuthenticationFailed):
        account_from_token("aat_" + "x" * 40)


def test_prepared_statement_can_be_turned_off(token, settings):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "AUTH_PREPARED_QUERY": False}
    connection.close()
    account, plaintext = token
    assert account_from_token(plaintext).account.pk == account.pk
    assert not any(n.startswith("aurinko_token_") for n in prepared_statements())


def test_dead_connection_is_replaced_as_the_health_check_would(token):
    account, plaintext = token
    account_from_token(plaintext)
    assert connection.health_check_enabled
    old_pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    connection.health_check_done = False  # a new request (request_started resets it)
    assert account_from_token(plaintext).account.pk == account.pk
    assert connection.connection.info.backend_pid != old_pid


@pytest.mark.parametrize("on", [True, False])
def test_the_read_is_the_health_check_only_with_the_setting(token, settings, monkeypatch, on):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "AUTH_PREPARED_QUERY": on}
    account, plaintext = token
    account_from_token(plaintext)
    checks = []
    usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or usable())
    connection.health_check_done = False  # a new request (request_started resets it)
    assert account_from_token(plaintext).account.pk == account.pk
    assert checks == ([] if on else [1])  # Django's SELECT 1 runs only with the setting off
