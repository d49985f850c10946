"""The optional authorize parameters (issue 16): honoured, or refused with a clear error, never
silently ignored. Google (and Office 365 for its probes) played by `responses` with recorded
shapes."""

from __future__ import annotations

import pytest
import responses

from aurinko_auth.models import Account, AuthState
from tests.conftest import RETURN_URL
from tests.flows.conftest import (
    GOOGLE_TOKEN_RESPONSE,
    GOOGLE_USERINFO_RESPONSE,
    basic,
    query_of,
)

GMAIL_PROFILE = "https://www.googleapis.com/gmail/v1/users/me/profile"
CALENDARS = "https://www.googleapis.com/calendar/v3/users/me/calendarList?maxResults=1"
# A native scope no unified scope maps to (https://mail.google.com/ is Mail.All's now).
UNMAPPED = "https://www.googleapis.com/auth/drive.readonly"


def redirected_error(response) -> dict[str, str]:
    """The error redirect to the returnUrl of a refused start."""
    assert response.status_code == 303, response.content
    assert response["Location"].startswith(RETURN_URL)
    back = query_of(response["Location"])
    assert back["status"] == "error"
    return back


def provider_query(google_app, **params: str) -> dict[str, str]:
    response = google_app.authorize(**params)
    assert response.status_code == 303, response.content
    assert response["Location"].startswith("https://accounts.google.com/")
    return query_of(response["Location"])


# --- nativeScopes -----------------------------------------------------------------------------


def test_native_scopes_are_asked_for_and_recorded_as_granted(google_app):
    sent = provider_query(google_app, nativeScopes=f"{UNMAPPED} openid")
    assert UNMAPPED in sent["scope"].split()
    state = sent["state"]
    granted = dict(GOOGLE_TOKEN_RESPONSE, scope=GOOGLE_TOKEN_RESPONSE["scope"] + " " + UNMAPPED)
    assert google_app.complete(state, token=granted)["status"] == "success"
    assert UNMAPPED in Account.objects.get().native_scopes


def test_native_scope_of_a_scope_the_app_may_not_request_is_refused(google_app):
    # gmail.modify is Mail.ReadWrite's, which this app does not allow.
    back = redirected_error(
        google_app.authorize(nativeScopes="https://www.googleapis.com/auth/gmail.modify")
    )
    assert back["error"] == "scope.invalid" and "gmail.modify" in back["message"]
    assert not AuthState.objects.exists()


def test_full_gmail_native_scope_is_mail_all_and_needs_it_allowed(google_app):
    back = redirected_error(google_app.authorize(nativeScopes="https://mail.google.com/"))
    assert back["error"] == "scope.invalid" and "mail.google.com" in back["message"]
    google_app.app.allowed_scopes = [*google_app.app.allowed_scopes, "Mail.All"]
    google_app.app.save()
    sent = provider_query(google_app, nativeScopes="https://mail.google.com/")
    assert "https://mail.google.com/" in sent["scope"].split()


@pytest.mark.parametrize("value", ["has\x7fdel", "a" * 300])
def test_malformed_native_scope_is_refused(google_app, value):
    assert redirected_error(google_app.authorize(nativeScopes=value))["error"] == "scope.invalid"


# --- clientOrgId --------------------------------------------------------------------------------


def test_client_org_id_is_stored_and_filters_the_apps_accounts(google_app, account_factory):
    account_factory(google_app.app, client_org_id="tenant-b")
    account_factory(google_app.app)
    state = google_app.start(clientOrgId="tenant-a")
    assert google_app.complete(state)["status"] == "success"
    linked = Account.objects.get(auth_user_id=GOOGLE_USERINFO_RESPONSE["sub"])
    assert linked.client_org_id == "tenant-a"
    auth = basic(google_app.app.client_id, google_app.secret)
    page = google_app.client.get(
        "/v1/am/accounts", {"clientOrgId": "tenant-a"}, HTTP_AUTHORIZATION=auth
    ).json()
    assert [r["id"] for r in page["records"]] == [linked.pk] and page["totalSize"] == 1
    assert page["records"][0]["clientOrgId"] == "tenant-a"
    # A later re-authorization without clientOrgId keeps it.
    assert google_app.complete(google_app.start())["status"] == "success"
    assert Account.objects.get(pk=linked.pk).client_org_id == "tenant-a"


def test_too_long_client_org_id_is_refused(google_app):
    back = redirected_error(google_app.authorize(clientOrgId="x" * 256))
    assert back["error"] == "request.invalid" and "clientOrgId" in back["message"]


# --- authEmail ----------------------------------------------------------------------------------


def test_auth_email_is_the_login_hint_and_must_sign_in(google_app):
    sent = provider_query(google_app, authEmail="alice@example.com")
    assert sent["login_hint"] == "alice@example.com"
    assert google_app.complete(sent["state"])["status"] == "success"


