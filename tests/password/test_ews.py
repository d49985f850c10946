"""EWS through the hosted form, with exchangelib against a real NTLM/Basic EWS endpoint on
loopback (tests/peers/ews_server.py). SSRF tests never open a connection to anything but
loopback: sockets are refused outright, and names are answered by a stand-in for DNS."""

from __future__ import annotations

import base64
import logging
import socket
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import connection

from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import Account, AuthState
from aurinko_auth.providers.ews import EWSProvider, SignInFailed
from aurinko_auth.security import netguard
from tests.conftest import RETURN_URL
from tests.flows.conftest import query_of
from tests.password.conftest import account_of
from tests.peers.ews_server import EWSServer, User

pytest.importorskip("exchangelib")

provider = EWSProvider()
ALICE = User("alice@example.com", "ews-secret-1", "Alice Example", "alice@example.com")
BOB = User("CORP\\bob", "ews-secret-2 ü", "Bob Builder", "bob@corp.example")
NAME = "ews.example.test"  # .test never resolves: only the stand-in DNS answers it


@pytest.fixture
def ews_factory(settings, monkeypatch):
    """Starts EWS servers (stopped after the test), trusts their CA and allows loopback."""
    started = []

    def start(auth=("NTLM", "Basic"), mode="ews", trust=True):
        server = EWSServer.start([ALICE, BOB], auth=auth, mode=mode)
        started.append(server)
        # pyspnego's NTLM acceptor reads its users from this file.
        monkeypatch.setenv("NTLM_USER_FILE", str(server.user_file))
        settings.AURINKO_AUTH = {
            **django_settings.AURINKO_AUTH,
            "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"],
            "PASSWORD_CA_BUNDLE": str(server.ca_path) if trust else None,
            "PASSWORD_TIMEOUT": (3.0, 10.0),
        }
        return server

    yield start
    for server in started:
        server.stop()


def form(url, login=ALICE.login, password=None):
    return {
        "login": login,
        "password": ALICE.password if password is None else password,
        "serverUrl": url,
    }


def schemes(server):
    return {(auth or "").split(" ", 1)[0] for _, _, auth in server.requests if auth}


@pytest.mark.parametrize("auth", ["NTLM", "Basic"])
def test_good_password(ews_factory, auth):
    server = ews_factory(auth=(auth,))
    profile = provider.verify(None, provider.clean(form(server.url)))
    assert profile.email == "alice@example.com" and profile.name == "Alice Example"
    assert profile.login_string == "alice@example.com"
    assert profile.server_url == server.url
    assert profile.extra["authType"].lower() == auth.lower()
    assert schemes(server) == {auth}  # the server's own challenge chose the scheme
    assert [u.login for u in server.signed_in] and all(u is ALICE for u in server.signed_in)


@pytest.mark.parametrize("auth", ["NTLM", "Basic"])
def test_wrong_password(ews_factory, auth):
    server = ews_factory(auth=(auth,))
    with pytest.raises(SignInFailed) as refused:
        provider.verify(None, provider.clean(form(server.url, password="wrong")))
    assert refused.value.code == "credentials.invalid"
    assert server.signed_in == []


@pytest.mark.parametrize("auth", ["NTLM", "Basic"])
def test_domain_login_with_non_ascii_password(ews_factory, auth):
    server = ews_factory(auth=(auth,))
    profile = provider.verify(
        None, provider.clean(form(server.url, login=BOB.login, password=BOB.password))
    )
    assert profile.email == "bob@corp.example" and profile.login_string == "CORP\\bob"
    assert server.signed_in[-1] is BOB


def test_a_bare_server_address_gets_the_ews_path(ews_factory):
    server = ews_factory()
    cleaned = provider.clean(form(f"127.0.0.1:{server.port}"))
    assert cleaned["serverUrl"] == server.url
    assert provider.verify(None, cleaned).email == "alice@example.com"


