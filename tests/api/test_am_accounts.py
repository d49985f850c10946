"""/v1/am/accounts: pagination, filters, bad values, constant query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.fixture
def listing(client, app_factory, account_factory):
    app, secret = app_factory()
    from tests.flows.conftest import basic

    auth = basic(app.client_id, secret)

    def get(**params):
        return client.get("/v1/am/accounts", params, HTTP_AUTHORIZATION=auth)

    return app, get


def test_pagination(listing, account_factory):
    app, get = listing
    ids = [account_factory(app).pk for _ in range(5)]
    body = get(limit=2, offset=1).json()
    assert body["totalSize"] == 5 and body["limit"] == 2 and body["offset"] == 1
    assert [a["id"] for a in body["records"]] == ids[1:3]
    assert [a["id"] for a in get().json()["records"]] == ids


def test_only_own_accounts(listing, app_factory, account_factory):
    app, get = listing
    other, _ = app_factory(name="Other")
    account_factory(other)
    mine = account_factory(app)
    assert [a["id"] for a in get().json()["records"]] == [mine.pk]


def test_filters(listing, account_factory):
    app, get = listing
    g = account_factory(app, "Google")
    o = account_factory(app, "Office365", active=False)
    d = account_factory(app, "Office365", daemon=True)
    assert [a["id"] for a in get(serviceType="google").json()["records"]] == [g.pk]
    assert [a["id"] for a in get(serviceType="OFFICE365").json()["records"]] == [o.pk, d.pk]
    assert [a["id"] for a in get(active="false").json()["records"]] == [o.pk]
    assert [a["id"] for a in get(daemon="true").json()["records"]] == [d.pk]
    assert get(active="true", daemon="false").json()["totalSize"] == 1


@pytest.mark.parametrize("params", [
    {"limit": "x"}, {"offset": "-1"}, {"active": "maybe"}, {"daemon": "2"},
    {"serviceType": "Nope"},
])
def test_bad_values(listing, params):
    r = listing[1](**params)
    assert r.status_code == 400
    assert r.json()["code"] and r.json()["message"]


def test_requires_client_credentials(client, app_with_account):
    token = app_with_account[3]
    r = client.get("/v1/am/accounts", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 401


def test_constant_query_count(listing, account_factory):
    app, get = listing

    def count(n: int) -> int:
        while app.accounts.count() < n:
            account_factory(app)
        with CaptureQueriesContext(connection) as ctx:
            assert len(get(limit=50).json()["records"]) == n
        return len(ctx.captured_queries)

    assert count(3) == count(30)