def test_another_identity_than_auth_email_fails_and_writes_nothing(google_app):
    state = google_app.start(authEmail="carol@example.com")
    back = google_app.complete(state)
    assert back["error"] == "account.mismatch" and "carol@example.com" in back["message"]
    assert not Account.objects.exists()


def test_malformed_auth_email_is_refused(google_app):
    assert redirected_error(google_app.authorize(authEmail="not-an-address"))["error"] == (
        "request.invalid"
    )


# --- ensureScopes -------------------------------------------------------------------------------


def test_ensure_scopes_fails_when_the_provider_granted_less(google_app):
    state = google_app.start(ensureScopes="true", scopes="Mail.Read Calendar.Read")
    back = google_app.complete(state)  # the recorded grant has gmail.readonly only
    assert back["error"] == "scope.not_granted" and "calendar.readonly" in back["message"]
    assert not Account.objects.exists()


def test_without_ensure_scopes_a_partial_grant_links(google_app):
    state = google_app.start(scopes="Mail.Read Calendar.Read")
    assert google_app.complete(state)["status"] == "success"
    assert Account.objects.get().scopes == ["Mail.Read"]


def test_ensure_scopes_passes_when_all_was_granted(google_app):
    state = google_app.start(ensureScopes="True")
    assert google_app.complete(state)["status"] == "success"


# --- ensureAccess -------------------------------------------------------------------------------


def test_ensure_access_probes_the_mailbox_with_the_new_token(google_app):
    state = google_app.start(ensureAccess="true", scopes="Mail.Read Calendar.Read")
    google_app.http.get(GMAIL_PROFILE, json={"emailAddress": "alice@example.com"})
    google_app.http.get(CALENDARS, status=403, json={"error": {"code": 403}})
    granted = dict(
        GOOGLE_TOKEN_RESPONSE,
        scope=GOOGLE_TOKEN_RESPONSE["scope"] + " https://www.googleapis.com/auth/calendar.readonly",
    )
    back = google_app.complete(state, token=granted)
    assert back["error"] == "access.unreachable" and "Calendar" in back["message"]
    assert not Account.objects.exists()
    probes = [c.request for c in google_app.http.calls if "googleapis.com/gmail" in c.request.url]
    assert probes[0].headers["Authorization"] == f"Bearer {GOOGLE_TOKEN_RESPONSE['access_token']}"


def test_ensure_access_succeeds_when_reachable(google_app):
    state = google_app.start(ensureAccess="1")
    google_app.http.get(GMAIL_PROFILE, json={"emailAddress": "alice@example.com"})
    assert google_app.complete(state)["status"] == "success"


def test_ensure_access_where_the_provider_cannot_check_is_refused(
    google_app, provider_config_factory
):
    provider_config_factory(google_app.app, "Zoho")
    back = redirected_error(google_app.authorize(serviceType="Zoho", ensureAccess="true"))
    assert back["error"] == "request.invalid" and "ensureAccess" in back["message"]


def test_office365_probes_name_their_graph_version():
    from aurinko_auth.providers.registry import get_provider

    o365 = get_provider("Office365")
    assert (
        o365.access_url(None, "/v1.0/me/calendar") == "https://graph.microsoft.com/v1.0/me/calendar"
    )

    class Config:
        endpoints = {"api": "http://127.0.0.1:8765/graph/v1.0/"}
        tenant = ""

    assert o365.access_url(Config(), "/v1.0/me") == "http://127.0.0.1:8765/graph/v1.0/me"


@responses.activate
def test_office365_probe_failure_is_reported_per_family():
    from aurinko_auth.providers.base import TokenSet
    from aurinko_auth.providers.registry import get_provider

    responses.get("https://graph.microsoft.com/v1.0/me/mailFolders/inbox", json={"id": "x"})
    responses.get("https://graph.microsoft.com/v1.0/me/calendar", status=401)
    o365 = get_provider("Office365")
    missing = o365.check_access(None, TokenSet("at"), ["Mail.Read", "Calendar.Read"])
    assert missing == ["Calendar"]


# --- recycle ------------------------------------------------------------------------------------


def test_recycle_false_refuses_an_identity_that_has_an_account(google_app):
    assert google_app.complete(google_app.start(recycle="false"))["status"] == "success"
    back = google_app.complete(google_app.start(recycle="false"))
    assert back["error"] == "account.exists"
    assert Account.objects.count() == 1
    assert google_app.complete(google_app.start(recycle="true"))["status"] == "success"


# --- prompt -------------------------------------------------------------------------------------


def test_prompt_goes_to_the_provider_in_its_own_form(google_app):
    sent = provider_query(google_app, prompt="select_account")
    # Google takes several prompts: ours (consent, for a refresh token) and the caller's.
    assert sent["prompt"].split() == ["consent", "select_account"]
    assert provider_query(google_app, prompt="none")["prompt"] == "none"


