"""IMAP through the hosted form, against a real Dovecot on loopback."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection

from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import Account, AuthState
from aurinko_auth.providers.imap import IMAPProvider, SignInFailed
from aurinko_auth.security import netguard
from tests.conftest import RETURN_URL
from tests.password.conftest import USERS, account_of

provider = IMAPProvider()


def form(
    host="127.0.0.1",
    port=None,
    security="ssl",
    login="alice@example.com",
    password=None,
    dovecot=None,
):
    if port is None:
        port = dovecot.imaps_port if security == "ssl" else dovecot.imap_port
    return {
        "login": login,
        "password": USERS.get(login, "x") if password is None else password,
        "host": host,
        "port": str(port),
        "security": security,
    }


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_good_password(imap_settings, security):
    profile = provider.verify(None, provider.clean(form(security=security, dovecot=imap_settings)))
    assert profile.login_string == "alice@example.com"
    assert profile.server_url.startswith("imaps://" if security == "ssl" else "imap://")


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_wrong_password(imap_settings, security):
    with pytest.raises(SignInFailed) as refused:
        provider.verify(
            None, provider.clean(form(security=security, password="wrong", dovecot=imap_settings))
        )
    assert refused.value.code == "credentials.invalid"


def test_untrusted_certificate(imap_settings, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PASSWORD_CA_BUNDLE": None}
    with pytest.raises(SignInFailed) as refused:
        provider.verify(None, provider.clean(form(dovecot=imap_settings)))
    assert refused.value.code == "server.tls_failed"


def test_closed_port(loopback_settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(SignInFailed) as refused:
            provider.verify(None, provider.clean(form(port=port)))
    assert refused.value.code == "server.unreachable"


def silent_or_talking(greeting: bytes | None):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []

    def accept():
        conn, _ = server.accept()
        held.append(conn)
        if greeting:
            conn.sendall(greeting)

    threading.Thread(target=accept, daemon=True).start()
    return server, held


@pytest.mark.parametrize(
    ("greeting", "code"),
    [
        (None, "server.timeout"),  # accepts, then never says a word
        (b"SSH-2.0-OpenSSH_9.2\r\n", "server.not_imap"),  # another protocol
    ],
)
def test_server_that_does_not_speak_imap(loopback_settings, greeting, code):
    loopback_settings.AURINKO_AUTH = {
        **loopback_settings.AURINKO_AUTH,
        "PASSWORD_TIMEOUT": (1.0, 1.0),
    }
    server, held = silent_or_talking(greeting)
    try:
        with pytest.raises(SignInFailed) as refused:
            provider.verify(
                None, provider.clean(form(port=server.getsockname()[1], security="starttls"))
            )
        assert refused.value.code == code
    finally:
        server.close()
        for conn in held:
            conn.close()


def test_private_server_refused_before_any_socket(monkeypatch, settings):
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "ALLOWED_PRIVATE_NETWORKS": []}

    def refuse(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    for host in (
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "[::1]",
        "::ffff:127.0.0.1",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "localhost",
    ):
        with pytest.raises(netguard.BlockedHost):
            provider.verify(None, provider.clean(form(host=host, port=993)))
    # A name whose DNS answers include a private address.
    answers = [(2, 1, 6, "", ("93.184.216.34", 993)), (2, 1, 6, "", ("10.1.2.3", 993))]
    monkeypatch.setattr(netguard, "_getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(netguard.BlockedHost):
        provider.verify(None, provider.clean(form(host="imap.rebind.example", port=993)))


def test_smtp_fields_are_optional_and_checked():
    data = {
        "login": "a@example.com",
        "password": "p",
        "host": "imap.example.com",
        "port": "",
        "security": "starttls",
    }
    assert "smtpHost" not in provider.clean(data)
    assert provider.clean(data)["port"] == 143
    cleaned = provider.clean({**data, "smtpHost": "SMTP.example.com"})
    assert (cleaned["smtpHost"], cleaned["smtpPort"]) == ("smtp.example.com", 587)
    assert (
        provider.clean({**data, "smtpHost": "smtp.example.com", "smtpPort": "465"})["smtpPort"]
        == 465
    )
    for bad in (
        {"smtpHost": "smtp.example.com", "smtpPort": "0"},
        {"smtpHost": "smtp\x00.example.com"},
        {"smtpHost": "s" * 300},
    ):
        with pytest.raises(InvalidRequest):
            provider.clean({**data, **bad})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("login", "a\x00b"),
        ("host", "h" * 300),
        ("port", "70000"),
        ("security", "none"),
        ("password", ""),
        ("login", "x" * 400),
    ],
)
def test_bad_form_values(field, value):
    data = {
        "login": "a@example.com",
        "password": "p",
        "host": "imap.example.com",
        "port": "993",
        "security": "ssl",
        field: value,
    }
    with pytest.raises(Exception) as refused:
        provider.clean(data)
    assert getattr(refused.value, "status", None) == 400


# --- the Account flow through the form -------------------------------------------------------


@pytest.fixture
def imap_app(app_factory, imap_settings):
    app, secret = app_factory(scopes="Mail.Read")
    return app, secret, imap_settings


def start(client, app):
    response = client.get(
        "/v1/auth/authorize",
        {
            "clientId": app.client_id,
            "serviceType": "imap",
            "scopes": "Mail.Read",
            "returnUrl": RETURN_URL,
            "state": "s-imap",
        },
    )
    assert response.status_code == 303
    assert "/v1/auth/password/ast_" in response["Location"]
    return response["Location"].split("://", 1)[1].split("/", 1)[1]


def test_account_flow_through_the_form(client, imap_app, caplog):
    caplog.set_level(logging.DEBUG)
    app, secret, dovecot = imap_app
    path = "/" + start(client, app)
    page = client.get(path)
    assert page.status_code == 200 and b'name="password"' in page.content
    assert page["Referrer-Policy"] == "same-origin"
    data = form(dovecot=dovecot, password="wrong")
    wrong = client.post(path, data)
    assert wrong.status_code == 400 and b"did not accept" in wrong.content
    assert b"wrong" not in wrong.content  # the password is never echoed
    assert not Account.objects.exists() and AuthState.objects.get().used_at is None
    me = account_of(
        client,
        app,
        secret,
        client.post(path, {**data, "password": USERS["alice@example.com"]}),
        "s-imap",
    )
    assert me["serviceType"] == "IMAP" and me["loginString"] == "alice@example.com"
    assert me["serverUrl"].startswith("imaps://127.0.0.1:")
    account = Account.objects.get()
    assert account.credentials["password"] == USERS["alice@example.com"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM aurinko_auth_account")
        assert USERS["alice@example.com"] not in cursor.fetchone()[0]  # encrypted at rest
    # The used form cannot be replayed; signing in again updates the same account.
    assert client.post(path, {**data, "password": USERS["alice@example.com"]}).status_code == 400
    again = "/" + start(client, app)
    client.post(again, {**data, "password": USERS["alice@example.com"]})
    assert Account.objects.get().pk == account.pk
    assert not any(USERS["alice@example.com"] in r.getMessage() for r in caplog.records)


def test_unknown_host_is_a_clear_form_error(client, imap_app, monkeypatch):
    """A name that does not resolve: the form says so (no socket is ever opened)."""
    app, _, dovecot = imap_app

    def nxdomain(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard, "_getaddrinfo", nxdomain)
    path = "/" + start(client, app)
    refused = client.post(path, form(host="imap.nowhere.example", port=993))
    assert refused.status_code == 400
    assert b"host name does not resolve" in refused.content
    assert not Account.objects.exists()


@pytest.mark.parametrize("field", ["port", "smtpPort"])
@pytest.mark.parametrize("value", ["²", "١٤٣", "0", "65536", "999999", "1e3"])
def test_form_ports_must_be_ascii_numbers_in_range(field, value):
    """Issue 19 item 4: a superscript port was a 500 (isdigit() true, int() raises)."""
    data = {"login": "a@example.com", "password": "p", "host": "imap.example.com"}
    data.update({"smtpHost": "smtp.example.com"} if field == "smtpPort" else {})
    data[field] = value
    with pytest.raises(InvalidRequest, match="number from 1 to 65535"):
        IMAPProvider().clean(data)
