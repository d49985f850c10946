"""``user.begin`` + ``user.complete_linked``: the User flow's entry points for providers that
sign in with our own form (EWS, IMAP) and hand over a verified Profile and credentials."""

from __future__ import annotations

import pytest

from aurinko_auth import usersessions, views
from aurinko_auth.exceptions import AccountLinkedElsewhere, NotSignedIn
from aurinko_auth.flows import common
from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows import user as user_flow
from aurinko_auth.models import Account, AuthState, FlowKind
from aurinko_auth.providers.base import Profile
from aurinko_auth.providers.forms import PasswordProvider
from tests.conftest import RETURN_URL

pytestmark = pytest.mark.django_db


class FormProvider(PasswordProvider):
    """A password provider as the EWS/IMAP ones look to the User flow."""

    id = "IMAP"
    form_fields = ("login", "password", "host", "port", "security")


def _pending(app, role: str, response_type: str = "cookie", cookies=None) -> AuthState:
    req = common.AuthorizeRequest(
        client_id=app.client_id,
        service_type="IMAP",
        return_url=RETURN_URL,
        state="s",
        response_type=response_type,
    )
    params, select_account = user_flow.begin(
        app,
        req,
        FormProvider(),
        role=role,
        cookies=cookies or {},
        client=user_flow.ClientInfo(user_agent="Thunderbird", ip="192.0.2.7"),
    )
    flow_state.create(
        app=app,
        kind=FlowKind.USER,
        service_type="IMAP",
        params=params,
        secrets={},
        browser_id="abr_x",
    )
    return AuthState.objects.select_related("app").latest("created_at")


def test_password_sign_in_primary_then_secondary(app_factory):
    app, _ = app_factory()
    profile = Profile(
        auth_user_id="alice@mail.example",
        email="alice@mail.example",
        server_url="imaps://mail.example:993",
    )
    done = user_flow.complete_linked(
        _pending(app, "primary"),
        provider=FormProvider(),
        profile=profile,
        credentials={"password": "pw"},
    )
    assert done.session_token and done.app == app
    response = views.finish_flow(done)
    assert response.status_code == 303 and response["Location"].startswith(RETURN_URL)
    assert response.cookies[usersessions.cookie_name(app.pk)]["httponly"]
    account = Account.objects.get()
    assert account.account_type == "primary" and account.credentials == {"password": "pw"}
    assert account.user.trusted_identity is False  # a password form, not an OAuth provider
    session = account.user.sessions.get()
    assert session.user_agent == "Thunderbird" and session.ip == "192.0.2.7"

    cookies = {usersessions.cookie_name(app.pk): done.session_token}
    second = Profile(auth_user_id="shared@mail.example", email="shared@mail.example")
    user_flow.complete_linked(
        _pending(app, "secondary", cookies=cookies),
        provider=FormProvider(),
        profile=second,
        credentials={"password": "pw2"},
    )
    assert account.user.accounts.get(auth_user_id="shared@mail.example").account_type == "secondary"


def test_password_secondary_needs_session_and_never_moves_accounts(app_factory):
    app, _ = app_factory()
    with pytest.raises(NotSignedIn):
        _pending(app, "secondary")
    alice = user_flow.complete_linked(
        _pending(app, "primary"),
        provider=FormProvider(),
        profile=Profile(auth_user_id="alice"),
        credentials={"password": "a"},
    )
    bob = user_flow.complete_linked(
        _pending(app, "primary"),
        provider=FormProvider(),
        profile=Profile(auth_user_id="bob"),
        credentials={"password": "b"},
    )
    with pytest.raises(AccountLinkedElsewhere):
        user_flow.complete_linked(
            _pending(
                app, "secondary", cookies={usersessions.cookie_name(app.pk): bob.session_token}
            ),
            provider=FormProvider(),
            profile=Profile(auth_user_id="alice"),
            credentials={"password": "stolen"},
        )
    assert alice.session_token != bob.session_token
    assert Account.objects.get(auth_user_id="alice").credentials == {"password": "a"}


def test_finish_flow_redirects_without_a_session():
    response = views.finish_flow(common.Completed("https://app.example.com/cb?status=success"))
    assert response["Location"] == "https://app.example.com/cb?status=success"
    assert not response.cookies
