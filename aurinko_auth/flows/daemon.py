"""The Service Account (daemon) flow: org-wide access after one admin authorization.

``GET /v1/auth/authorizeDaemon`` for a provider with the service-account capability
(:class:`~aurinko_auth.providers.service_accounts.ServiceAccountProvider`), in one of its two
shapes:

* admin consent (Office 365): the provider's consent page -> ``/v1/auth/callback`` without a
  code (Microsoft: ``tenant`` and ``admin_consent``) -> the provider checks it and fetches an
  app-only token -> a daemon account for the organisation (``authOrgId`` = tenant id). When
  the consent names no organisation yet (``organizations``), the admin signs in with OpenID
  Connect first: ``/v1/auth/callback`` with a code -> the ID token, verified against the
  provider's keys (:func:`aurinko_auth.identity.tokens.verify_id_token`), proves the tenant
  and the admin's role -> a new pending authorization for that proven tenant -> its consent;
* admin sign-in (Google Workspace): the admin signs in with the provider's OAuth (who
  authorizes, which organisation) -> the provider proves the delegation with a token for the
  admin's own mailbox -> a daemon account for the domain.

The result reaches the returnUrl like the Account flow's (``code`` or ``token``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from django.db import transaction

from aurinko_auth.accounts import link_account
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AurinkoError, InvalidRequest
from aurinko_auth.flows import account as account_flow
from aurinko_auth.flows import common, imports
from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows.state import FlowParams
from aurinko_auth.identity import tokens as id_tokens
from aurinko_auth.models import App, AuthState, FlowKind, ProviderConfig
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.providers.service_accounts import DaemonGrant, ServiceAccountProvider

# The optional authorize parameters a service-account authorization takes.
DAEMON_OPTIONS = ("clientOrgId",)


def start(req: common.AuthorizeRequest, browser_id: str) -> common.Started:
    """Validate a daemon-flow request and send the admin to the provider. Everything the
    flow needs from the app's provider configuration is checked before any redirect."""
    app = common.resolve_target(req)  # InvalidClient / InvalidReturnUrl: a 400 page
    try:
        response_type = (req.response_type or "code").lower()
        if response_type not in account_flow.RESPONSE_TYPES:
            raise InvalidRequest("responseType must be 'code' or 'token'.")
        common.check_response_type(app, response_type, req.return_url)
        provider, unified = common.check_common(req, app)
        if not isinstance(provider, ServiceAccountProvider) or not isinstance(
            provider, OAuth2Provider
        ):
            raise InvalidRequest(
                f"Service accounts exist for {' and '.join(imports.service_types())} only.",
                code=Code.SERVICETYPE_INVALID,
            )
        native = provider.native_scopes(unified)  # rejects scopes the provider lacks
        config = common.provider_config(app, provider)
        provider.check_daemon_config(config)
        unsupported = sorted(set(req.options) - set(DAEMON_OPTIONS))
        if unsupported:
            raise InvalidRequest(
                f"authorizeDaemon does not take {unsupported[0]} (only {', '.join(DAEMON_OPTIONS)})."
            )
        params = common.flow_params(req, app, provider, response_type=response_type)
        if req.account_id:
            # Re-authorizing one of the app's service accounts: the consent must end on it.
            account = common.account_by_id(app, provider, req.account_id, daemon=True)
            params = params.replace(account_id=account.pk)
        if provider.admin_signs_in:
            # The admin's sign-in asks for identity only; the daemon scopes go to the grant.
            return common.start_oauth(
                app=app,
                provider=provider,
                kind=FlowKind.DAEMON,
                unified=[],
                params=params.replace(daemon_scopes=unified, daemon_native=native),
                browser_id=browser_id,
                login_hint=req.login_hint,
            )
        consent = provider.daemon_consent(config, req.extra)
        params = params.replace(
            scopes=unified, native=native, redirect_uri=config.redirect_uri, **consent
        )
        if provider.daemon_sign_in_first(consent):
            return _start_sign_in(app, provider, config, consent, params, browser_id)
        return common.Started(_consent_redirect(app, provider, config, consent, params, browser_id))
    except AurinkoError as exc:
        raise common.redirect_error(req.return_url, req.state)(exc) from None


