"""Office 365 admin consent bound to the tenant Microsoft proves (issue 19 item 6): the
callback's ``tenant`` is a claim of the redirect; the app-only token fetched right after is
asked for the tenant the flow started for, and its ``tid`` must be the claimed tenant (for
``organizations``, the tenant of the admin's sign-in: test_office365_admin_sign_in.py).
Microsoft's token endpoint mocked with ``responses`` in its shapes (tests/daemon/graph.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from aurinko_auth.models import Account
from aurinko_auth.providers.office365_tenants import token_tenant
from tests.conftest import RETURN_URL
from tests.daemon.graph import graph_app_token, ms_app_token_response

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"  # contoso.com's tenant
VICTIM = "0c3b1a7e-1111-4222-8333-444455556666"  # another tenant that consented to the app


def token_url(tenant: str) -> str:
    return f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def consent(client, app, **extra) -> str:
    params = {
        "clientId": app.client_id,
        "serviceType": "Office365",
        "scopes": "Mail.Read",
        "returnUrl": RETURN_URL,
        "state": "app-state",
        **extra,
    }
    return query_of(client.get("/v1/auth/authorizeDaemon", params)["Location"])["state"]


def callback(client, state: str, tenant: str):
    return client.get(
        "/v1/auth/callback",
        {"tenant": tenant, "admin_consent": "True", "state": state, "scope": ".default"},
    )


def refused(r) -> dict[str, str]:
    assert r.status_code == 303 and r["Location"].startswith(RETURN_URL), r.content
    q = query_of(r["Location"])
    assert q["status"] == "error" and q["state"] == "app-state", q
    assert q["error"] == "tenant.mismatch", q
    assert not Account.objects.exists()
    return q


@responses.activate
def test_forged_tenant_for_a_domain_flow_is_refused(client, daemon_app):
    # The flow started for contoso.com; the forged callback names another consented tenant.
    app, _, _ = daemon_app("Office365")
    responses.post(token_url("contoso.com"), json=ms_app_token_response(TENANT))
    responses.post(token_url(VICTIM), json=ms_app_token_response(VICTIM))
    q = refused(callback(client, consent(client, app, tenant="contoso.com"), VICTIM))
    assert "another tenant" in q["message"]
    # The token was asked for the tenant the flow started for, never for the claimed one.
    assert [c.request.url for c in responses.calls] == [token_url("contoso.com")]


@responses.activate
def test_domain_flow_ends_on_the_tenant_microsoft_names(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    responses.post(token_url("contoso.com"), json=ms_app_token_response(TENANT))
    r = callback(client, consent(client, app, tenant="contoso.com"), TENANT)
    assert query_of(r["Location"])["status"] == "success", r["Location"]
    account = Account.objects.get()
    assert account.auth_org_id == TENANT and account.credentials["tenant"] == TENANT


@responses.activate
def test_tenant_id_flow_refuses_a_token_of_another_tenant(client, daemon_app):
    # The token endpoint answered for another tenant than the callback claims (an endpoint
    # override, a directory alias): the account would be bound to a tenant nobody proved.
    app, _, _ = daemon_app("Office365")
    responses.post(token_url(TENANT), json=ms_app_token_response(VICTIM))
    refused(callback(client, consent(client, app, tenant=TENANT), TENANT))


@pytest.mark.parametrize(
    "access_token",
    ["EwBwA8l6BAAU-opaque-token", graph_app_token(None), graph_app_token("not-a-guid")],
    ids=["opaque", "no-tid", "bad-tid"],
)
@responses.activate
def test_a_token_without_a_tenant_proves_nothing(client, daemon_app, access_token):
    app, _, _ = daemon_app("Office365")
    responses.post(
        token_url(TENANT),
        json={"token_type": "Bearer", "expires_in": 3599, "access_token": access_token},
    )
    q = refused(callback(client, consent(client, app, tenant=TENANT), TENANT))
    assert "names no tenant" in q["message"]


def test_token_tenant_reads_tid():
    assert token_tenant(graph_app_token(TENANT.upper())) == TENANT
    assert token_tenant(graph_app_token(None)) == ""
    assert token_tenant("") == ""
