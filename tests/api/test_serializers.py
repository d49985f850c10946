"""api/serializers.py: the compiled representation equals DRF's, and the declarative parsing
of query parameters and ids."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from rest_framework import serializers as drf

from aurinko_auth import usersessions
from aurinko_auth.api.serializers import (
    AccountListQuery,
    AccountSerializer,
    SessionSerializer,
    UserSerializer,
    account_json,
    parse_id,
)
from aurinko_auth.models import Account, AppUser, UserSession
from tests.flows.conftest import basic

pytestmark = pytest.mark.django_db


def drf_representation(serializer: drf.Serializer, instance) -> dict:
    """What DRF's own Serializer.to_representation makes of ``instance``."""
    return drf.Serializer.to_representation(serializer, instance)


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"account_type": "", "server_url": "", "auth_org_id": "", "auth_obtained_at": None},
        {
            "account_type": "primary",
            "server_url": "https://mail.example.com",
            "auth_org_id": "tenant-1",
            "auth_obtained_at": dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC),
            "scopes": ["Mail.Read"],
            "requested_scopes": ["Mail.Read", "Mail.Send"],
            "name": "Ünïcode \u2028",
            "daemon": True,
            "client_org_id": "tenant-a",
        },
    ],
)
def test_compiled_account_representation_is_drfs(app_factory, account_factory, values):
    app, _ = app_factory()
    account = account_factory(app, **values)
    account = Account.objects.select_related("app").get(pk=account.pk)
    serializer = AccountSerializer()
    assert account_json(account) == drf_representation(serializer, account)
    assert account_json(account) == serializer.to_representation(account)
    body = account_json(account)
    assert body["type"] == ("daemon" if values.get("daemon") else "personal")
    # empty strings and an unknown time are left out, never null (Aurinko's schema)
    optional = {"serverUrl", "authOrgId", "clientOrgId", "authObtainedAt"}
    if values.get("server_url"):
        assert optional <= set(body)
    else:
        assert not {"serverUrl", "clientOrgId"} & set(body)
    assert None not in body.values()
    assert body["missingScopes"] == (["Mail.Send"] if values.get("scopes") else [])


def test_compiled_user_and_session_representation_is_drfs(app_factory, account_factory):
    app, _ = app_factory()
    user = AppUser.objects.create(app=app, email="ann@example.com")
    accounts = [
        account_factory(app, user=user, account_type="secondary"),
        account_factory(app, user=user, account_type="primary"),
    ]
    users = UserSerializer(context={"accounts": accounts})
    body = users.to_representation(user)
    assert body == drf_representation(users, user)
    assert [a["type"] for a in body["accounts"]] == ["primary", "secondary"]
    account_fields = [*AccountSerializer().fields, "userAccountType"]
    assert list(body["accounts"][0]) == [
        name for name in account_fields if name in body["accounts"][0]
    ]  # the role replaces AccountType's type in place
    usersessions.start(user, user_agent="UA", ip="192.0.2.1")
    session = UserSession.objects.get()
    sessions = SessionSerializer(context={"current": session})
    assert sessions.to_representation(session) == drf_representation(sessions, session)
    assert sessions.to_representation(session)["current"] is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), (" 42 ", 42), ("0", 0), ("9" * 18, int("9" * 18))]
    + [(bad, None) for bad in ("", "abc", "-1", "1.0", "+1", "9" * 19, "١", "²", "1 2")],
)
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"limit": 50, "offset": 0}),
        ({"limit": "0", "offset": "7"}, {"limit": 1, "offset": 7}),
        ({"limit": "500", "offset": str(10**12)}, {"limit": 200, "offset": 10**9}),
        ({"limit": "", "active": ""}, {"limit": 50, "offset": 0}),
        ({"active": "TRUE", "daemon": "no"}, {"active": True, "daemon": False}),
        ({"serviceType": "office365"}, {"serviceType": "Office365"}),
    ],
)
def test_account_list_query(query, expected):
    parsed = AccountListQuery(data=QueryDict(urlencode(query)))  # as request.query_params
    assert parsed.is_valid(), parsed.errors
    assert {k: v for k, v in parsed.validated_data.items() if k in expected} == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "-1"}, "limit must be a non-negative integer."),
        ({"offset": "x"}, "offset must be a non-negative integer."),
        ({"limit": "1.5"}, "limit must be a non-negative integer."),
        ({"offset": "9" * 5000}, "offset must be a non-negative integer."),
        ({"active": "on"}, "active must be true or false."),
        ({"daemon": "maybe"}, "daemon must be true or false."),
    ],
)
def test_bad_list_query_is_invalid_request(client, app_factory, query, message):
    app, secret = app_factory()
    response = client.get("/v1/am/accounts", query, HTTP_AUTHORIZATION=basic(app.client_id, secret))
    assert response.status_code == 400
    assert response.json() == {
        "code": "request.invalid",
        "message": message,
        "requestId": response["X-Aurinko-Request-Id"],
    }
