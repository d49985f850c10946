"""The Service Account (daemon) flow: org-wide access after one admin authorization.

``GET /v1/auth/authorizeDaemon`` ->
* Office 365: Microsoft's admin-consent endpoint (``adminconsent``, tenant from the request's
  ``tenant``, default ``organizations``) -> ``/v1/auth/callback`` with ``tenant`` and
  ``admin_consent`` -> an app-only token (client credentials) at that tenant -> a daemon account
  for the tenant (``authOrgId`` = tenant id);
* Google: the admin signs in with Google OAuth (who authorizes, which Workspace domain ``hd``)
  -> the broker proves the domain-wide delegation with a JWT bearer token for the admin's own
  mailbox -> a daemon account for the domain.

The result reaches the returnUrl like the Account flow's (``code`` or ``token``).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from oauthlib.common import add_params_to_uri

from aurinko_auth.accounts import link_account
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import (
    AccessDenied,
    AurinkoError,
    InvalidRequest,
    ProviderError,
    ProviderNotConfigured,
)
from aurinko_auth.flows import account as account_flow
from aurinko_auth.flows import common
from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows.state import FlowParams
from aurinko_auth.lifecycle import daemon_tokens
from aurinko_auth.models import App, AuthState, FlowKind, ProviderConfig
from aurinko_auth.providers.base import OAuth2Provider, Profile, ProviderCallError
from aurinko_auth.providers.registry import get_provider

SERVICE_TYPES = ("Office365", "Google")


def start(req: common.AuthorizeRequest, browser_id: str) -> common.Started:
    """Validate a daemon-flow request and send the admin to the provider. Everything the
    flow needs from the app's provider configuration is checked before any redirect."""
    app = common.resolve_target(req)  # InvalidClient / InvalidReturnUrl: a 400 page
    try:
        response_type = (req.response_type or "code").lower()
        if response_type not in account_flow.RESPONSE_TYPES:
            raise InvalidRequest("responseType must be 'code' or 'token'.")
        provider, unified = common.check_common(req, app)
        if provider.id not in SERVICE_TYPES or not isinstance(provider, OAuth2Provider):
            raise InvalidRequest(
                f"Service accounts exist for {' and '.join(SERVICE_TYPES)} only.",
                code="servicetype.invalid",
            )
        native = provider.native_scopes(unified)  # rejects scopes the provider lacks
        config = common.provider_config(app, provider)
        params = FlowParams(return_url=req.return_url, state=req.state, response_type=response_type)
        if provider.id == "Office365":
            return _start_office365(app, provider, config, req, params, unified, native, browser_id)
        return _start_google(app, provider, config, req, params, unified, native, browser_id)
    except AurinkoError as exc:
        raise common.redirect_error(req.return_url, req.state)(exc) from None


def complete(pending: AuthState, query: Mapping[str, str], browser_id: str) -> common.Completed:
    """The provider's callback for a pending daemon authorization."""
    if pending.service_type == "Office365":
        return _complete_office365(pending, query)
    return _complete_google(pending, query)


def _not_configured(message: str) -> ProviderNotConfigured:
    return ProviderNotConfigured(message, code="daemon.not_configured")


# --- Office 365 --------------------------------------------------------------------------


def _start_office365(
    app: App,
    provider: OAuth2Provider,
    config: ProviderConfig,
    req: common.AuthorizeRequest,
    params: FlowParams,
    unified: list[str],
    native: list[str],
    browser_id: str,
) -> common.Started:
    if not config.client_id or not config.client_secret:
        raise _not_configured(
            "Office 365 service accounts need the app's OAuth client id and "
            "client secret (client credentials)."
        )
    requested = req.extra.get("tenant", "")
    if requested:
        tenant = daemon_tokens.clean_tenant(requested)
    else:
        configured = (config.tenant or "").lower()
        # A single-tenant app registration names its tenant; "common" cannot consent.
        tenant = (
            daemon_tokens.clean_tenant(configured)
            if configured and configured not in ("common", "consumers")
            else "organizations"
        )
    url = provider.endpoint("adminconsent", config, tenant=tenant)
    state = flow_state.create(
        app=app,
        kind=FlowKind.DAEMON,
        service_type=provider.id,
        params=params.replace(scopes=unified, native=native, tenant=tenant),
        secrets={},
        browser_id=browser_id,
    )
    return common.Started(
        add_params_to_uri(
            url,
            [
                ("client_id", config.client_id),
                ("scope", daemon_tokens.GRAPH_DEFAULT_SCOPE),
                ("redirect_uri", aurinko_settings.callback_url),
                ("state", state),
            ],
        )
    )


