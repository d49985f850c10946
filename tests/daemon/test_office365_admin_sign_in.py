"""Office 365 admin consent for ``organizations`` bound to the admin's verified OpenID sign-in
(issue 19 item 6): the admin signs in on the ``organizations`` authority first; the ID token,
verified against the issuer's published keys (a local key server, tests/identity/issuer.py),
proves the tenant (``tid``) and a role that can consent (``wids``); the consent is then asked
for exactly that tenant, and its callback and the app-only token must name it. Microsoft's
token endpoint mocked with ``responses`` in its shapes."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import responses
from django.core.cache import cache

from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.identity import keys
from aurinko_auth.models import Account, AuthState, ProviderConfig
from aurinko_auth.providers.office365_tenants import CONSENT_ROLES
from aurinko_auth.providers.registry import get_provider
from tests.conftest import RETURN_URL
from tests.daemon.graph import ms_app_token_response
from tests.daemon.keys import make_app_certificate
from tests.identity.conftest import issuer  # noqa: F401  (the local issuer fixture)
from tests.identity.issuer import Key

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"  # the admin's tenant
VICTIM = "0c3b1a7e-1111-4222-8333-444455556666"  # another tenant that consented to the app
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
USER_ROLE = "b79fbf4d-3ef9-4689-8143-76b194e85509"  # every member's default role
CLIENT_ID = "provider-client-id"
ORGANIZATIONS_TOKEN = "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"


def token_url(tenant: str) -> str:
    return f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def ms_keys(issuer):  # noqa: F811
    """Microsoft's key set, served on loopback (the app's ``jwks`` endpoint override)."""
    return issuer


@pytest.fixture
def org_app(daemon_app, ms_keys):
    def make(**config):
        app, _, _ = daemon_app("Office365", endpoints={"jwks": ms_keys.base + "/keys"}, **config)
        return app

    return make


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")  # the key server
        yield mock


def id_token(ms_keys, sent_nonce: str, *, tid: str = TENANT, key: Key | None = None, **over) -> str:
    now = int(time.time())
    claims = {
        "iss": f"https://login.microsoftonline.com/{tid}/v2.0",
        "aud": CLIENT_ID,
        "tid": tid,
        "oid": "4f3c2b1a-0000-4000-8000-00000000ad01",
        "sub": "x7Kz-admin-pairwise-subject",
        "name": "Adele Admin",
        "preferred_username": "adele@contoso.com",
        "wids": [GLOBAL_ADMIN, USER_ROLE],
        "nonce": sent_nonce,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "ver": "2.0",
        **over,
    }
    return ms_keys.sign({k: v for k, v in claims.items() if v is not None}, key)


def start(client, app, **extra) -> dict[str, str]:
    params = {
        "clientId": app.client_id,
        "serviceType": "Office365",
        "scopes": "Mail.Read",
        "returnUrl": RETURN_URL,
        "state": "app-state",
        **extra,
    }
    r = client.get("/v1/auth/authorizeDaemon", params)
    assert r.status_code == 303, r.content
    return query_of(r["Location"]) | {"_url": r["Location"]}


def sign_in(client, mocked, ms_keys, app, *, token_response=None, **claims):
    """Start an ``organizations`` flow and come back from Microsoft's sign-in with a code
    whose redemption answers an ID token (``claims`` override its claims)."""
    sent = start(client, app)
    if token_response is None:
        token_response = {
            "token_type": "Bearer",
            "scope": "openid profile",
            "expires_in": 4422,
            "access_token": "eyJ0eXAiOiJKV1Qi.graph-user-token.sig",
            "id_token": id_token(ms_keys, sent["nonce"], **claims),
        }
    mocked.post(ORGANIZATIONS_TOKEN, json=token_response)
    r = client.get("/v1/auth/callback", {"code": "1.AXoA-sign-in-code", "state": sent["state"]})
    assert r.status_code == 303, r.content
    return r["Location"]


def refused(location: str, code: str) -> dict[str, str]:
    assert location.startswith(RETURN_URL), location
    q = query_of(location)
    assert q["status"] == "error" and q["state"] == "app-state", q
    assert q["error"] == code, q
    assert not Account.objects.exists()
    return q


def test_organizations_starts_with_the_admins_openid_sign_in(client, org_app):
    app = org_app()
    sent = start(client, app)
    url = urlsplit(sent["_url"])
    assert (url.netloc, url.path) == (
        "login.microsoftonline.com",
        "/organizations/oauth2/v2.0/authorize",
    )
    assert sent["scope"] == "openid profile" and sent["response_type"] == "code"
    assert sent["client_id"] == CLIENT_ID and sent["prompt"] == "select_account"
    assert sent["redirect_uri"] == "http://127.0.0.1:8000/v1/auth/callback"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    pending = AuthState.objects.get()
    assert pending.params["tenant"] == "organizations" and not pending.params["provenTenant"]
    assert pending.secrets["nonce"] == sent["nonce"] and len(sent["nonce"]) >= 32
    assert pending.secrets["code_verifier"]


def test_the_proven_tenant_is_the_one_consent_is_asked_for(client, mocked, ms_keys, org_app):
    app = org_app()
    location = sign_in(client, mocked, ms_keys, app)
    url = urlsplit(location)
    assert (url.netloc, url.path) == ("login.microsoftonline.com", f"/{TENANT}/v2.0/adminconsent")
    consent = query_of(location)
    assert consent["scope"] == "https://graph.microsoft.com/.default"
    # The code was redeemed at the organizations authority with the flow's PKCE verifier.
    redeemed = parse_qs(mocked.calls[0].request.body)
    assert redeemed["grant_type"] == ["authorization_code"]
    assert redeemed["code"] == ["1.AXoA-sign-in-code"] and redeemed["code_verifier"]
    assert redeemed["client_secret"] == ["provider-client-secret"]
    # The sign-in's pending authorization is used; a new one carries the proven tenant.
    used, pending = AuthState.objects.order_by("id")
    assert used.used_at is not None and pending.used_at is None
    assert pending.params["tenant"] == TENANT and pending.params["provenTenant"] == TENANT
    assert pending.params["returnUrl"] == RETURN_URL and pending.params["state"] == "app-state"

    mocked.post(token_url(TENANT), json=ms_app_token_response(TENANT))
    r = client.get(
        "/v1/auth/callback",
        {"tenant": TENANT, "admin_consent": "True", "state": consent["state"], "scope": ""},
    )
    q = query_of(r["Location"])
    assert q["status"] == "success" and q["state"] == "app-state", q
    account = Account.objects.get()
    assert account.daemon and account.auth_org_id == TENANT


def test_forged_consent_callback_for_organizations_is_refused(client, mocked, org_app):
    """The attack of issue 19 item 6: start an ``organizations`` flow and answer it with a
    consent callback naming another tenant that consented to the app. The flow's first step
    is the admin's sign-in: a callback without its code proves no tenant."""
    app = org_app()
    sent = start(client, app)
    mocked.post(token_url(VICTIM), json=ms_app_token_response(VICTIM))
    r = client.get(
        "/v1/auth/callback",
        {"tenant": VICTIM, "admin_consent": "True", "state": sent["state"], "scope": ""},
    )
    q = refused(r["Location"], "tenant.unproven")
    assert "sign-in is missing" in q["message"]
    assert len(mocked.calls) == 0  # no token asked for anyone


