"""SugarCRM end to end: the broker (live server) signs a user in through our hosted form with
Sugar's password grant at the sandbox (django-oauth-toolkit in its own process, answering
Sugar's REST API v11 under ``{peer}/sandbox``), keeps Sugar's tokens, refreshes them at the
instance (rotation) and logs the session out on revocation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.utils import timezone

from aurinko_auth import usersessions
from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import Account, AuthState
from tests.e2e.test_account_flow_e2e import RETURN_URL

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLATFORM = "broker_e2e"
PASSWORD = "alice-pw"


@pytest.fixture
def sugar(broker, oauth_peer, settings, app_factory, provider_config_factory):
    """An app with SugarCRM configured (client id 'sugar', our platform) and the sandbox's
    loopback address allowed by the SSRF guard."""
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"]}
    instance = oauth_peer.add_sugar_client()
    app, secret = app_factory(return_urls=[RETURN_URL], scopes="Contacts.Read")
    provider_config_factory(
        app, "SugarCRM", client_id="sugar", client_secret="", options={"platform": PLATFORM}
    )
    return app, secret, instance


def open_form(broker, app, browser: requests.Session) -> str:
    start = browser.get(
        f"{broker.url}/v1/auth/authorize",
        allow_redirects=False,
        timeout=10,
        params={
            "clientId": app.client_id,
            "serviceType": "SugarCRM",
            "scopes": "Contacts.Read",
            "returnUrl": RETURN_URL,
            "state": "s-sugar",
        },
    )
    assert start.status_code == 303, start.text[:500]
    form_url = requests.compat.urljoin(start.url, start.headers["Location"])
    assert urlsplit(form_url).path.startswith("/v1/auth/password/")
    return form_url


def submit(browser: requests.Session, form_url: str, **fields: str) -> requests.Response:
    # Django's CSRF check takes the cookie's secret as the form token.
    return browser.post(
        form_url,
        allow_redirects=False,
        timeout=20,
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"], **fields},
    )


def link_through_the_form(broker, app, secret, instance, browser=None) -> tuple[dict, str]:
    browser = browser or requests.Session()
    form_url = open_form(broker, app, browser)
    browser.get(form_url, timeout=10)
    done = submit(browser, form_url, serverUrl=instance + "/", login="alice", password=PASSWORD)
    assert done.status_code == 303, done.text[:800]
    back = parse_qs(urlsplit(done.headers["Location"]).query)
    assert back["status"] == ["success"], back
    exchanged = requests.post(
        f"{broker.url}/v1/auth/token/{back['code'][0]}", auth=(app.client_id, secret), timeout=10
    )
    assert exchanged.status_code == 200, exchanged.text
    token = exchanged.json()["accessToken"]
    me = requests.get(
        f"{broker.url}/v1/account", timeout=10, headers={"Authorization": f"Bearer {token}"}
    ).json()
    return me, token


def sugar_me(instance: str, access_token: str) -> requests.Response:
    return requests.get(
        instance + "/rest/v11/me", headers={"OAuth-Token": access_token}, timeout=10
    )


def test_account_flow_through_the_form(broker, oauth_peer, sugar):
    app, secret, instance = sugar
    browser = requests.Session()
    form_url = open_form(broker, app, browser)
    page = browser.get(form_url, timeout=10)
    assert page.status_code == 200
    assert '<label for="serverUrl">' in page.text and 'id="serverUrl"' in page.text
    assert "never the password" in page.text  # Sugar's form keeps tokens, not the password
    assert '<label for="login">SugarCRM user name</label>' in page.text

    wrong = submit(browser, form_url, serverUrl=instance, login="alice", password="not-it")
    assert wrong.status_code == 400
    assert "did not accept this user name and password" in wrong.text
    assert "not-it" not in wrong.text and instance in wrong.text  # the URL is kept, not the pw
    assert not Account.objects.exists() and AuthState.objects.get().used_at is None

    done = submit(browser, form_url, serverUrl=instance + "/", login="alice", password=PASSWORD)
    assert done.status_code == 303 and done.headers["Location"].startswith(RETURN_URL)
    back = parse_qs(urlsplit(done.headers["Location"]).query)
    assert back["status"] == ["success"] and back["state"] == ["s-sugar"]
    token = requests.post(
        f"{broker.url}/v1/auth/token/{back['code'][0]}", auth=(app.client_id, secret), timeout=10
    ).json()["accessToken"]
    me = requests.get(
        f"{broker.url}/v1/account", timeout=10, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert me["serviceType"] == "SugarCRM"
    assert me["email"] == "alice@example.com" and me["name"] == "Alice Example"
    assert me["loginString"] == "alice"
    assert me["serverUrl"] == instance
    assert me["authOrgId"] == urlsplit(instance).netloc + "/sandbox"
    assert me["tokenStatus"] == "active" and "Contacts.Read" in me["scopes"]

    account = Account.objects.get(pk=me["id"])
    assert set(account.credentials) == {"access_token", "refresh_token", "token_type"}
    assert PASSWORD not in str(account.credentials)
    assert (
        sugar_me(instance, account.credentials["access_token"]).json()["current_user"]["user_name"]
        == "alice"
    )
    # The sandbox saw our platform name, not Sugar's web UI's "base".
    assert oauth_peer.token_counts("alice")["sugar_platforms"] == [PLATFORM]


def test_refresh_rotates_at_the_instance_and_keeps_working(broker, oauth_peer, sugar):
    app, secret, instance = sugar
    me, _ = link_through_the_form(broker, app, secret, instance)
    account = Account.objects.get(pk=me["id"])
    old = dict(account.credentials)
    Account.objects.filter(pk=account.pk).update(access_token_expires_at=timezone.now())
    account.refresh_from_db()

    fresh = tokens.fresh_access_token(account)

    account.refresh_from_db()
    assert fresh == account.credentials["access_token"] != old["access_token"]
    assert account.credentials["refresh_token"] != old["refresh_token"]  # rotated by Sugar
    assert account.credential_version == 2 and account.access_token_expires_at > timezone.now()
    assert sugar_me(instance, fresh).status_code == 200
    assert sugar_me(instance, old["access_token"]).status_code == 401
    # The used refresh token is dead at the instance.
    replay = requests.post(
        instance + "/rest/v11/oauth2/token",
        timeout=10,
        data={
            "grant_type": "refresh_token",
            "refresh_token": old["refresh_token"],
            "client_id": "sugar",
            "client_secret": "",
            "platform": PLATFORM,
        },
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_sugar_web_login_does_not_log_the_account_out(broker, oauth_peer, sugar):
    """The user signs in to Sugar's own UI (platform "base"): our session, on our platform,
    survives; the same login on our platform would have ended it."""
    app, secret, instance = sugar
    me, _ = link_through_the_form(broker, app, secret, instance)
    account = Account.objects.get(pk=me["id"])
    ui = requests.post(
        instance + "/rest/v11/oauth2/token",
        timeout=10,
        data={
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "client_id": "sugar",
            "client_secret": "",
            "platform": "base",
        },
    )
    assert ui.status_code == 200
    assert sugar_me(instance, account.credentials["access_token"]).status_code == 200
    assert oauth_peer.token_counts("alice")["sugar_platforms"] == ["base", PLATFORM]

    again = requests.post(
        instance + "/rest/v11/oauth2/token",
        timeout=10,
        data={
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "client_id": "sugar",
            "client_secret": "",
            "platform": PLATFORM,
        },
    )
    assert again.status_code == 200
    assert sugar_me(instance, account.credentials["access_token"]).status_code == 401


def test_revocation_logs_the_session_out(broker, oauth_peer, sugar):
    app, secret, instance = sugar
    me, token = link_through_the_form(broker, app, secret, instance)
    account = Account.objects.get(pk=me["id"])
    refresh_token = account.credentials["refresh_token"]
    revoked = requests.delete(
        f"{broker.url}/v1/account/token", timeout=20, headers={"Authorization": f"Bearer {token}"}
    )
    assert revoked.status_code == 200 and revoked.json()["providerConfirmed"] is True
    assert PLATFORM not in oauth_peer.token_counts("alice")["sugar_platforms"]
    replay = requests.post(
        instance + "/rest/v11/oauth2/token",
        timeout=10,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "sugar",
            "client_secret": "",
            "platform": PLATFORM,
        },
    )
    assert replay.status_code == 400


def test_private_instance_refused_without_allowance(broker, oauth_peer, sugar, settings):
    """Without ALLOWED_PRIVATE_NETWORKS the loopback instance is refused before any request."""
    app, _, instance = sugar
    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "PUBLIC_URL": broker.url,
        "ALLOWED_PRIVATE_NETWORKS": [],
    }
    browser = requests.Session()
    form_url = open_form(broker, app, browser)
    browser.get(form_url, timeout=10)
    before = oauth_peer.token_counts("alice")
    refused = submit(browser, form_url, serverUrl=instance, login="alice", password=PASSWORD)
    assert refused.status_code == 400 and "not a public address" in refused.text
    assert oauth_peer.token_counts("alice") == before
    assert not Account.objects.exists()


def test_user_flow_signs_the_user_in_with_sugar(broker, oauth_peer, sugar):
    """The User flow through the same form: a SugarCRM primary account and a session."""
    from aurinko_auth.models import AppUser

    app, _, instance = sugar
    browser = requests.Session()
    start = browser.get(
        f"{broker.url}/v1/auth/authorizeUser",
        allow_redirects=False,
        timeout=10,
        params={
            "clientId": app.client_id,
            "serviceType": "SugarCRM",
            "accountRole": "primary",
            "scopes": "Contacts.Read",
            "returnUrl": RETURN_URL,
            "state": "u-1",
        },
    )
    assert start.status_code == 303, start.text[:500]
    form_url = requests.compat.urljoin(start.url, start.headers["Location"])
    browser.get(form_url, timeout=10)
    done = submit(browser, form_url, serverUrl=instance, login="bob", password="bob-pw")
    assert done.status_code == 303, done.text[:800]
    back = parse_qs(urlsplit(done.headers["Location"]).query)
    assert back["status"] == ["success"] and back["state"] == ["u-1"]
    assert browser.cookies.get(usersessions.cookie_name(app.pk))  # the User-flow session
    user = AppUser.objects.get(app=app)
    account = Account.objects.get(user=user)
    assert account.service_type == "SugarCRM" and account.account_type == "primary"
    assert account.email == "bob@example.com" and account.server_url == instance


def test_direct_api_reaches_the_instance_with_sugars_header(broker, oauth_peer, sugar):
    """``/v1/direct/me`` goes to ``{instance}/rest/v11/me`` with the account's token in
    ``OAuth-Token`` (Sugar ignores ``Authorization``), through the SSRF guard."""
    app, secret, instance = sugar
    _, token = link_through_the_form(broker, app, secret, instance)
    direct = requests.get(
        f"{broker.url}/v1/direct/me", timeout=10, headers={"Authorization": f"Bearer {token}"}
    )
    assert direct.status_code == 200, direct.text[:500]
    assert direct.json()["current_user"]["user_name"] == "alice"


def test_direct_api_refuses_an_instance_that_became_private(broker, oauth_peer, sugar, settings):
    app, secret, instance = sugar
    _, token = link_through_the_form(broker, app, secret, instance)
    # The deployment no longer allows loopback: the instance is refused before any request.
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ALLOWED_PRIVATE_NETWORKS": []}
    direct = requests.get(
        f"{broker.url}/v1/direct/me", timeout=10, headers={"Authorization": f"Bearer {token}"}
    )
    assert direct.status_code == 400
    assert direct.json()["code"] == "host.private_address"
