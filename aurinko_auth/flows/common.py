"""What every browser flow shares: the authorize request, the redirect to the provider, and
the provider's callback up to a linked account. Imports no flow: the flows import it, and
:mod:`aurinko_auth.flows.callback` dispatches callbacks to them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from oauthlib.oauth2.rfc6749.clients.base import Client as OAuthClient

from aurinko_auth import inputs, scopes
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    AccessDenied,
    AurinkoError,
    FlowRedirectError,
    InvalidClient,
    InvalidRequest,
    InvalidReturnUrl,
    ProviderError,
    ProviderNotConfigured,
)
from aurinko_auth.flows import options as flow_options
from aurinko_auth.flows import pkce
from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows.state import FlowParams
from aurinko_auth.models import Account, App, AuthState, ProviderConfig
from aurinko_auth.providers.base import Provider
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.security import origins, returnurls

logger = logging.getLogger("aurinko_auth.flows")


@dataclass
class AuthorizeRequest:
    """The query of ``/v1/auth/authorize*`` (Aurinko's parameter names)."""

    client_id: str = ""
    service_type: str = ""
    scopes: str = ""
    response_type: str = ""
    return_url: str = ""
    state: str = ""
    login_hint: str = ""
    server_url: str = ""
    account_id: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # The optional parameters (nativeScopes, clientOrgId, ...), parsed by flows/options.py.
    options: dict[str, str] = field(default_factory=dict)

    FIELDS = {
        "clientId": "client_id",
        "serviceType": "service_type",
        "scopes": "scopes",
        "responseType": "response_type",
        "returnUrl": "return_url",
        "state": "state",
        "loginHint": "login_hint",
        "serverUrl": "server_url",
        "accountId": "account_id",
        "code_challenge": "code_challenge",
        "code_challenge_method": "code_challenge_method",
    }

    @classmethod
    def from_query(
        cls, query: Mapping[str, str], extra_names: tuple[str, ...] = ()
    ) -> AuthorizeRequest:
        values = {attr: (query.get(name) or "").strip() for name, attr in cls.FIELDS.items()}
        extra = {name: (query.get(name) or "").strip() for name in extra_names}
        given = {name: (query.get(name) or "").strip() for name in flow_options.PARAMS}
        return cls(**values, extra=extra, options={k: v for k, v in given.items() if v})


@dataclass
class Started:
    """An authorization was started: send the browser to ``redirect_url``."""

    redirect_url: str


@dataclass
class Completed:
    """What every completion returns (callback or password form, every flow): send the
    browser to ``redirect_url``; when a User flow signed someone in, the view first sets the
    session cookie ``session_token`` of ``app``."""

    redirect_url: str
    session_token: str | None = None
    app: App | None = None
    mailbox_info: str = ""  # the cookie of this mailbox (User flow's ``mailboxInfo``)


def new_pkce_pair() -> tuple[str, str]:
    """A PKCE (RFC 7636) code verifier and its S256 challenge, made by oauthlib."""
    client = OAuthClient("")
    verifier = client.create_code_verifier(64)
    return verifier, client.create_code_challenge(verifier, "S256")


def resolve_app(client_id: str) -> App:
    app = App.objects.filter(client_id=client_id, active=True).first() if client_id else None
    if app is None:
        raise InvalidClient()
    return app


def done_url(client_id: str) -> str:
    """The broker's own closing page (``/v1/auth/done``): where a prepared sign-in without a
    returnUrl ends, posting the outcome to the add-in that opened the popup."""
    return f"{aurinko_settings.url('done')}?{urlencode({'clientId': client_id})}"


def resolve_target(req: AuthorizeRequest) -> App:
    """The app and its validated returnUrl. Failures here show a 400 page, never a redirect."""
    app = resolve_app(req.client_id)
    if req.return_url == done_url(req.client_id):
        return app  # our own page, which posts to the app's origins only
    try:
        returnurls.match(
            req.return_url, app.return_urls, max_length=aurinko_settings.MAX_RETURN_URL_LENGTH
        )
    except InvalidReturnUrl as exc:
        # The message names the URL's origin and path only (never its query).
        logger.warning("app %s: returnUrl refused: %s", app.client_id, exc.message)
        raise
    return app


def redirect_error(
    req_return_url: str, state: str | None
) -> Callable[[AurinkoError], FlowRedirectError]:
    def wrap(error: AurinkoError) -> FlowRedirectError:
        return FlowRedirectError(error, return_url=req_return_url, state=state)

    return wrap


def provider_config(app: App, provider: Provider) -> ProviderConfig:
    config = ProviderConfig.objects.filter(app=app, service_type=provider.id).first()
    if config is None:
        raise ProviderNotConfigured(f"The app has no {provider.id} configuration.")
    return config


def check_common(req: AuthorizeRequest, app: App) -> tuple[Provider, list[str]]:
    if len(req.state) > aurinko_settings.MAX_STATE_LENGTH:
        raise InvalidRequest("state is too long.")
    if len(req.login_hint) > 320:
        raise InvalidRequest("loginHint is too long.")
    provider = get_provider(req.service_type)
    unified = scopes.parse_scopes(req.scopes)
    scopes.check_allowed(unified, app.allowed_scopes)
    return provider, unified


def flow_params(req: AuthorizeRequest, app: App, provider: Provider, **fields: Any) -> FlowParams:
    """A new flow's parameters: ``fields`` and the request's optional parameters
    (flows/options.py) and PKCE challenge (flows/pkce.py), each checked (an unusable value
    raises, never ignored)."""
    parsed = flow_options.parse(req.options, provider, app, server=req.server_url)
    public = pkce.is_public(app, req.return_url)
    challenge = pkce.parse_challenge(req.code_challenge, req.code_challenge_method, public=public)
    return FlowParams(
        return_url=req.return_url,
        state=req.state,
        code_challenge=challenge,
        public_client=public,
        **parsed,
        **fields,
    )


def check_response_type(app: App, response_type: str, return_url: str) -> None:
    """``responseType=token`` puts an account token in a URL: an app must opt in to it
    (``App.token_response``), a public client never gets it (its return URL is a page), nor
    a flow to a public return URL, and it goes only to a return URL on one of the app's
    trusted domains (Aurinko's rule: "the implicit grant flow is secured by the trusted
    domains setting"; the return URL must be registered as well)."""
    if response_type != "token":
        return
    public = pkce.is_public(app, return_url)
    if not app.token_response or public:
        raise InvalidRequest(
            "responseType=token is off for this app"
            + (" (a public client redeems a code with PKCE)." if public else ": ")
            + ("" if public else "use responseType=code, or turn it on for the app."),
            code=Code.RESPONSETYPE_TOKEN_DISABLED,
        )
    if not origins.is_trusted_domain(return_url, app):
        raise InvalidRequest(
            f"responseType=token goes only to a return URL on one of the app's trusted "
            f"domains; {returnurls.origin(return_url)} is not one of them (add it, or use "
            "responseType=code).",
            code=Code.RESPONSETYPE_TOKEN_UNTRUSTED,
        )


def account_by_id(
    app: App, provider: Provider, raw: str, *, daemon: bool = False, user: Any = None
) -> Account:
    """The account ``accountId`` names for re-authorization: one of this app's (and, with
    ``user``, that user's) accounts of this service type."""
    account_id = inputs.object_id(raw)
    if account_id is None:
        raise InvalidRequest("accountId must be a number.")
    # Managed accounts are upserted with their service account, never re-authorized.
    qs = Account.objects.filter(
        app=app, service_type=provider.id, daemon=daemon, parent__isnull=True
    )
    if user is not None:
        qs = qs.filter(user=user)
    account = qs.filter(pk=account_id).first()
    if account is None:
        whose = "the signed-in user" if user is not None else "this app"
        raise InvalidRequest(f"accountId is not an account of {whose} and service type.")
    return account


def check_reauthorized(flow: FlowParams, account: Account) -> None:
    """A re-authorization (``accountId``) must end on that account (the same identity)."""
    if flow.account_id and account.pk != flow.account_id:
        raise InvalidRequest(
            "The signed-in identity is not the account being re-authorized.",
            code=Code.ACCOUNT_MISMATCH,
        )


def existing_account_for(app: App, provider: Provider, req: AuthorizeRequest) -> Account | None:
    """The account a re-authorization is about: ``accountId``, else the ``loginHint`` email."""
    qs = Account.objects.filter(
        app=app, service_type=provider.id, daemon=False, parent__isnull=True
    )
    if req.account_id:
        return account_by_id(app, provider, req.account_id)
    if req.login_hint:
        return qs.filter(email__iexact=req.login_hint).order_by("-id").first()
    return None


def start_oauth(
    *,
    app: App,
    provider: OAuth2Provider,
    kind: str,
    unified: list[str],
    params: FlowParams,
    browser_id: str,
    login_hint: str = "",
    existing: Account | None = None,
    select_account: bool = False,
    force_consent: bool = False,
) -> Started:
    """Create the pending authorization and build the provider's authorization URL."""
    config = provider_config(app, provider)
    native = list(dict.fromkeys([*provider.native_scopes(unified), *params.native_extra]))
    needs_consent = force_consent or not (
        existing is not None
        and existing.credentials.get("refresh_token")
        and set(native) <= set(existing.native_scopes or [])
    )
    verifier, challenge = new_pkce_pair()
    state = flow_state.create(
        app=app,
        kind=kind,
        service_type=provider.id,
        params=params.replace(scopes=unified, native=native, redirect_uri=config.redirect_uri),
        secrets={"code_verifier": verifier},
        browser_id=browser_id,
    )
    url = provider.authorization_url(
        config,
        state=state,
        redirect_uri=config.redirect_uri,
        scopes=native,
        code_challenge=challenge,
        login_hint=login_hint or params.auth_email,
        needs_consent=needs_consent,
        select_account=select_account,
        prompt=params.prompt,
    )
    return Started(url)


@dataclass
class OAuthResult:
    """A callback that got tokens and a profile from the provider."""

    pending: AuthState
    provider: OAuth2Provider
    config: ProviderConfig
    tokens: Any
    profile: Any


def complete_oauth(pending: AuthState, query: Mapping[str, str]) -> OAuthResult:
    """Exchange the provider's code and read the profile. Raises domain errors (the caller
    wraps them into an error redirect to the pending authorization's returnUrl)."""
    provider = get_provider(pending.service_type)
    if not isinstance(provider, OAuth2Provider):
        raise InvalidRequest("This provider does not use OAuth.")
    config = provider.resolve(provider_config(pending.app, provider), query=query)
    # RFC 9207: an error response carries iss too, and is checked first like a success.
    provider.check_issuer(config, query.get("iss"))
    error = query.get("error")
    if error:
        if error == "access_denied":
            raise AccessDenied("The user declined the authorization.")
        # The provider's own words stay in our logs; the app gets the code.
        raise ProviderError(
            f"The provider returned an error: {error[:64]}.", code=error[:64], status=400
        )
    code = query.get("code")
    if not code or len(code) > 4096:
        raise InvalidRequest("The provider returned no code.")
    tokens = provider.exchange_code(
        config,
        code=code,
        redirect_uri=redirect_uri_of(pending),
        code_verifier=pending.secrets.get("code_verifier"),
    )
    profile = provider.fetch_profile(config, tokens)
    return OAuthResult(pending, provider, config, tokens, profile)


def redirect_uri_of(pending: AuthState) -> str:
    """The ``redirect_uri`` a pending authorization sent the provider (the app's redirect page
    or our callback), which its token request must repeat."""
    return flow_state.params_of(pending).redirect_uri or aurinko_settings.callback_url


def check_outcome(result: OAuthResult) -> None:
    """Hold a completed OAuth sign-in to its request (``authEmail``, ``ensureScopes``,
    ``ensureAccess``) before any account is written."""
    flow = flow_state.params_of(result.pending)
    flow_options.check_outcome(flow, result.provider, result.config, result.profile, result.tokens)


def consent_retry(result: OAuthResult, browser_id: str) -> Started | None:
    """Google issues a refresh token only on its consent screen. When the provider returned
    none and we hold none for this identity, go back once with the consent prompt, so the
    account does not die at the first expiry."""
    provider, pending = result.provider, result.pending
    flow = flow_state.params_of(pending)
    if result.tokens.refresh_token or not provider.wants_refresh_token() or flow.consent_forced:
        return None
    existing = Account.objects.filter(
        app=pending.app,
        service_type=provider.id,
        auth_user_id=result.profile.auth_user_id,
        daemon=False,
    ).first()
    if existing is not None and existing.credentials.get("refresh_token"):
        return None
    return start_oauth(
        app=pending.app,
        provider=provider,
        kind=pending.kind,
        unified=flow.scopes,
        params=flow.replace(consent_forced=True),
        browser_id=browser_id,
        login_hint=result.profile.email,
        force_consent=True,
    )


def success_url(flow: FlowParams, **extra: str | None) -> str:
    params: dict[str, str | None] = {"status": "success", "state": flow.state}
    params.update(extra)
    return returnurls.with_params(flow.return_url, params)


def error_wrap(pending: AuthState) -> Callable[[AurinkoError], FlowRedirectError]:
    """:func:`redirect_error` for a pending authorization's returnUrl and state."""
    flow = flow_state.params_of(pending)
    return redirect_error(flow.return_url, flow.state)
