"""rowquery.ChainQuery: SQL compiled once, instances equal to the ORM's, nothing encrypted read."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aurinko_auth import crypto, usersessions
from aurinko_auth.hotpath import prepared
from aurinko_auth.hotpath.rowquery import ChainQuery
from aurinko_auth.models import Account, App, AppUser, UserSession

pytestmark = pytest.mark.django_db

SESSIONS = ChainQuery(
    [(UserSession, None), (AppUser, None), (App, None)], ["user", "app"], where="token_hash"
)


def test_rows_match_the_orm_and_are_linked(app_factory):
    app, _ = app_factory()
    user = AppUser.objects.create(app=app, email="u@example.com")
    tokens = [usersessions.start(user, user_agent=f"agent {i}", ip="192.0.2.1") for i in range(3)]
    hashes = [crypto.hash_token(t) for t in tokens]
    with CaptureQueriesContext(connection) as queries:
        rows = SESSIONS.rows("default", hashes[:2])
        for session, found_user, found_app in rows:
            # Linked: following session.user.app costs nothing more.
            assert session.user is found_user and found_user.app is found_app
            assert found_app.client_id == app.client_id
    assert len(queries) == 1
    assert "user_signing_key" not in queries[0]["sql"]  # encrypted: never read
    by_orm = {s.pk: s for s in UserSession.objects.filter(token_hash__in=hashes[:2])}
    assert {s.pk for s, _, _ in rows} == set(by_orm)
    for session, found_user, _ in rows:
        expected = by_orm[session.pk]
        for field in UserSession._meta.concrete_fields:
            assert getattr(session, field.attname) == getattr(expected, field.attname)
        assert isinstance(session.expires_at, dt.datetime) and session.expires_at.tzinfo
        assert isinstance(found_user.pk, uuid.UUID) and found_user.pk == user.pk


def test_deferred_encrypted_field_loads_on_access(app_factory):
    app, _ = app_factory()
    user = AppUser.objects.create(app=app)
    token = usersessions.start(user)
    ((_, _, found_app),) = SESSIONS.rows("default", [crypto.hash_token(token)])
    assert "user_signing_key" not in found_app.__dict__
    with CaptureQueriesContext(connection) as queries:
        assert found_app.user_signing_key == App.objects.get(pk=app.pk).user_signing_key
    assert len(queries) == 2  # the deferred load, and the comparison's own query


def test_filter_on_a_foreign_key_and_named_fields(app_factory, account_factory):
    app, _ = app_factory()
    user = AppUser.objects.create(app=app)
    other = AppUser.objects.create(app=app)
    mine = {account_factory(app, user=user).pk for _ in range(3)}
    account_factory(app, user=other)
    accounts = ChainQuery([(Account, ("id", "email", "user", "app"))], where="user")
    with CaptureQueriesContext(connection) as queries:
        rows = accounts.rows("default", [user.pk])
    assert {a.pk for (a,) in rows} == mine
    assert "credentials" not in queries[0]["sql"]
    assert all(a.user_id == user.pk and a.app_id == app.pk for (a,) in rows)


def test_no_values_no_query(db):
    with CaptureQueriesContext(connection) as queries:
        assert SESSIONS.rows("default", []) == []
    assert len(queries) == 0


def test_unknown_value_finds_nothing(db):
    assert SESSIONS.rows("default", ["0" * 64]) == []


def test_prepared_statement_text():
    name, prepare, execute = prepared.statement("aurinko_x", "SELECT a FROM t WHERE b IN (%s, %s)")
    assert name.startswith("aurinko_x_") and len(name) == len("aurinko_x_") + 16
    assert prepare == f"PREPARE {name} AS SELECT a FROM t WHERE b IN ($1, $2)"
    assert execute == f"EXECUTE {name}(%s, %s)"
    assert prepared.statement("aurinko_x", "SELECT 1 WHERE 1 IN (%s)")[0] != name


def test_plain_query_is_not_a_hot_read(db, settings):
    """Without a statement name a query never touches the connection's health check."""
    connection.ensure_connection()
    done = getattr(connection, "health_check_done", None)
    SESSIONS.rows("default", ["0" * 64])
    assert getattr(connection, "health_check_done", None) == done


WITH_ACCOUNTS = ChainQuery(
    [(UserSession, None), (AppUser, None), (App, None)],
    ["user", "app"],
    where="token_hash",
    many=(Account, ("id", "email", "user"), "user"),
)


def test_many_reads_the_users_accounts_in_the_same_query(app_factory, account_factory):
    app, _ = app_factory()
    users = [AppUser.objects.create(app=app, email=f"u{i}@example.com") for i in range(3)]
    mine = {account_factory(app, user=users[0]).pk for _ in range(3)}
    account_factory(app, user=users[1])
    tokens = [usersessions.start(user) for user in users]  # users[2] has no account
    with CaptureQueriesContext(connection) as queries:
        chains = WITH_ACCOUNTS.grouped(
            WITH_ACCOUNTS.values("default", [crypto.hash_token(t) for t in tokens])
        )
    assert len(queries) == 1 and "LEFT JOIN" in queries[0]["sql"]
    assert "credentials" not in queries[0]["sql"]
    by_user = {}
    for groups, many in chains:
        session, user, found_app = WITH_ACCOUNTS.build("default", groups)
        assert session.user is user and user.app is found_app
        accounts = [WITH_ACCOUNTS.build_many("default", values) for values in many]
        assert all(isinstance(a, Account) and a.user_id == user.pk for a in accounts)
        by_user[user.pk] = {a.pk for a in accounts}
    assert by_user == {users[0].pk: mine, users[1].pk: by_user[users[1].pk], users[2].pk: set()}
    assert len(by_user[users[1].pk]) == 1
    rows = WITH_ACCOUNTS.rows("default", [crypto.hash_token(tokens[0])])
    assert [s.user_id for s, _u, _a in rows] == [users[0].pk]  # one row per session


def test_many_must_read_the_primary_keys():
    with pytest.raises(ValueError, match="pk"):
        ChainQuery([(AppUser, None)], where="email", many=(Account, ("email", "user"), "user"))