def test_consent_callback_must_name_the_proven_tenant(client, mocked, ms_keys, org_app):
    app = org_app()
    consent = query_of(sign_in(client, mocked, ms_keys, app))
    mocked.post(token_url(VICTIM), json=ms_app_token_response(VICTIM))
    r = client.get(
        "/v1/auth/callback",
        {"tenant": VICTIM, "admin_consent": "True", "state": consent["state"]},
    )
    q = refused(r["Location"], "tenant.mismatch")
    assert "signed in to" in q["message"]
    assert [c.request.url for c in mocked.calls] == [ORGANIZATIONS_TOKEN]


@pytest.mark.parametrize(
    "wids, message",
    [
        ([USER_ROLE], "cannot give admin consent"),
        (["fe930be7-5e62-47db-91af-98c3a49a38b1"], "cannot give admin consent"),  # User Admin
        ([], "cannot give admin consent"),
        (None, "names no directory roles"),
        ("62e90394-69f5-4237-9190-012177145e10", "names no directory roles"),  # not a list
    ],
    ids=["member", "user-administrator", "no-roles", "no-wids", "wids-not-a-list"],
)
def test_a_user_who_cannot_consent_is_refused(client, mocked, ms_keys, org_app, wids, message):
    app = org_app()
    q = refused(sign_in(client, mocked, ms_keys, app, wids=wids), "daemon.not_admin")
    assert message in q["message"]
    assert AuthState.objects.filter(used_at__isnull=True).count() == 0  # no consent pending


@pytest.mark.parametrize("role", sorted(CONSENT_ROLES))
def test_each_role_that_can_consent_is_accepted(client, mocked, ms_keys, org_app, role):
    app = org_app()
    location = sign_in(client, mocked, ms_keys, app, wids=[role.upper()])
    assert urlsplit(location).path == f"/{TENANT}/v2.0/adminconsent", CONSENT_ROLES[role]


