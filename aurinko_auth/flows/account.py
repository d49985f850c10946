"""The Account flow: one linked account and an access token for it.

``GET /v1/auth/authorize`` -> provider -> ``GET /v1/auth/callback`` -> returnUrl with a
``code`` (redeemed at ``POST /v1/auth/token/{code}``) or, discouraged, the ``accessToken``.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from aurinko_auth.accounts import link_account
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AurinkoError, InvalidRequest
from aurinko_auth.flows import common
from aurinko_auth.models import Account, AccountToken, AuthCode, AuthState, FlowKind
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
        provider, unified = common.check_common(req, app)
        if isinstance(provider, FormSignIn):
            return common.start_form(
                app=app,
                provider=provider,
                kind=FlowKind.ACCOUNT,
                unified=unified,
                browser_id=browser_id,
                params={
                    "returnUrl": req.return_url,
                    "state": req.state,
                    "responseType": response_type,
                },
            )
        if not isinstance(provider, OAuth2Provider):
            raise InvalidRequest(f"{provider.id} cannot be signed in yet.")
        existing = common.existing_account_for(app, provider, req)
        params = {
            "returnUrl": req.return_url,
            "state": req.state,
            "responseType": response_type,
            "accountId": existing.pk if (existing and req.account_id) else None,
        }
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


def complete(pending: AuthState, query: Mapping[str, str], browser_id: str) -> str:
    result = common.complete_oauth(pending, query)
    tokens, profile, provider = result.tokens, result.profile, result.provider
    retry = common.consent_retry(result, browser_id)
    if retry is not None:
        return retry.redirect_url
    expected_id = pending.params.get("accountId")
    with transaction.atomic():
        account, _created = link_account(
            app=pending.app,
            provider=provider,
            profile=profile,
            tokens=tokens,
            requested_scopes=pending.params.get("scopes", []),
            requested_native=pending.params.get("native", []),
        )
        if expected_id and account.pk != expected_id:
            raise InvalidRequest(
                "The signed-in identity is not the account being re-authorized.",
                code=Code.ACCOUNT_MISMATCH,
            )
        return finish(pending, account)


def finish(pending: AuthState, account: Account) -> str:
    """The success redirect of a flow that linked ``account``: a one-time ``code``, or with
    ``responseType=token`` the account token itself. Call it inside the flow's transaction."""
    if pending.params["responseType"] == "token":
        token = AccountToken.issue(account)
        return common.success_url(pending, accountId=str(account.pk), accessToken=token)
    code = AuthCode.issue(pending.app, account, aurinko_settings.CODE_TTL)
    return common.success_url(pending, code=code)
