"""The hosted sign-in form beyond the Account flow: the User flow (primary and secondary),
rate limits on failed sign-ins, IMAP servers without STARTTLS, non-ASCII passwords. Against a
real Dovecot on loopback."""

from __future__ import annotations

import socket
import threading

import pytest

from aurinko_auth import usersessions
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import Account, AppUser, AuditEvent, AuthState, UserSession
from aurinko_auth.providers.imap import IMAPProvider, SignInFailed
from tests.conftest import RETURN_URL
from tests.flows.conftest import query_of
from tests.password.conftest import USERS
from tests.password.test_imap import form

provider = IMAPProvider()


@pytest.fixture
def imap_app(app_factory, imap_settings):
    app, secret = app_factory(scopes="Mail.Read")
    return app, imap_settings


def open_form(client, app, *, path="/v1/auth/authorize", **params):
    query = {
        "clientId": app.client_id,
        "serviceType": "IMAP",
        "scopes": "Mail.Read",
        "returnUrl": RETURN_URL,
        "state": "s-form",
        **params,
    }
    response = client.get(path, query)
    assert response.status_code == 303, response.content
    location = response["Location"]
    assert "/v1/auth/password/ast_" in location
    return "/" + location.split("://", 1)[1].split("/", 1)[1]


def test_non_ascii_password_signs_in_with_sasl_plain(imap_settings):
    for security in ("ssl", "starttls"):
        profile = provider.verify(
            None,
            provider.clean(
                form(login="carol@example.com", security=security, dovecot=imap_settings)
            ),
        )
        assert profile.login_string == "carol@example.com"
    with pytest.raises(SignInFailed) as refused:
        provider.verify(
            None,
            provider.clean(
                form(login="carol@example.com", password="pässwörd-falsch", dovecot=imap_settings)
            ),
        )
    assert refused.value.code == "credentials.invalid"


