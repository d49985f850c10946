"""The Account flow: one linked account and an access token for it.

``GET /v1/auth/authorize`` -> provider -> ``GET /v1/auth/callback`` -> returnUrl with a
``code`` (redeemed at ``POST /v1/auth/token/{code}``) or, discouraged, the ``accessToken``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from aurinko_auth.accounts import link_account
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import AurinkoError, InvalidRequest
from aurinko_auth.flows import common, password, pkce
from aurinko_auth.flows import options as flow_options
from aurinko_auth.flows import state as flow_state
from aurinko_auth.models import Account, AccountToken, AuthCode, AuthState, FlowKind
from aurinko_auth.providers.base import Profile, Provider, TokenSet
from aurinko_auth.providers.forms import FormSignIn
from aurinko_auth.providers.oauth2 import OAuth2Provider

RESPONSE_TYPES = ("code", "token")


def start(req: common.AuthorizeRequest, browser_id: str) -> common.Started:
    """Validate an Account-flow request and send the browser to the provider."""
    app = common.resolve_target(req)  # InvalidClient / InvalidReturnUrl: a 400 page
    try:
        response_type = (req.response_type or "code").lower()
        if response_type not in RESPONSE_TYPES:
            raise InvalidRequest("responseType must be 'code' or 'token'.")
        common.check_response_type(app, response_type, req.return_url)
        provider, unified = common.check_common(req, app)
        params = common.flow_params(req, app, provider, response_type=response_type)
        if req.account_id and not params.recycle:
            raise InvalidRequest(
                "accountId re-authorizes an account: recycle=false contradicts it."
            )
        if isinstance(provider, FormSignIn):
            if req.account_id:
                account = common.account_by_id(app, provider, req.account_id)
                params = params.replace(account_id=account.pk)
            return password.start(
                app=app,
                provider=provider,
                kind=FlowKind.ACCOUNT,
                unified=unified,
                browser_id=browser_id,
                params=params,
            )
        if not isinstance(provider, OAuth2Provider):
            raise InvalidRequest(f"{provider.id} cannot be signed in yet.")
        existing = common.existing_account_for(app, provider, req)
        if existing and req.account_id:
            params = params.replace(account_id=existing.pk)
        return common.start_oauth(
            app=app,
            provider=provider,
            kind=FlowKind.ACCOUNT,
            unified=unified,
            params=params,
            browser_id=browser_id,
            login_hint=req.login_hint,
            existing=existing,
        )
    except AurinkoError as exc:
        raise common.redirect_error(req.return_url, req.state)(exc) from None


def complete(pending: AuthState, query: Mapping[str, str], browser_id: str) -> common.Completed:
    """The provider's callback of an Account flow."""
    result = common.complete_oauth(pending, query)
    retry = common.consent_retry(result, browser_id)
    if retry is not None:
        return common.Completed(retry.redirect_url)
    common.check_outcome(result)
    with transaction.atomic():
        account = _link(
            pending, provider=result.provider, profile=result.profile, tokens=result.tokens
        )
        return finish(pending, account)


def complete_linked(
    pending: AuthState,
    *,
    provider: Provider,
    profile: Profile,
    tokens: TokenSet | None = None,
    credentials: dict[str, Any] | None = None,
) -> common.Completed:
    """Finish an Account flow once the provider vouched for ``profile`` (a password form's
    sign-in: EWS, IMAP, SugarCRM): link the account and say where the browser goes."""
    with transaction.atomic():
        account = _link(
            pending, provider=provider, profile=profile, tokens=tokens, credentials=credentials
        )
        return finish(pending, account)


def _link(
    pending: AuthState,
    *,
    provider: Provider,
    profile: Profile,
    tokens: TokenSet | None,
    credentials: dict[str, Any] | None = None,
) -> Account:
    flow = flow_state.params_of(pending)
    flow_options.check_identity(flow, profile)
    account, _created = link_account(
        app=pending.app,
        provider=provider,
        profile=profile,
        tokens=tokens,
        credentials=credentials,
        requested_scopes=flow.scopes,
        requested_native=flow.native,
        client_org_id=flow.client_org_id,
        recycle=flow.recycle,
    )
    common.check_reauthorized(flow, account)  # rolled back with the link when it fails
    return account


def finish(pending: AuthState, account: Account) -> common.Completed:
    """The success redirect of a flow that linked ``account``: a one-time ``code``, or with
    ``responseType=token`` the account token itself. Call it inside the flow's transaction."""
    flow = flow_state.params_of(pending)
    if flow.response_type == "token":
        token = AccountToken.issue(account)
        return common.Completed(
            common.success_url(flow, accountId=str(account.pk), accessToken=token)
        )
    code = AuthCode.issue(
        pending.app,
        account,
        aurinko_settings.CODE_TTL,
        **pkce.payload(flow.code_challenge, public=flow.public_client),
    )
    return common.Completed(common.success_url(flow, code=code))