@pytest.mark.parametrize(
    ("typed", "endpoint"),
    [
        (
            "HTTPS://Mail.Example.COM:443/EWS/Exchange.asmx",
            "https://mail.example.com/EWS/Exchange.asmx",
        ),
        ("mail.example.com", "https://mail.example.com/EWS/Exchange.asmx"),
        ("https://mail.example.com:8443/", "https://mail.example.com:8443/EWS/Exchange.asmx"),
        ("https://[2001:db8::1]/ews/exchange.asmx", "https://[2001:db8::1]/ews/exchange.asmx"),
    ],
)
def test_one_server_one_spelling(no_sockets, typed, endpoint):
    assert provider.clean(form(typed))["serverUrl"] == endpoint


def test_untrusted_certificate(ews_factory):
    server = ews_factory(trust=False)
    with pytest.raises(SignInFailed) as refused:
        provider.verify(None, provider.clean(form(server.url)))
    assert refused.value.code == "server.tls_failed"
    assert server.requests == []  # nothing was sent over the unverified connection


def test_a_web_server_that_is_not_ews(ews_factory):
    server = ews_factory(mode="html")
    with pytest.raises(SignInFailed) as refused:
        provider.verify(None, provider.clean(form(server.url)))
    assert refused.value.code == "server.not_ews"
    assert server.requests and schemes(server) == set()  # the password was never sent


def test_a_wrong_path_is_not_ews(ews_factory):
    server = ews_factory()
    with pytest.raises(SignInFailed) as refused:
        provider.verify(None, provider.clean(form(f"https://127.0.0.1:{server.port}/owa/")))
    assert refused.value.code == "server.not_ews"


def test_slow_server_times_out(ews_factory, settings):
    server = ews_factory(mode="slow")
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PASSWORD_TIMEOUT": (1.0, 1.0)}
    with pytest.raises(SignInFailed) as refused:
        provider.verify(None, provider.clean(form(server.url)))
    assert refused.value.code == "server.timeout"


def test_closed_port(ews_factory):
    ews_factory()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(SignInFailed) as refused:
            provider.verify(None, provider.clean(form(f"https://127.0.0.1:{port}/EWS/")))
    assert refused.value.code == "server.unreachable"


def test_a_name_is_resolved_once_and_the_checked_address_is_used(ews_factory):
    server = ews_factory()
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))]
    with mock.patch.object(netguard, "_getaddrinfo", return_value=answers) as dns:
        profile = provider.verify(
            None, provider.clean(form(f"https://{NAME}:{server.port}/EWS/Exchange.asmx"))
        )
    # Auth-type detection, version guess and ResolveNames: several connections, one lookup.
    assert dns.call_count == 1 and dns.call_args.args[0] == NAME
    assert len(server.requests) >= 3
    assert profile.server_url == f"https://{NAME}:{server.port}/EWS/Exchange.asmx"


# --- autodiscover ---------------------------------------------------------------------------


def dns_for(mapping):
    """A stand-in for DNS: the names in ``mapping`` and nothing else."""

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in mapping:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (mapping[host], port))]

    return getaddrinfo


def test_autodiscover_when_the_server_url_is_blank(ews_factory, monkeypatch, client, app_factory):
    server = ews_factory()
    server.httpd.ews_url = f"https://{NAME}:{server.port}/EWS/Exchange.asmx"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: the first candidate is down
        monkeypatch.setattr(
            "aurinko_auth.providers.ews.AUTODISCOVER_URLS",
            (
                f"https://{{domain}}:{closed.getsockname()[1]}/autodiscover/autodiscover.svc",
                f"https://autodiscover.{{domain}}:{server.port}/autodiscover/autodiscover.svc",
            ),
        )
        dns = mock.Mock(
            side_effect=dns_for(
                {
                    "example.com": "127.0.0.1",
                    "autodiscover.example.com": "127.0.0.1",
                    NAME: "127.0.0.1",
                }
            )
        )
        monkeypatch.setattr(netguard, "_getaddrinfo", dns)
        app, secret = app_factory(scopes="Mail.Read Calendar.Read")
        done = client.post(start(client, app), form(""))
    assert done.status_code == 303 and query_of(done["Location"])["status"] == "success"
    account = Account.objects.get()
    assert account.server_url == server.httpd.ews_url
    assert account.credentials["serverUrl"] == server.httpd.ews_url
    assert sorted(c.args[0] for c in dns.call_args_list) == sorted(
        ["autodiscover.example.com", "example.com", NAME]
    )  # each name looked up once
    paths = [path for _, path, _ in server.requests]
    assert paths[0] == "/autodiscover/autodiscover.svc" and paths[-1] == "/EWS/Exchange.asmx"