def _plaintext_only_server():
    """An IMAP server that offers no STARTTLS; records every line it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    received: list[bytes] = []

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN] ready\r\n")
            reader = conn.makefile("rb")
            for line in reader:
                received.append(line)
                tag = line.split(b" ", 1)[0]
                if b"LOGOUT" in line.upper():
                    conn.sendall(b"* BYE bye\r\n" + tag + b" OK LOGOUT done\r\n")
                    return
                conn.sendall(tag + b" OK done\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, received, thread


def test_server_without_starttls_never_gets_the_password(loopback_settings):
    server, received, thread = _plaintext_only_server()
    try:
        with pytest.raises(SignInFailed) as refused:
            provider.verify(
                None, provider.clean(form(port=server.getsockname()[1], security="starttls"))
            )
        thread.join(5)
    finally:
        server.close()
    assert refused.value.code == "server.no_starttls"
    assert not any(USERS["alice@example.com"].encode() in line for line in received)
    assert not any(b"LOGIN" in line.upper() or b"AUTHENTICATE" in line.upper() for line in received)


def test_user_flow_primary_then_secondary_through_the_form(client, imap_app):
    app, dovecot = imap_app
    primary = open_form(client, app, path="/v1/auth/authorizeUser", accountRole="primary")
    done = client.post(primary, form(dovecot=dovecot))
    assert done.status_code == 303 and query_of(done["Location"])["status"] == "success"
    cookie = done.cookies[usersessions.cookie_name(app.pk)]
    assert cookie["httponly"] and UserSession.objects.count() == 1
    user = AppUser.objects.get()
    alice = Account.objects.get()
    assert alice.user_id == user.pk and alice.account_type == "primary"
    assert not user.trusted_identity  # a password sign-in proves no e-mail domain
    signed_in = AuditEvent.objects.get(event="user.signin")
    assert signed_in.app_id == app.pk and signed_in.details["userId"] == str(user.pk)
    assert signed_in.details["serviceType"] == "IMAP" and signed_in.details["created"] is True
    # A second mailbox, linked to the signed-in user as a secondary account.
    secondary = open_form(client, app, path="/v1/auth/authorizeUser", accountRole="secondary")
    done = client.post(secondary, form(login="bob", dovecot=dovecot))
    assert done.status_code == 303 and query_of(done["Location"])["status"] == "success"
    bob = Account.objects.get(login_string="bob")
    assert bob.user_id == user.pk and bob.account_type == "secondary"
    me = client.get("/v1/user")
    assert me.status_code == 200
    assert {a["loginString"] for a in me.json()["accounts"]} == {"alice@example.com", "bob"}


def test_user_flow_code_response(client, imap_app):
    app, dovecot = imap_app
    path = open_form(
        client, app, path="/v1/auth/authorizeUser", accountRole="primary", responseType="code"
    )
    done = client.post(path, form(dovecot=dovecot))
    back = query_of(done["Location"])
    assert back["status"] == "success" and back["code"].startswith("acd_")


def test_secondary_after_sign_out_ends_at_the_app_with_an_error(client, imap_app):
    app, dovecot = imap_app
    client.post(
        open_form(client, app, path="/v1/auth/authorizeUser", accountRole="primary"),
        form(dovecot=dovecot),
    )
    path = open_form(client, app, path="/v1/auth/authorizeUser", accountRole="secondary")
    UserSession.objects.update(revoked_at="2026-01-01T00:00:00Z")  # signed out meanwhile
    done = client.post(path, form(login="bob", dovecot=dovecot))
    assert done.status_code == 303
    back = query_of(done["Location"])
    assert back["status"] == "error" and back["state"] == "s-form"
    assert not Account.objects.filter(login_string="bob").exists()
    assert AuthState.objects.filter(used_at__isnull=True).count() == 0  # used up


def test_failed_sign_ins_are_limited_per_login(client, imap_app, settings):
    app, dovecot = imap_app
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PASSWORD_FAILURE_RATE_LOGIN": "2/h"}
    path = open_form(client, app)
    for _ in range(2):
        assert client.post(path, form(password="wrong", dovecot=dovecot)).status_code == 400
    dovecot.stop()  # a third attempt must not reach the server at all
    limited = client.post(path, form(dovecot=dovecot))
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert b"Too many attempts" in limited.content
    assert not Account.objects.exists()
    # The login is counted whatever its case or the address it comes from.
    other = client.post(
        path, form(login="ALICE@example.com", dovecot=dovecot), REMOTE_ADDR="192.0.2.9"
    )
    assert other.status_code == 429


def test_failed_sign_ins_are_limited_per_ip(client, imap_app, settings):
    app, dovecot = imap_app
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PASSWORD_FAILURE_RATE_IP": "2/h"}
    path = open_form(client, app)
    for login in ("alice@example.com", "bob"):
        assert (
            client.post(path, form(login=login, password="wrong", dovecot=dovecot)).status_code
            == 400
        )
    assert client.post(path, form(login="carol@example.com", dovecot=dovecot)).status_code == 429
    # Another client address is not limited by this one's failures.
    done = client.post(
        path, form(login="carol@example.com", dovecot=dovecot), REMOTE_ADDR="192.0.2.10"
    )
    assert done.status_code == 303


def test_successful_sign_ins_are_not_counted(client, imap_app, settings):
    app, dovecot = imap_app
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PASSWORD_FAILURE_RATE_LOGIN": "1/h"}
    for _ in range(3):
        done = client.post(open_form(client, app), form(dovecot=dovecot))
        assert done.status_code == 303
    assert Account.objects.count() == 1


def test_sugarcrm_needs_the_apps_configuration(client, app_factory):
    """SugarCRM's tokens are refreshed with the app's configuration (client id, platform):
    without one the flow ends at the app with a clear error, before any form."""
    app, _ = app_factory(scopes="Contacts.Read")
    response = client.get(
        "/v1/auth/authorize",
        {
            "clientId": app.client_id,
            "serviceType": "SugarCRM",
            "scopes": "Contacts.Read",
            "returnUrl": RETURN_URL,
            "state": "s-sugar",
        },
    )
    assert response.status_code == 303
    back = query_of(response["Location"])
    assert back["status"] == "error" and back["error"] == "provider.not_configured"
    assert not AuthState.objects.exists()


@pytest.mark.parametrize(
    ("service_type", "fields"),
    [
        ("IMAP", {"host": "outlook.office365.com", "port": "993", "security": "ssl"}),
        ("IMAP", {"host": "IMAP-MAIL.outlook.com.", "port": "993", "security": "ssl"}),
        ("EWS", {"serverUrl": "https://outlook.office365.com/EWS/Exchange.asmx"}),
    ],
)
def test_exchange_online_is_sent_to_office365(service_type, fields, monkeypatch):
    """Exchange Online refuses passwords since 2022: say so before any connection."""
    from aurinko_auth.providers.registry import get_provider

    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    provider = get_provider(service_type)
    with pytest.raises(InvalidRequest) as refused:
        provider.clean({"login": "alice@contoso.com", "password": "pw", **fields})
    assert refused.value.code == "server.exchange_online"
    assert "Office 365" in refused.value.message