def test_prompt_the_provider_does_not_take_is_refused(google_app):
    back = redirected_error(google_app.authorize(prompt="login"))
    assert back["error"] == "request.invalid" and "prompt" in back["message"]


def test_office365_prompt_login_is_sent(google_app, provider_config_factory):
    provider_config_factory(google_app.app, "Office365")
    response = google_app.authorize(serviceType="Office365", prompt="login")
    assert query_of(response["Location"])["prompt"] == "login"


# --- flags and serverUrl ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ensureScopes", "ensureAccess", "recycle"])
def test_unknown_flag_value_is_refused(google_app, name):
    back = redirected_error(google_app.authorize(**{name: "maybe"}))
    assert back["error"] == "request.invalid" and name in back["message"]


def test_server_url_on_an_oauth_provider_is_refused(google_app):
    back = redirected_error(google_app.authorize(serverUrl="https://mail.example.com"))
    assert back["error"] == "request.invalid" and "serverUrl" in back["message"]


def test_server_url_and_auth_email_prefill_the_password_form(google_app):
    start = google_app.authorize(
        serviceType="EWS",
        serverUrl="https://mail.example.com/EWS/Exchange.asmx",
        authEmail="alice@example.com",
    )
    form = google_app.client.get(start["Location"])
    assert form.status_code == 200
    assert b'value="https://mail.example.com/EWS/Exchange.asmx"' in form.content
    assert b'value="alice@example.com"' in form.content


def test_imap_server_url_prefills_host_port_and_security(google_app):
    start = google_app.authorize(serviceType="IMAP", serverUrl="imap://imap.example.com:1143")
    form = google_app.client.get(start["Location"]).content.decode()
    assert 'value="imap.example.com"' in form and 'value="1143"' in form
    assert 'value="starttls" checked' in form


def test_server_url_that_is_no_server_of_the_provider_is_refused(google_app):
    back = redirected_error(google_app.authorize(serviceType="IMAP", serverUrl="ftp://x.example"))
    assert back["error"] == "request.invalid"
    back = redirected_error(
        google_app.authorize(serviceType="EWS", serverUrl="http://mail.example.com/EWS")
    )
    assert "https" in back["message"]


# --- accountId on authorizeUser and authorizeDaemon ---------------------------------------------


def test_authorize_user_account_id_must_be_the_signed_in_users(google_app, account_factory):
    from aurinko_auth import usersessions
    from aurinko_auth.models import AppUser

    app = google_app.app
    user = AppUser.objects.create(app=app, email="owner@example.com")
    other = AppUser.objects.create(app=app, email="other@example.com")
    account_factory(app, "Google", user=user, account_type=Account.Type.PRIMARY)
    foreign = account_factory(app, "Google", user=other, account_type=Account.Type.PRIMARY)
    mine = account_factory(app, "Google", user=user, account_type=Account.Type.SECONDARY)
    token = usersessions.start(user, user_agent="pytest", ip="127.0.0.1")
    google_app.client.cookies[usersessions.cookie_name(app.pk)] = token
    query = {
        "clientId": app.client_id,
        "serviceType": "Google",
        "scopes": "Mail.Read",
        "returnUrl": RETURN_URL,
        "accountRole": "secondary",
    }
    refused = google_app.client.get(
        "/v1/auth/authorizeUser", {**query, "accountId": str(foreign.pk)}
    )
    assert redirected_error(refused)["error"] == "request.invalid"
    started = google_app.client.get("/v1/auth/authorizeUser", {**query, "accountId": str(mine.pk)})
    state = query_of(started["Location"])["state"]
    # Another identity signs in: the account being re-authorized is not it.
    back = google_app.complete(state)
    assert back["error"] == "account.mismatch"
    assert Account.objects.filter(user=user).count() == 2  # nothing linked


def test_authorize_daemon_account_id_must_be_a_service_account_of_the_app(
    google_app, account_factory, provider_config_factory
):
    provider_config_factory(google_app.app, "Office365", tenant="contoso.onmicrosoft.com")
    personal = account_factory(google_app.app, "Office365")
    response = google_app.client.get(
        "/v1/auth/authorizeDaemon",
        {
            "clientId": google_app.app.client_id,
            "serviceType": "Office365",
            "returnUrl": RETURN_URL,
            "accountId": str(personal.pk),
        },
    )
    back = redirected_error(response)
    assert back["error"] == "request.invalid" and "accountId" in back["message"]


def test_authorize_daemon_refuses_options_it_cannot_honour(google_app, provider_config_factory):
    provider_config_factory(google_app.app, "Office365", tenant="contoso.onmicrosoft.com")
    response = google_app.client.get(
        "/v1/auth/authorizeDaemon",
        {
            "clientId": google_app.app.client_id,
            "serviceType": "Office365",
            "returnUrl": RETURN_URL,
            "authEmail": "admin@contoso.com",
        },
    )
    back = redirected_error(response)
    assert back["error"] == "request.invalid" and "authEmail" in back["message"]
