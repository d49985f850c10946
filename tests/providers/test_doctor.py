from __future__ import annotations

import http.server
import threading

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def token_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802
            self.send_response(405)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/token"
    server.shutdown()
    server.server_close()


def test_healthy_config_passes(app_factory, provider_config_factory, token_server, capsys):
    app, _ = app_factory()
    provider_config_factory(app, "Google", endpoints={"token": token_server})
    call_command("aurinko_doctor", app.client_id)
    out = capsys.readouterr().out
    assert "ERROR" not in out


def test_problems_reported_and_exit_non_zero(app_factory, provider_config_factory, capsys):
    app, _ = app_factory()
    provider_config_factory(
        app,
        "Zoho",
        client_secret="",
        endpoints={"authorize": "http://idp.example.net/auth", "token": "http://127.0.0.1:9/token"},
    )
    with pytest.raises(CommandError) as info:
        call_command("aurinko_doctor", app.client_id)
    assert info.value.returncode == 2
    out = capsys.readouterr().out
    assert "missing OAuth client secret" in out
    assert "'authorize'" in out and "https" in out
    assert "unreachable" in out
    assert "at most 20 refresh tokens" in out


def test_office365_secret_expiry_reminder(app_factory, provider_config_factory, capsys):
    app, _ = app_factory()
    provider_config_factory(app, "Office365")
    call_command("aurinko_doctor", app.client_id, "--no-probe")
    out = capsys.readouterr().out
    assert "client secrets expire" in out and "90 days" in out


def test_unknown_app(db):
    with pytest.raises(CommandError, match="No app"):
        call_command("aurinko_doctor", "nope")


def test_accounts_without_offline_scope_are_reported(
    app_factory, provider_config_factory, account_factory, capsys
):
    app, _ = app_factory()
    provider_config_factory(app, "Office365")
    granted = ["openid", "email", "offline_access", "https://graph.microsoft.com/Mail.Read"]
    account_factory(app, service_type="Office365", native_scopes=granted)
    call_command("aurinko_doctor", app.client_id, "--no-probe")
    assert "offline_access" not in capsys.readouterr().out
    for _ in range(2):  # an admin policy stripped offline_access from these grants
        account_factory(
            app,
            service_type="Office365",
            native_scopes=["openid", "https://graph.microsoft.com/Mail.Read"],
        )
    account_factory(app, service_type="Office365", native_scopes=["openid"], active=False)
    # Service accounts and their managed mailboxes have no refresh token of their own.
    parent = account_factory(app, "Office365", daemon=True, native_scopes=["Mail.Read"])
    account_factory(app, "Office365", parent=parent, native_scopes=["Mail.Read"])
    call_command("aurinko_doctor", app.client_id, "--no-probe")
    assert "2 active account(s) were granted no 'offline_access'" in capsys.readouterr().out


def test_sugarcrm_needs_no_client_secret_and_is_not_probed(
    app_factory, provider_config_factory, capsys, monkeypatch
):
    """Sugar's built-in client 'sugar' has no secret, and its endpoints are on each user's
    instance: nothing to probe, but the platform must be allowed there."""
    import requests

    def no_probe(*args, **kwargs):
        raise AssertionError("probed")

    monkeypatch.setattr(requests, "head", no_probe)
    app, _ = app_factory()
    provider_config_factory(
        app, "SugarCRM", client_id="", client_secret="", options={"platform": "acme_sync"}
    )
    call_command("aurinko_doctor", app.client_id)
    out = capsys.readouterr().out
    assert "ERROR" not in out
    assert "'sugar'" in out and "'acme_sync'" in out
