"""Importing password accounts (``POST /v1/am/accounts`` and ``/connect``): checked by a real
login at Dovecot before anything is written."""

from __future__ import annotations

import json

import pytest

from aurinko_auth.models import Account
from tests.flows.conftest import basic


@pytest.fixture
def imap_importer(client, app_factory, imap_settings):
    app, secret = app_factory(scopes="Mail.Read Mail.ReadWrite")

    def post(body, path="/v1/am/accounts"):
        return client.post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )

    return app, post, imap_settings


def imap_body(server, password="imap-secret-1"):
    return {
        "serviceType": "IMAP",
        "active": True,
        "loginString": "alice@example.com",
        "password": password,
        "serverUrl": f"imaps://127.0.0.1:{server.imaps_port}",
        "authScopes": ["Mail.Read"],
    }


def test_imap_import_logs_in_then_saves(imap_importer):
    app, post, server = imap_importer
    response = post(imap_body(server))
    assert response.status_code == 200, response.content
    assert "imap-secret" not in response.content.decode()
    account = Account.objects.get(pk=response.json()["accountId"])
    assert account.service_type == "IMAP" and account.credentials["password"] == "imap-secret-1"
    assert account.server_url == f"imaps://127.0.0.1:{server.imaps_port}"


def test_imap_wrong_password_writes_nothing(imap_importer):
    app, post, server = imap_importer
    response = post(imap_body(server, password="wrong"))
    assert response.status_code == 400 and response.json()["code"] == "credentials.invalid"
    assert not Account.objects.exists()
    connect = post(imap_body(server), path="/v1/am/accounts/connect")
    assert connect.status_code == 200 and not Account.objects.exists()