def _complete_office365(pending: AuthState, query: Mapping[str, str]) -> common.Completed:
    error = query.get("error")
    if error:
        if error == "access_denied":
            raise AccessDenied("The administrator declined the consent.")
        raise ProviderError(
            f"Microsoft returned an error: {error[:64]}.", code=error[:64], status=400
        )
    if (query.get("admin_consent") or "").lower() != "true":
        raise AccessDenied(
            "Microsoft did not confirm the admin consent.", code="admin_consent.missing"
        )
    tenant = (query.get("tenant") or "").strip().lower()
    if not daemon_tokens.is_tenant_id(tenant):
        raise InvalidRequest("Microsoft returned no tenant id.", code="tenant.invalid")
    flow = flow_state.params_of(pending)
    requested = flow.tenant or "organizations"
    if daemon_tokens.is_tenant_id(requested) and requested != tenant:
        raise InvalidRequest(
            "The consent was given for another tenant than the one asked.", code="tenant.mismatch"
        )
    provider = get_provider(pending.service_type)
    config = common.provider_config(pending.app, provider)
    tokens = daemon_tokens.client_credentials_token(provider, config, tenant)
    profile = Profile(
        auth_user_id=tenant,
        auth_org_id=tenant,
        login_string=tenant,
        name=f"Microsoft 365 tenant {tenant}",
    )
    with transaction.atomic():
        account, _ = link_account(
            app=pending.app,
            provider=provider,
            profile=profile,
            tokens=tokens,
            credentials={**tokens.credentials(), "tenant": tenant},
            requested_scopes=flow.scopes,
            requested_native=flow.native,
            daemon=True,
        )
        return account_flow.finish(pending, account)


# --- Google Workspace ----------------------------------------------------------------------


def _start_google(
    app: App,
    provider: OAuth2Provider,
    config: ProviderConfig,
    req: common.AuthorizeRequest,
    params: FlowParams,
    unified: list[str],
    native: list[str],
    browser_id: str,
) -> common.Started:
    if not config.service_account_key:
        raise _not_configured(
            "Google service accounts need the app's service-account key "
            "(manage.py aurinko_app provider ... --service-account-key FILE)."
        )
    daemon_tokens.config_key(config)
    if not config.client_id or not config.client_secret:
        raise _not_configured(
            "The administrator signs in with Google OAuth: the app's Google "
            "configuration needs an OAuth client id and client secret."
        )
    # The admin's sign-in asks for identity only; the daemon scopes go to the JWT grant.
    return common.start_oauth(
        app=app,
        provider=provider,
        kind=FlowKind.DAEMON,
        unified=[],
        params=params.replace(daemon_scopes=unified, daemon_native=native),
        browser_id=browser_id,
        login_hint=req.login_hint,
    )


def _complete_google(pending: AuthState, query: Mapping[str, str]) -> common.Completed:
    result = common.complete_oauth(pending, query)
    admin = result.profile
    domain = (admin.auth_org_id or "").lower()
    if not domain:
        raise InvalidRequest(
            "Only a Google Workspace administrator can authorize a service account: this is "
            "a consumer Google account (no Workspace domain).",
            code="daemon.not_workspace",
        )
    flow = flow_state.params_of(pending)
    native = flow.daemon_native
    provider = result.provider
    try:
        # Proves the domain-wide delegation (client id and scopes) before an account exists.
        daemon_tokens.jwt_bearer_token(provider, result.config, admin.email, native)
    except ProviderCallError as exc:
        raise ProviderError(
            f"Google refused the service account for {domain} ({exc.code}): check the "
            "domain-wide delegation of the service account's client id and scopes in the "
            "Admin console.",
            code="daemon.delegation_failed",
            status=400,
        ) from None
    profile = Profile(
        auth_user_id=domain,
        auth_org_id=domain,
        email=admin.email,
        login_string=admin.email,
        name=f"Google Workspace {domain}",
        extra={"authorizedBy": admin.email},
    )
    with transaction.atomic():
        account, _ = link_account(
            app=pending.app,
            provider=provider,
            profile=profile,
            tokens=None,
            credentials={"domain": domain, "default_mailbox": admin.email},
            requested_scopes=flow.daemon_scopes,
            requested_native=native,
            daemon=True,
        )
        return account_flow.finish(pending, account)