def test_autodiscover_stops_at_a_wrong_password(ews_factory, monkeypatch):
    server = ews_factory(auth=("Basic",))
    monkeypatch.setattr(
        "aurinko_auth.providers.ews.AUTODISCOVER_URLS",
        (f"https://autodiscover.{{domain}}:{server.port}/autodiscover/autodiscover.svc",),
    )
    monkeypatch.setattr(
        netguard, "_getaddrinfo", dns_for({"autodiscover.example.com": "127.0.0.1"})
    )
    with pytest.raises(SignInFailed) as refused:
        provider.verify(None, provider.clean(form("", password="wrong")))
    assert refused.value.code == "credentials.invalid"


def test_autodiscover_finds_nothing(no_sockets, monkeypatch):
    monkeypatch.setattr(netguard, "_getaddrinfo", dns_for({}))
    with pytest.raises(netguard.BlockedHost) as refused:
        provider.verify(None, provider.clean(form("")))
    assert refused.value.code == "host.dns_error"


def test_autodiscover_refuses_private_candidates_before_any_socket(no_sockets, monkeypatch):
    monkeypatch.setattr(
        netguard,
        "_getaddrinfo",
        dns_for({"example.com": "10.0.0.5", "autodiscover.example.com": "169.254.169.254"}),
    )
    with pytest.raises(netguard.BlockedHost) as refused:
        provider.verify(None, provider.clean(form("")))
    assert refused.value.code == "host.private_address"


# --- SSRF: refused before any socket opens --------------------------------------------------


@pytest.fixture
def no_sockets(monkeypatch, settings):
    """Nothing allowed, and any attempt to connect fails loudly: the guard must refuse
    before that."""
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "ALLOWED_PRIVATE_NETWORKS": []}

    def refuse(*args, **kwargs):
        raise AssertionError(f"a socket was opened: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "[::1]",
        "2130706433",
        "0x7f.1",
        "[::ffff:169.254.169.254]",
        "100.64.0.1",
        "0.0.0.0",
    ],
)
def test_private_hosts_are_refused_before_any_socket(no_sockets, host):
    with pytest.raises(netguard.BlockedHost) as refused:
        provider.verify(None, provider.clean(form(f"https://{host}/EWS/Exchange.asmx")))
    assert refused.value.code == "host.private_address"


def test_a_name_that_resolves_to_a_private_address_is_refused(no_sockets):
    answers = [(2, 1, 6, "", ("93.184.216.34", 443)), (2, 1, 6, "", ("10.1.2.3", 443))]
    with (
        mock.patch.object(netguard, "_getaddrinfo", return_value=answers),
        pytest.raises(netguard.BlockedHost) as refused,
    ):
        provider.verify(None, provider.clean(form(f"https://{NAME}/EWS/Exchange.asmx")))
    assert refused.value.code == "host.private_address"


def test_an_unknown_host(no_sockets):
    def nxdomain(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with (
        mock.patch.object(netguard, "_getaddrinfo", side_effect=nxdomain),
        pytest.raises(netguard.BlockedHost) as refused,
    ):
        provider.verify(None, provider.clean(form(f"https://{NAME}/EWS/Exchange.asmx")))
    assert refused.value.code == "host.dns_error"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("login", "a\x00b"),
        ("password", "p\x00w"),
        ("serverUrl", "https://ews.example.com\x00/"),
        ("login", "x" * 321),
        ("password", "p" * 1025),
        ("serverUrl", "https://ews.example.com/" + "a" * 2100),
        ("password", ""),
        ("login", " "),
        ("login", "CORP\\carol"),
        ("login", "carol@bad_domain"),
        ("serverUrl", "http://ews.example.com/EWS/Exchange.asmx"),
        ("serverUrl", "ftp://ews.example.com/"),
        ("serverUrl", "https://ews.example.com:99999/"),
        ("serverUrl", "https://user:pw@ews.example.com/"),
        ("serverUrl", "https:///EWS"),
    ],
)
def test_bad_form_values(no_sockets, field, value):
    url = "" if field == "login" and "\x00" not in value else "https://ews.example.com/EWS/"
    data = {**form(url), field: value}
    with pytest.raises(InvalidRequest) as refused:
        provider.clean(data)
    assert refused.value.status == 400


