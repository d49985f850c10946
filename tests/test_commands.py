"""manage.py aurinko_app: JSON output, validation, secret rotation."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from aurinko_auth.models import App, ProviderConfig
from tests.flows.conftest import basic


def run(*args: str):
    out = io.StringIO()
    call_command("aurinko_app", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def created(db):
    return run("create", "--name", "CLI app", "--return-url", "https://app.example.com/cb",
               "--return-url", "http://localhost:3000/cb", "--scopes", "Mail.Read Mail.Send")


def test_create(created):
    assert set(created) == {"clientId", "clientSecret"}
    assert created["clientSecret"].startswith("acs_")
    app = App.objects.get(client_id=created["clientId"])
    assert app.return_urls == ["https://app.example.com/cb", "http://localhost:3000/cb"]
    assert created["clientSecret"] not in str(App.objects.values().get())


@pytest.mark.parametrize("url", ["http://app.example.com/cb", "https://a.com/cb#f",
                                 "https://u@a.com/cb", "javascript:alert(1)", "notaurl"])
def test_create_rejects_bad_return_url(db, url):
    with pytest.raises(CommandError, match="returnUrl|return"):
        run("create", "--name", "x", "--return-url", url)
    assert not App.objects.exists()


def test_provider_and_list(created):
    cid = created["clientId"]
    out = run("provider", cid, "office365", "--oauth-client-id", "ms-id",
              "--oauth-client-secret", "ms-secret", "--tenant", "contoso.example",
              "--endpoint", "token=https://login.example/{tenant}/token")
    assert out == {"clientId": cid, "serviceType": "Office365", "oauthClientId": "ms-id",
                   "tenant": "contoso.example",
                   "endpoints": {"token": "https://login.example/{tenant}/token"}}
    assert "ms-secret" not in json.dumps(out)
    assert ProviderConfig.objects.get().client_secret == "ms-secret"
    listed = run("list")
    assert listed == [{"clientId": cid, "name": "CLI app", "active": True,
                       "returnUrls": ["https://app.example.com/cb", "http://localhost:3000/cb"],
                       "scopes": ["Mail.Read", "Mail.Send"], "providers": ["Office365"]}]


@pytest.mark.parametrize("endpoint", ["token=http://login.example/token", "nosuch=https://x.example/",
                                      "token", "=https://x.example/"])
def test_provider_rejects_bad_endpoint(created, endpoint):
    with pytest.raises(CommandError):
        run("provider", created["clientId"], "Google", "--oauth-client-id", "g",
            "--oauth-client-secret", "s", "--endpoint", endpoint)
    assert not ProviderConfig.objects.exists()


def test_provider_unknown_app_or_service(created):
    with pytest.raises(CommandError, match="No app"):
        run("provider", "nope", "Google", "--oauth-client-id", "g")
    with pytest.raises(CommandError):
        run("provider", created["clientId"], "Nope", "--oauth-client-id", "g")


def test_rotate_secret(client, created, account_factory):
    app = App.objects.get(client_id=created["clientId"])
    account = account_factory(app)
    old = basic(created["clientId"], created["clientSecret"])
    url = "/v1/account"
    hdr = {"HTTP_X_AURINKO_ACCOUNTID": str(account.pk)}
    assert client.get(url, HTTP_AUTHORIZATION=old, **hdr).status_code == 200
    out = run("rotate-secret", created["clientId"])
    assert out["clientId"] == created["clientId"]
    assert out["clientSecret"] != created["clientSecret"]
    assert client.get(url, HTTP_AUTHORIZATION=old, **hdr).status_code == 401
    new = basic(created["clientId"], out["clientSecret"])
    assert client.get(url, HTTP_AUTHORIZATION=new, **hdr).status_code == 200
