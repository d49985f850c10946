"""Managed mailbox accounts (``POST /v1/am/svc_accounts/{accId}/accounts``, Aurinko's
``upsertManagedAccount``): one mailbox of a service account, ``type: managed`` with
``parentId``, its own account token, its provider tokens the service account's grant for that
mailbox (the ``X-Aurinko-Mailbox`` path). What the service account's fate does to them:

* deleted: its managed accounts are deleted with it (an ``account.unlinked`` record each);
* revoked (``DELETE /v1/account/token``): they are revoked with it (inactive, tokens gone;
  upserting one again reactivates it);
* its grant failing (dead, misconfigured, retrying): they answer as it does and show its
  ``tokenStatus``; once it works again (re-authorized, a token fetched) so do they.

Microsoft and Google answer in their recorded shapes (tests/daemon/graph.py,
test_daemon_tokens.jwt_checker)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from aurinko_auth.models import Account, AccountToken, AuditEvent, TokenStatus
from tests.daemon.graph import graph_app_token
from tests.daemon.test_daemon_flow import MS_TOKEN, TENANT, basic
from tests.daemon.test_daemon_tokens import GMAIL, GOOGLE_TOKEN, jwt_checker

GRAPH = "https://graph.microsoft.com/v1.0"
APP_TOKEN = graph_app_token(TENANT)


@pytest.fixture
def svc(client, daemon_app, account_factory):
    """``svc(service_type) -> (app, secret, parent, key)`` and ``svc.post(...)``."""

    class Svc:
        def __call__(self, service_type="Office365", **kw):
            app, secret, key = daemon_app(service_type)
            if service_type == "Office365":
                kw.setdefault("credentials", {"access_token": APP_TOKEN, "tenant": TENANT})
                kw.setdefault("access_token_expires_at", timezone.now() + timedelta(minutes=30))
                org = TENANT
            else:
                kw.setdefault(
                    "credentials", {"domain": "example.com", "default_mailbox": "admin@example.com"}
                )
                kw.setdefault("native_scopes", [GMAIL])
                org = "example.com"
            kw.setdefault("scopes", ["Mail.Read", "Calendar.Read"])
            parent = account_factory(
                app,
                service_type,
                daemon=True,
                auth_user_id=org,
                auth_org_id=org,
                client_org_id="acme",
                **kw,
            )
            self.app, self.secret, self.parent = app, secret, parent
            return app, secret, parent, key

        def post(self, body, parent_id=None, query="", secret=None, app=None):
            app = app or self.app
            path = f"/v1/am/svc_accounts/{parent_id or self.parent.pk}/accounts{query}"
            return client.post(
                path,
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=basic(app, secret or self.secret),
            )

    return Svc()


def me(client, token, **headers):
    return client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}", **headers)


def test_office365_managed_account_is_one_mailbox_of_the_service_account(svc, client, conforms):
    _, _, parent, _ = svc("Office365")
    r = svc.post({"email": "Bob@Contoso.com", "name": "Bob"})
    assert r.status_code == 200, r.content
    saved = conforms(r)
    managed = Account.objects.get(pk=saved["accountId"])
    assert managed.parent_id == parent.pk and not managed.daemon
    assert managed.email == "Bob@Contoso.com" and managed.auth_user_id == "bob@contoso.com"
    assert managed.scopes == ["Mail.Read", "Calendar.Read"]  # the service account's
    assert managed.client_org_id == "acme" and managed.auth_org_id == TENANT
    assert managed.credentials == {}  # its provider tokens are the parent's, never copied
    body = conforms(me(client, saved["accessToken"]))
    assert body["type"] == "managed" and body["parentId"] == parent.pk
    assert body["daemon"] is False and body["mailboxAddress"] == "Bob@Contoso.com"
    assert body["tokenStatus"] == "active"
    # Upserted: the same mailbox (any case) is the same account, with a new token.
    again = svc.post({"email": "bob@contoso.com", "name": "Robert"}).json()
    assert again["accountId"] == managed.pk and again["accessToken"] != saved["accessToken"]
    assert Account.objects.filter(parent=parent).count() == 1
    # The service account itself is unchanged and not a managed account.
    parent_json = conforms(
        client.get(f"/v1/am/accounts/{parent.pk}", HTTP_AUTHORIZATION=basic(svc.app, svc.secret))
    )
    assert parent_json["type"] == "daemon" and "parentId" not in parent_json


@responses.activate
def test_the_direct_api_uses_the_service_accounts_app_only_token(svc, client):
    svc("Office365")
    token = svc.post({"email": "bob@contoso.com"}).json()["accessToken"]
    upstream = responses.get(f"{GRAPH}/users/bob@contoso.com/messages", json={"value": []})
    r = client.get(
        "/v1/direct/v1.0/users/bob@contoso.com/messages", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert r.status_code == 200, r.content
    assert upstream.calls[0].request.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    # The mailbox is the account's own: the header is for service accounts.
    r = client.get(
        "/v1/direct/v1.0/me/messages",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_AURINKO_MAILBOX="eve@contoso.com",
    )
    assert r.status_code == 400 and r.json()["code"] == "mailbox.not_daemon"


@responses.activate
@pytest.mark.parametrize(
    ("path", "forwarded"),
    [
        ("me/messages", "v1.0/users/bob@contoso.com/messages"),
        ("v1.0/me/mailFolders/inbox", "v1.0/users/bob@contoso.com/mailFolders/inbox"),
        ("beta/me", "beta/users/bob@contoso.com"),
        ("users/BOB@contoso.com/events", "v1.0/users/BOB@contoso.com/events"),
        ("v1.0/users/carol@contoso.com/messages", None),  # another mailbox of the tenant
        ("users", None),
        ("groups", None),
        ("v1.0/$batch", None),
    ],
)
def test_an_office365_managed_account_reaches_its_own_mailbox_only(svc, client, path, forwarded):
    """The app-only token reaches every mailbox of the tenant; the managed account's token
    must not: its calls stay in its mailbox (/me/... is /users/{mailbox}/...)."""
    svc("Office365")
    token = svc.post({"email": "bob@contoso.com"}).json()["accessToken"]
    upstream = responses.get(f"https://graph.microsoft.com/{forwarded or 'v1.0'}", json={})
    r = client.get(f"/v1/direct/{path}", HTTP_AUTHORIZATION=f"Bearer {token}")
    if forwarded is None:
        assert r.status_code == 403 and r.json()["code"] == "direct.outside_mailbox"
        assert not upstream.calls
    else:
        assert r.status_code == 200, r.content
        assert upstream.calls[0].request.url == f"https://graph.microsoft.com/{forwarded}"


@responses.activate
def test_google_managed_account_gets_the_mailboxs_own_token(svc, client):
    _, _, parent, key = svc("Google")
    seen: list = []
    responses.add_callback(responses.POST, GOOGLE_TOKEN, callback=jwt_checker(key, seen))
    token = svc.post({"email": "bob@example.com"}).json()["accessToken"]
    assert [claims["sub"] for claims in seen] == ["bob@example.com"]  # proven before saving
    assert seen[0]["scope"] == GMAIL
    profile = "https://www.googleapis.com/gmail/v1/users/me/profile"
    upstream = responses.get(profile, json={"emailAddress": "bob@example.com"})
    r = client.get("/v1/direct/gmail/v1/users/me/profile", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200
    # Bob's token (cached from the upsert), never the admin's.
    assert upstream.calls[0].request.headers["Authorization"] == "Bearer ya29.bob@example.com.1"


@responses.activate
def test_google_mailbox_outside_the_domain_or_unknown_writes_nothing(svc):
    _, _, parent, key = svc("Google")
    r = svc.post({"email": "eve@other.org"})
    assert r.status_code == 400 and r.json()["code"] == "mailbox.outside_domain"
    error = {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
    responses.add_callback(responses.POST, GOOGLE_TOKEN, callback=jwt_checker(key, [], error))
    r = svc.post({"email": "nobody@example.com"})
    assert r.status_code == 400 and r.json()["code"] == "mailbox.unknown"
    assert not Account.objects.filter(parent=parent).exists()
    parent.refresh_from_db()
    assert parent.token_status == TokenStatus.HEALTHY  # one mailbox's problem, not the grant's


@responses.activate
def test_ensure_access_probes_the_mailbox_with_the_app_only_token(svc):
    _, _, parent, _ = svc("Office365")
    inbox = responses.get(f"{GRAPH}/users/bob@contoso.com/mailFolders/inbox", json={"id": "i"})
    calendar = responses.get(f"{GRAPH}/users/bob@contoso.com/calendar", json={"id": "c"})
    r = svc.post({"email": "bob@contoso.com"}, query="?ensureAccess=true")
    assert r.status_code == 200, r.content
    assert inbox.calls[0].request.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert len(calendar.calls) == 1
    responses.get(f"{GRAPH}/users/gone@contoso.com/mailFolders/inbox", status=404)
    responses.get(f"{GRAPH}/users/gone@contoso.com/calendar", status=404)
    r = svc.post(
        {"email": "gone@contoso.com", "authScopes": ["Mail.Read"]}, query="?ensureAccess=1"
    )
    assert r.status_code == 400 and r.json()["code"] == "access.unreachable"
    assert "Mail" in r.json()["message"]
    assert list(Account.objects.filter(parent=parent).values_list("email", flat=True)) == [
        "bob@contoso.com"
    ]


def test_not_a_service_account_of_this_app_is_a_404(svc, client, account_factory, app_factory):
    app, secret, parent, _ = svc("Office365")
    personal = account_factory(app, "Office365")
    other, other_secret = app_factory(name="Other")
    for acc_id in (personal.pk, 999999, "x", "1e3"):
        r = svc.post({"email": "bob@contoso.com"}, parent_id=acc_id)
        assert r.status_code == 404 and r.json()["code"] == "resource.not_found", acc_id
    # Another app's credentials never reach this app's service account.
    r = svc.post({"email": "bob@contoso.com"}, app=other, secret=other_secret)
    assert r.status_code == 404 and set(r.json()) == {"code", "message", "requestId"}
    # A managed account is no service account either.
    managed = svc.post({"email": "bob@contoso.com"}).json()["accountId"]
    r = svc.post({"email": "carol@contoso.com"}, parent_id=managed)
    assert r.status_code == 404
    assert Account.objects.filter(parent=parent).count() == 1


@pytest.mark.parametrize(
    ("body", "query", "code"),
    [
        ({"email": "bob@contoso.com"}, "?userAccount=tertiary", "request.invalid"),
        ({"email": "bob@contoso.com"}, "?userAccount=secondary", "request.invalid"),
        ({"email": "bob@contoso.com"}, "?userId=3f2a", "request.invalid"),
        ({"email": "bob@contoso.com"}, "?recycleKeys=email", "request.invalid"),
        ({"email": "bob@contoso.com"}, "?ensureAccess=maybe", "request.invalid"),
        ({"email": "bob@contoso.com"}, "?pingProvider=false", "request.invalid"),
        ({}, "", "request.invalid"),  # no mailbox
        ({"email": "not-an-address"}, "", "mailbox.invalid"),
        ({"email": "bob@contoso.com", "authScopes": ["Mail.ReadWrite"]}, "", "scope.invalid"),
        ({"email": "bob@contoso.com", "serviceType": "Google"}, "", "request.invalid"),
        ({"email": "bob@contoso.com", "serviceType": "Nope"}, "", "servicetype.invalid"),
        ({"email": "bob@contoso.com", "authString1": "x"}, "", "request.invalid"),
        ({"email": "bob@contoso.com", "authOrgId": "other"}, "", "request.invalid"),
        ({"email": "bob@contoso.com", "colour": "blue"}, "", "request.invalid"),
    ],
)
def test_bad_requests_are_400_json_and_write_nothing(svc, body, query, code):
    _, _, parent, _ = svc("Office365")
    with responses.RequestsMock():  # nothing reaches the provider
        r = svc.post(body, query=query)
    assert r.status_code == 400, r.content
    assert set(r.json()) == {"code", "message", "requestId"} and r.json()["code"] == code
    assert not Account.objects.filter(parent=parent).exists()


def test_a_dead_service_account_makes_no_managed_account(svc):
    _, _, parent, _ = svc("Office365", token_status=TokenStatus.NEEDS_REAUTH, active=False)
    r = svc.post({"email": "bob@contoso.com"})
    assert r.status_code == 401 and r.json()["code"] == "token.dead"
    assert not Account.objects.filter(parent=parent).exists()


@responses.activate
def test_the_service_accounts_failing_grant_is_its_managed_accounts(svc, client):
    _, _, parent, _ = svc("Office365")
    bob = svc.post({"email": "bob@contoso.com"}).json()
    carol = svc.post({"email": "carol@contoso.com"}).json()
    # The app-only token expired and Microsoft refuses the app's secret now.
    Account.objects.filter(pk=parent.pk).update(access_token_expires_at=timezone.now())
    responses.post(
        MS_TOKEN,
        status=401,
        json={"error": "invalid_client", "error_description": "AADSTS7000215: Invalid secret."},
    )
    r = client.get(
        "/v1/direct/v1.0/users/bob@contoso.com/messages",
        HTTP_AUTHORIZATION=f"Bearer {bob['accessToken']}",
    )
    assert r.status_code >= 400 and r.status_code != 500
    assert r.json()["code"] == "invalid_client"
    parent.refresh_from_db()
    assert parent.token_status == TokenStatus.APP_MISCONFIGURED
    # Both managed accounts say so at once (carol made no call).
    for saved in (bob, carol):
        assert me(client, saved["accessToken"]).json()["tokenStatus"] == "invalid"
    # The service account authorized again: its managed accounts work again.
    from aurinko_auth.accounts import link_account
    from aurinko_auth.providers.base import Profile
    from aurinko_auth.providers.registry import get_provider

    link_account(
        app=svc.app,
        provider=get_provider("Office365"),
        profile=Profile(auth_user_id=TENANT, auth_org_id=TENANT, login_string=TENANT),
        tokens=None,
        credentials={"access_token": APP_TOKEN, "tenant": TENANT},
        requested_scopes=["Mail.Read"],
        requested_native=[],
        daemon=True,
    )
    for saved in (bob, carol):
        assert me(client, saved["accessToken"]).json()["tokenStatus"] == "active"


def test_a_dead_service_account_answers_token_dead_for_its_managed_accounts(svc, client):
    _, _, parent, _ = svc("Office365")
    bob = svc.post({"email": "bob@contoso.com"}).json()
    # The service account's grant was found dead by someone else (no mirror yet).
    Account.objects.filter(pk=parent.pk).update(token_status=TokenStatus.NEEDS_REAUTH)
    r = client.get(
        "/v1/direct/v1.0/users/bob@contoso.com/messages",
        HTTP_AUTHORIZATION=f"Bearer {bob['accessToken']}",
    )
    assert r.status_code == 401 and r.json()["code"] == "token.dead"
    assert Account.objects.get(pk=bob["accountId"]).token_status == TokenStatus.NEEDS_REAUTH


def test_revoking_the_service_account_revokes_its_managed_accounts(svc, client):
    _, _, parent, _ = svc("Office365")
    parent_token = AccountToken.issue(parent)
    bob = svc.post({"email": "bob@contoso.com"}).json()
    with responses.RequestsMock():  # Microsoft has no revocation of app-only tokens
        r = client.delete("/v1/account/token", HTTP_AUTHORIZATION=f"Bearer {parent_token}")
    assert r.status_code == 200, r.content
    managed = Account.objects.get(pk=bob["accountId"])
    assert not managed.active and managed.token_status == TokenStatus.REVOKED
    assert me(client, bob["accessToken"]).status_code == 401
    assert not AccountToken.objects.filter(account=managed).exists()


def test_revoking_a_managed_account_leaves_the_service_account_alone(svc, client):
    _, _, parent, _ = svc("Office365")
    bob = svc.post({"email": "bob@contoso.com"}).json()
    with responses.RequestsMock():  # it holds no provider token: nothing to revoke there
        r = client.delete("/v1/account/token", HTTP_AUTHORIZATION=f"Bearer {bob['accessToken']}")
    assert r.status_code == 200
    parent.refresh_from_db()
    assert parent.active and parent.credentials["access_token"] == APP_TOKEN
    # Upserted again, it is active again with a new token.
    again = svc.post({"email": "bob@contoso.com"}).json()
    assert again["accountId"] == bob["accountId"]
    assert me(client, again["accessToken"]).json()["tokenStatus"] == "active"


def test_deleting_the_service_account_deletes_its_managed_accounts(svc, client):
    _, _, parent, _ = svc("Office365")
    bob = svc.post({"email": "bob@contoso.com"}).json()
    with responses.RequestsMock():
        r = client.delete(
            f"/v1/am/accounts/{parent.pk}", HTTP_AUTHORIZATION=basic(svc.app, svc.secret)
        )
    assert r.status_code == 200
    assert not Account.objects.filter(pk__in=[parent.pk, bob["accountId"]]).exists()
    assert me(client, bob["accessToken"]).status_code == 401
    unlinked = AuditEvent.objects.filter(event="account.unlinked")
    assert sorted(e.details["accountId"] for e in unlinked) == sorted([parent.pk, bob["accountId"]])


def test_deleting_a_managed_account_leaves_the_service_account(svc, client):
    _, _, parent, _ = svc("Office365")
    bob = svc.post({"email": "bob@contoso.com"}).json()
    r = client.delete(
        f"/v1/am/accounts/{bob['accountId']}", HTTP_AUTHORIZATION=basic(svc.app, svc.secret)
    )
    assert r.status_code == 200
    assert Account.objects.filter(pk=parent.pk).exists()
    assert not Account.objects.filter(pk=bob["accountId"]).exists()


def test_lists_show_managed_accounts_and_their_filters_hold(
    svc, client, conforms, account_factory, django_assert_num_queries
):
    app, secret, parent, _ = svc("Office365")
    personal = account_factory(app, "Office365")
    for n in range(3):
        svc.post({"email": f"user{n}@contoso.com"})
    managed = list(Account.objects.filter(parent=parent).values_list("pk", flat=True))
    auth = {"HTTP_AUTHORIZATION": basic(app, secret)}

    def ids(path, **query):
        return [r["id"] for r in conforms(client.get(path, query, **auth))["records"]]

    assert ids("/v1/am/accounts") == [parent.pk, personal.pk, *managed]
    assert ids("/v1/am/accounts", daemon="true") == [parent.pk]
    assert ids("/v1/am/accounts", daemon="false") == [personal.pk, *managed]
    assert ids("/v1/am/accounts", clientOrgId="acme") == [parent.pk, *managed]
    assert ids("/v1/am/svc_accounts") == [parent.pk]  # service accounts only
    page = conforms(client.get("/v1/am/accounts", **auth))["records"]
    kinds = {r["id"]: (r["type"], r.get("parentId")) for r in page}
    assert kinds[parent.pk] == ("daemon", None) and kinds[personal.pk] == ("personal", None)
    assert {kinds[pk] for pk in managed} == {("managed", parent.pk)}
    with django_assert_num_queries(3):  # the app, the page, the count
        client.get("/v1/am/accounts", **auth)
    for n in range(3, 20):
        svc.post({"email": f"user{n}@contoso.com"})
    with django_assert_num_queries(3):
        assert len(client.get("/v1/am/accounts", **auth).json()["records"]) == 22


def test_the_managed_endpoint_and_fields_are_described_by_v1_schema(svc, client):
    from tests.api.test_schema import check

    _, _, parent, _ = svc("Office365")
    schema = client.get("/v1/schema?format=json").json()
    path = "/v1/am/svc_accounts/{acc_id}/accounts"
    saved = svc.post({"email": "bob@contoso.com"})
    check(schema, path, "post", saved)
    check(schema, path, "post", svc.post({}))
    check(schema, path, "post", svc.post({"email": "bob@contoso.com"}, parent_id=999999))
    token = saved.json()["accessToken"]
    check(schema, "/v1/account", "get", me(client, token))
    auth = {"HTTP_AUTHORIZATION": basic(svc.app, svc.secret)}
    check(schema, "/v1/am/accounts", "get", client.get("/v1/am/accounts", **auth))