# --- the Account flow through the form -------------------------------------------------------


def start(client, app):
    response = client.get(
        "/v1/auth/authorize",
        {
            "clientId": app.client_id,
            "serviceType": "ews",
            "scopes": "Mail.Read Calendar.Read",
            "returnUrl": RETURN_URL,
            "state": "s-ews",
        },
    )
    assert response.status_code == 303
    assert "/v1/auth/password/ast_" in response["Location"]
    return "/" + response["Location"].split("://", 1)[1].split("/", 1)[1]


def secrets_of(user):
    basic_value = base64.b64encode(f"{user.login}:{user.password}".encode()).decode()
    return (user.password, basic_value)


@pytest.mark.parametrize("auth", ["NTLM", "Basic"])
def test_account_flow_through_the_form(client, app_factory, ews_factory, caplog, auth):
    caplog.set_level(logging.DEBUG)
    server = ews_factory(auth=(auth,))
    app, secret = app_factory(scopes="Mail.Read Calendar.Read")
    path = start(client, app)
    page = client.get(path)
    assert page.status_code == 200
    assert b'name="serverUrl"' in page.content and b'<label for="serverUrl">' in page.content
    data = form(server.url, password="wrong-pass-123")
    wrong = client.post(path, data)
    assert wrong.status_code == 400 and b"did not accept" in wrong.content
    assert b"wrong-pass-123" not in wrong.content  # the password is never echoed
    assert server.url.encode() in wrong.content  # the other fields are
    assert not Account.objects.exists() and AuthState.objects.get().used_at is None

    me = account_of(
        client, app, secret, client.post(path, {**data, "password": ALICE.password}), "s-ews"
    )
    assert me["serviceType"] == "EWS" and me["loginString"] == "alice@example.com"
    assert me["email"] == "alice@example.com" and me["serverUrl"] == server.url
    account = Account.objects.get()
    assert account.credentials["password"] == ALICE.password
    assert account.credentials["serverUrl"] == server.url
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM aurinko_auth_account")
        stored = cursor.fetchone()[0]
    assert all(s not in str(stored) for s in secrets_of(ALICE))  # encrypted at rest

    # The used form cannot be replayed; signing in again updates the same account.
    assert client.post(path, {**data, "password": ALICE.password}).status_code == 400
    again = client.post(start(client, app), {**data, "password": ALICE.password})
    assert again.status_code == 303
    assert Account.objects.get().pk == account.pk
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert all(s not in logged for s in secrets_of(ALICE) + ("wrong-pass-123",))


def test_a_refused_host_is_shown_on_the_form(client, app_factory, no_sockets):
    app, _ = app_factory(scopes="Mail.Read Calendar.Read")
    path = start(client, app)
    refused = client.post(path, form("https://169.254.169.254/EWS/Exchange.asmx"))
    assert refused.status_code == 400 and b"not a public address" in refused.content
    assert not Account.objects.exists()


def test_user_flow_primary_through_the_form(client, app_factory, ews_factory):
    server = ews_factory(auth=("NTLM",))
    app, _ = app_factory(scopes="Mail.Read Calendar.Read")
    response = client.get(
        "/v1/auth/authorizeUser",
        {
            "clientId": app.client_id,
            "serviceType": "EWS",
            "scopes": "Mail.Read",
            "returnUrl": RETURN_URL,
            "state": "s-user",
            "accountRole": "primary",
        },
    )
    assert response.status_code == 303 and "/v1/auth/password/ast_" in response["Location"]
    path = "/" + response["Location"].split("://", 1)[1].split("/", 1)[1]
    done = client.post(path, form(server.url))
    assert done.status_code == 303
    assert query_of(done["Location"]) == {"status": "success", "state": "s-user"}
    account = Account.objects.get()
    assert account.account_type == "primary" and account.user is not None
    assert account.user.email == "alice@example.com"
    me = client.get("/v1/user")  # the session cookie the flow set
    assert me.status_code == 200 and me.json()["email"] == "alice@example.com"