def _start_sign_in(
    app: App,
    provider: ServiceAccountProvider,
    config: ProviderConfig,
    consent: Mapping[str, str],
    params: FlowParams,
    browser_id: str,
) -> common.Started:
    """The admin's OpenID Connect sign-in that proves which organisation consents."""
    verifier, challenge = common.new_pkce_pair()
    nonce = secrets.token_urlsafe(32)
    state = flow_state.create(
        app=app,
        kind=FlowKind.DAEMON,
        service_type=provider.id,
        params=params,
        secrets={"code_verifier": verifier, "nonce": nonce},
        browser_id=browser_id,
    )
    return common.Started(
        provider.daemon_sign_in_url(
            config,
            consent,
            state=state,
            redirect_uri=params.redirect_uri,
            code_challenge=challenge,
            nonce=nonce,
        )
    )


def _consent_redirect(
    app: App,
    provider: ServiceAccountProvider,
    config: ProviderConfig,
    consent: Mapping[str, str],
    params: FlowParams,
    browser_id: str,
) -> str:
    """A pending authorization for the consent, and the provider's consent URL."""
    state = flow_state.create(
        app=app,
        kind=FlowKind.DAEMON,
        service_type=provider.id,
        params=params,
        secrets={},
        browser_id=browser_id,
    )
    return provider.daemon_consent_url(
        config, consent, state=state, redirect_uri=params.redirect_uri
    )


def _consent_of(flow: FlowParams) -> dict[str, str]:
    """The consent parameters a pending authorization carries (see ``daemon_consent``)."""
    consent = {"tenant": flow.tenant, "proven_tenant": flow.proven_tenant}
    return {k: v for k, v in consent.items() if v}


def complete(pending: AuthState, query: Mapping[str, str], browser_id: str) -> common.Completed:
    """The provider's callback for a pending daemon authorization."""
    flow = flow_state.params_of(pending)
    provider = get_provider(pending.service_type)
    if not isinstance(provider, ServiceAccountProvider) or not isinstance(provider, OAuth2Provider):
        raise InvalidRequest(
            f"{provider.id} has no service accounts.", code=Code.SERVICETYPE_INVALID
        )
    if provider.admin_signs_in:
        result = common.complete_oauth(pending, query)
        native = flow.daemon_native
        grant = provider.complete_daemon_sign_in(result.config, result.profile, native)
        return _finish(pending, result.provider, grant, flow.daemon_scopes, native)
    config = common.provider_config(pending.app, provider)
    consent = _consent_of(flow)
    if provider.daemon_sign_in_first(consent):
        return _signed_in(pending, provider, config, consent, query, browser_id)
    grant = provider.complete_daemon_consent(config, consent, query)
    return _finish(
        pending,
        provider,
        grant,
        flow.scopes,
        flow.native,
    )


def _signed_in(
    pending: AuthState,
    provider: ServiceAccountProvider,
    config: ProviderConfig,
    consent: Mapping[str, str],
    query: Mapping[str, str],
    browser_id: str,
) -> common.Completed:
    """The admin's sign-in came back: redeem its code, verify the ID token (signature, issuer,
    audience, expiry, this flow's nonce), let the provider read the proven organisation and
    the admin's role from it, then send the admin to the consent for exactly that
    organisation (a new pending authorization: this one is used up)."""
    tokens = provider.redeem_daemon_sign_in(
        config,
        consent,
        query,
        redirect_uri=common.redirect_uri_of(pending),
        code_verifier=pending.secrets.get("code_verifier", ""),
    )
    rules = provider.daemon_id_token_rules(config)
    claims = id_tokens.verify_id_token(
        tokens.id_token or "",
        jwks_url=rules.jwks_url,
        issuer=rules.issuer,
        audience=rules.audience,
        nonce=pending.secrets.get("nonce", ""),
    )
    proven = provider.daemon_signed_in(config, claims)
    flow = flow_state.params_of(pending)
    flow = flow.replace(redirect_uri=flow.redirect_uri or config.redirect_uri, **proven)
    return common.Completed(
        _consent_redirect(pending.app, provider, config, proven, flow, browser_id)
    )


def _finish(
    pending: AuthState,
    provider: OAuth2Provider,
    grant: DaemonGrant,
    unified: list[str],
    native: list[str],
) -> common.Completed:
    flow = flow_state.params_of(pending)
    with transaction.atomic():
        account, _ = link_account(
            app=pending.app,
            provider=provider,
            profile=grant.profile,
            tokens=grant.tokens,
            credentials=grant.credentials,
            requested_scopes=unified,
            requested_native=native,
            daemon=True,
            client_org_id=flow.client_org_id,
        )
        common.check_reauthorized(flow, account)
        return account_flow.finish(pending, account)
