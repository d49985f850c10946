"""``token=`` on the User flow: a prepared sign-in binds the primary account to the host
identity (recorded the first time, required to match afterwards)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.models import Account, AppUser, HostIdentity
from aurinko_auth.security import origins
from tests.identity.issuer import TENANT
from tests.user.conftest import query_of

pytestmark = pytest.mark.django_db
SUBJECT = f"{TENANT}:00000000-0000-0000-66f3-3332eca7ea81"


@pytest.fixture
def addin(trust_factory, provider_config_factory):
    trust = trust_factory("entraIdToken")
    provider_config_factory(trust.app, "Office365")
    return trust.app


def prepare(issuer, app, **claims) -> str:
    response = Client().post(
        "/v1/auth/prepare",
        HTTP_X_AURINKO_AUTHTYPE="entraIdToken",
        HTTP_AUTHORIZATION=f"Bearer {issuer.entra(**claims)}",
        HTTP_X_AURINKO_CLIENTID=app.client_id,
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def addin_sign_in(sign_in, app, token, **kw):
    return sign_in(
        app,
        service_type="Office365",
        path="/v1/auth/authorize",
        userAccount="primary",
        token=token,
        **kw,
    )


def test_first_prepared_sign_in_records_the_host_identity(client, sign_in, addin, issuer):
    _, final = addin_sign_in(sign_in, addin, prepare(issuer, addin), sub="o-1")
    assert query_of(final["Location"])["status"] == "success"
    user = AppUser.objects.get()
    identity = HostIdentity.objects.get()
    assert (identity.user, identity.token_type, identity.subject) == (user, "entraIdToken", SUBJECT)
    me = client.get("/v1/user").json()
    assert me["trustedIdentity"] is True and me["id"] == str(user.pk)
    # The same identity and the same primary account again: accepted, nothing new.
    _, again = addin_sign_in(sign_in, addin, prepare(issuer, addin), sub="o-1")
    assert query_of(again["Location"])["status"] == "success"
    assert HostIdentity.objects.count() == 1 and AppUser.objects.count() == 1


def test_another_user_for_a_recorded_identity_fails_and_changes_nothing(sign_in, addin, issuer):
    addin_sign_in(sign_in, addin, prepare(issuer, addin), sub="o-1")
    _, final = addin_sign_in(
        sign_in, addin, prepare(issuer, addin), sub="o-2", email="mallory@example.com"
    )
    back = query_of(final["Location"])
    assert back["status"] == "error" and back["error"] == "identity.mismatch"
    assert AppUser.objects.count() == 1  # the second user was never written
    assert HostIdentity.objects.get().user.email == "alice@example.com"


def test_prepared_token_replayed_or_of_another_app(sign_in, addin, issuer, app_factory):
    token = prepare(issuer, addin)
    addin_sign_in(sign_in, addin, token, sub="o-1")
    start, final = addin_sign_in(sign_in, addin, token, sub="o-1")
    assert final is None
    assert query_of(start["Location"])["error"] == "identity.prepared_invalid"
    other, _ = app_factory(name="Other")
    start, _ = addin_sign_in(sign_in, other, prepare(issuer, addin))
    assert query_of(start["Location"])["error"] == "identity.prepared_invalid"
    start, _ = addin_sign_in(sign_in, addin, "aprep_forged")
    assert query_of(start["Location"])["error"] == "identity.prepared_invalid"
    assert HostIdentity.objects.count() == 1


def test_token_links_a_secondary_to_the_host_identitys_user_without_a_cookie(
    sign_in, addin, issuer
):
    """A cookie-less add-in (its popup has no session cookie: partitioned, or blocked) links
    a secondary account with a prepare token: the host identity names the user."""

    addin_sign_in(sign_in, addin, prepare(issuer, addin), sub="o-1")
    user = AppUser.objects.get()
    popup = Client()  # a fresh browser: no AUR cookie at all
    start, final = sign_in(
        addin,
        service_type="Office365",
        path="/v1/auth/authorize",
        userAccount="secondary",
        token=prepare(issuer, addin),
        sub="o-9",
        email="alice.work@example.com",
        browser=popup,
    )
    assert query_of(final["Location"])["status"] == "success", final["Location"]
    secondary = Account.objects.get(email="alice.work@example.com")
    assert secondary.user == user and secondary.account_type == Account.Type.SECONDARY
    assert AppUser.objects.count() == 1 and HostIdentity.objects.count() == 1


def test_secondary_token_before_any_primary_sign_in_is_refused(sign_in, addin, issuer):
    start, final = sign_in(
        addin,
        service_type="Office365",
        path="/v1/auth/authorize",
        userAccount="secondary",
        token=prepare(issuer, addin),
        browser=Client(),
    )
    assert final is None
    assert query_of(start["Location"])["error"] == "identity.unknown_user"
    assert AppUser.objects.count() == 0 and HostIdentity.objects.count() == 0


def test_secondary_token_of_another_app_or_replayed_is_refused(sign_in, addin, issuer):
    addin_sign_in(sign_in, addin, prepare(issuer, addin), sub="o-1")
    token = prepare(issuer, addin)
    link = {
        "service_type": "Office365",
        "path": "/v1/auth/authorize",
        "userAccount": "secondary",
        "token": token,
        "sub": "o-9",
        "email": "w@example.com",
        "browser": Client(),
    }
    assert query_of(sign_in(addin, **link)[1]["Location"])["status"] == "success"
    replay, _ = sign_in(addin, **{**link, "browser": Client()})
    assert query_of(replay["Location"])["error"] == "identity.prepared_invalid"


def test_without_return_url_the_flow_ends_on_the_broker_page_posting_to_the_app(
    client, sign_in, addin, issuer
):
    _, final = addin_sign_in(sign_in, addin, prepare(issuer, addin), sub="o-1", returnUrl=None)
    location = final["Location"]
    assert location.startswith(aurinko_settings.url("done") + f"?clientId={addin.client_id}&")
    location = location[location.index("/v1/auth/done") :]
    assert query_of(location)["status"] == "success"
    page = client.get(location)
    assert page.status_code == 200
    assert page["Cross-Origin-Opener-Policy"] == "unsafe-none"  # the popup keeps its opener
    html = page.content.decode()
    marker = '<script id="aurinko-origins" type="application/json">'
    posted_to = json.loads(html.split(marker)[1].split("<")[0])
    assert "https://app.example.com" in posted_to
    assert set(posted_to) == origins.app_origins(addin)  # the app's origins, never "*"
    assert '"status": "success"' in html and "window.opener.postMessage(outcome, origin)" in html
    # A mismatch ends there too, with the error for the add-in.
    _, failed = addin_sign_in(
        sign_in, addin, prepare(issuer, addin), sub="o-2", email="m@example.com", returnUrl=None
    )
    failed_at = failed["Location"][failed["Location"].index("/v1/auth/done") :]
    assert query_of(failed_at)["error"] == "identity.mismatch"
    assert "identity.mismatch" in client.get(failed_at).content.decode()


def test_done_page_of_an_unknown_app_is_an_error_page(client):
    page = client.get("/v1/auth/done", {"clientId": "nope", "status": "success"})
    assert page.status_code == 400 and b"client.invalid" in page.content


def test_without_token_a_missing_return_url_is_still_refused(sign_in, addin):
    start, final = sign_in(
        addin,
        service_type="Office365",
        path="/v1/auth/authorize",
        userAccount="primary",
        returnUrl=None,
    )
    assert final is None and start.status_code == 400