@pytest.mark.parametrize(
    "claims, code",
    [
        ({"nonce": "another-sign-ins-nonce"}, "identity.nonce"),
        ({"nonce": None}, "identity.malformed"),
        ({"aud": "another-client-id"}, "identity.audience"),
        ({"iss": f"https://login.microsoftonline.com/{VICTIM}/v2.0"}, "identity.issuer"),
        ({"iss": "https://sts.windows.net/" + TENANT + "/"}, "identity.issuer"),
        ({"exp": int(time.time()) - 600}, "identity.expired"),
        ({"tid": None}, "identity.malformed"),
    ],
    ids=["nonce", "no-nonce", "audience", "issuer-tenant", "issuer-v1", "expired", "no-tid"],
)
def test_the_id_token_must_verify(client, mocked, ms_keys, org_app, claims, code):
    app = org_app()
    refused(sign_in(client, mocked, ms_keys, app, **claims), code)


def test_an_id_token_signed_with_an_unpublished_key_is_refused(client, mocked, ms_keys, org_app):
    app = org_app()
    forger = Key(ms_keys.keys[0].kid)  # the published kid, another key
    refused(sign_in(client, mocked, ms_keys, app, key=forger), "identity.signature")
    unknown = Key("forger-kid")
    keys.clear()
    cache.clear()
    refused(sign_in(client, mocked, ms_keys, app, key=unknown), "identity.key_unknown")


def test_an_unsigned_id_token_is_refused(client, mocked, ms_keys, org_app):
    app = org_app()
    sent = start(client, app)
    unsigned = jwt.encode(
        {
            "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
            "aud": CLIENT_ID,
            "tid": TENANT,
            "wids": [GLOBAL_ADMIN],
            "nonce": sent["nonce"],
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
        },
        key=None,
        algorithm="none",
    )
    mocked.post(
        ORGANIZATIONS_TOKEN,
        json={
            "token_type": "Bearer",
            "access_token": "at",
            "expires_in": 3599,
            "id_token": unsigned,
        },
    )
    r = client.get("/v1/auth/callback", {"code": "c", "state": sent["state"]})
    refused(r["Location"], "identity.algorithm")


def test_a_sign_in_without_an_id_token_is_refused(client, mocked, ms_keys, org_app):
    app = org_app()
    answer = {"token_type": "Bearer", "access_token": "at", "expires_in": 3599}
    q = refused(sign_in(client, mocked, ms_keys, app, token_response=answer), "identity.malformed")
    assert "no ID token" in q["message"]


def test_the_admin_declining_the_sign_in_is_access_denied(client, mocked, org_app):
    app = org_app()
    sent = start(client, app)
    r = client.get(
        "/v1/auth/callback",
        {"error": "access_denied", "error_description": "AADSTS65004", "state": sent["state"]},
    )
    refused(r["Location"], "access.denied")
    assert len(mocked.calls) == 0


def test_a_certificate_app_redeems_the_sign_in_with_a_client_assertion(
    client, mocked, ms_keys, org_app
):
    credential = make_app_certificate()
    app = org_app(client_secret="", service_account_key=credential.bundle)
    location = sign_in(client, mocked, ms_keys, app)
    assert urlsplit(location).path == f"/{TENANT}/v2.0/adminconsent"
    body = parse_qs(mocked.calls[0].request.body)
    assert "client_secret" not in body
    assert body["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    claims = jwt.decode(
        body["client_assertion"][0],
        credential.certificate.public_key(),
        algorithms=["PS256"],
        audience=ORGANIZATIONS_TOKEN,
    )
    assert claims["iss"] == claims["sub"] == CLIENT_ID


def test_the_apps_redirect_page_is_sent_in_every_step(client, mocked, ms_keys, org_app):
    page = "https://app.example.com/aurinko/redirect"
    app = org_app(redirect_page=page)
    assert start(client, app)["redirect_uri"] == page
    AuthState.objects.all().delete()
    consent = query_of(sign_in(client, mocked, ms_keys, app))
    assert parse_qs(mocked.calls[0].request.body)["redirect_uri"] == [page]
    assert consent["redirect_uri"] == page
    assert AuthState.objects.get(used_at__isnull=True).params["redirectUri"] == page


def test_the_specific_tenant_flow_has_no_sign_in(client, org_app):
    app = org_app()
    sent = start(client, app, tenant=TENANT)
    assert urlsplit(sent["_url"]).path == f"/{TENANT}/v2.0/adminconsent"
    assert "nonce" not in sent and AuthState.objects.get().secrets == {}


def test_a_consent_for_organizations_is_never_trusted(db):
    """Whatever path reaches the consent's completion with ``organizations`` (a pending
    authorization from before the sign-in step existed): nothing is asked, nothing proven."""
    provider = get_provider("Office365")
    config = ProviderConfig(client_id=CLIENT_ID, client_secret="s", service_type="Office365")
    with pytest.raises(InvalidRequest) as info:
        provider.complete_daemon_consent(
            config, {"tenant": "organizations"}, {"tenant": VICTIM, "admin_consent": "True"}
        )
    assert info.value.code == "tenant.unproven"
