"""Sign-in through our own hosted form (EWS, IMAP, SugarCRM) for the Account and User flows.

authorize -> our form (``/v1/auth/password/{state}``) -> a real sign-in at the server -> the
account (credentials or provider tokens encrypted) -> returnUrl, exactly like the OAuth flows
(a code, a token, or a User-flow session). A failed sign-in shows the form again and leaves the
pending authorization usable until it expires; only a successful sign-in uses it up. Failed
sign-ins are rate-limited per client IP and per login, before any server is contacted.

This module imports no other flow: the Account and User flows start it, and
:func:`aurinko_auth.flows.callback.submit_form` hands it their completions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from aurinko_auth import audit, crypto
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import AurinkoError, InvalidRequest, StateError
from aurinko_auth.flows import common
from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows.state import FlowParams
from aurinko_auth.models import App, AuthState, FlowKind, ProviderConfig
from aurinko_auth.providers.base import Provider
from aurinko_auth.providers.forms import FormSignIn, SignedIn
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.security import ratelimit

logger = logging.getLogger("aurinko_auth.flows")

KINDS = (FlowKind.ACCOUNT, FlowKind.USER)

# Ends the flow of a pending authorization whose form sign-in succeeded (its kind's
# ``complete_linked``), inside the transaction that uses the authorization up.
SignedInCompletion = Callable[[AuthState, FormSignIn, SignedIn], common.Completed]


def start(
    *,
    app: App,
    provider: Provider,
    kind: str,
    unified: list[str],
    params: FlowParams,
    browser_id: str,
) -> common.Started:
    """Record the pending authorization and send the browser to our form."""
    if kind not in KINDS:
        raise InvalidRequest(f"{provider.id} cannot be used in this flow.")
    if isinstance(provider, OAuth2Provider):
        # Its tokens are refreshed and revoked with the app's configuration (SugarCRM: the
        # client id and platform): an app enables such a provider explicitly.
        common.provider_config(app, provider)
    native = provider.native_scopes(unified)
    state = flow_state.create(
        app=app,
        kind=kind,
        service_type=provider.id,
        params=params.replace(scopes=unified, native=native),
        secrets={},
        browser_id=browser_id,
    )
    return common.Started(aurinko_settings.url("password", state=state))


def pending_form(state: str, browser_id: str | None) -> tuple[AuthState, FormSignIn]:
    """The pending authorization behind a form (StateError when it cannot be resumed)."""
    pending = flow_state.check(state, browser_id)
    provider = get_provider(pending.service_type)
    if not isinstance(provider, FormSignIn) or pending.kind not in KINDS:
        raise StateError("This authorization does not use a sign-in form.")
    return pending, provider


def initial_values(pending: AuthState, provider: FormSignIn) -> dict[str, str]:
    """The form's fields before anything was submitted: the authorize request's ``serverUrl``
    (as the provider's fields) and ``authEmail`` as the login."""
    flow = flow_state.params_of(pending)
    values = provider.form_initial(flow.server_url) if flow.server_url else {}
    if flow.auth_email:
        values["login"] = flow.auth_email
    return values


def _limits(ip: str | None, login: str) -> list[tuple[str, str, str | None]]:
    limits = [("pwlogin", crypto.hash_token(login), aurinko_settings.PASSWORD_FAILURE_RATE_LOGIN)]
    if ip:
        limits.append(("pwip", ip, aurinko_settings.PASSWORD_FAILURE_RATE_IP))
    return limits


def sign_in(
    app: App, provider: FormSignIn, cleaned: dict[str, Any], *, ip: str | None, flow: str
) -> SignedIn:
    """A real sign-in with ``cleaned`` (the provider's ``clean``) for ``app``: rate-limited
    per client IP and per login before any server is contacted; a failure is counted and
    audited (``flow`` names who asked: a form's flow kind, or an import)."""
    limits = _limits(ip, provider.login_of(cleaned))
    for scope, ident, rate in limits:
        ratelimit.check(scope, ident, rate)
    config = ProviderConfig.objects.filter(app=app, service_type=provider.id).first()
    try:
        return provider.sign_in(config, cleaned)
    except AurinkoError as exc:
        for scope, ident, rate in limits:
            ratelimit.count(scope, ident, rate)
        audit.record(
            audit.Event.AUTH_FAILED,
            app=app.pk,
            error=exc.code,
            serviceType=provider.id,  # type: ignore[attr-defined]
            flow=flow,
        )
        raise


def submit(
    state: str,
    browser_id: str | None,
    data: Mapping[str, str],
    *,
    complete: SignedInCompletion,
    ip: str | None = None,
) -> common.Completed:
    """Check the form's credentials by a real sign-in; on success use the authorization up and
    let ``complete`` link the account and say where the browser goes (with a User-flow
    session, for a primary sign-in).

    Raises InvalidRequest (and subclasses, RateLimited included) for the form to show,
    StateError when the authorization cannot be resumed, and FlowRedirectError when the sign-in
    succeeded but the flow cannot end well (the app learns why at its returnUrl)."""
    pending, provider = pending_form(state, browser_id)
    signed = sign_in(pending.app, provider, provider.clean(data), ip=ip, flow=pending.kind)
    try:
        with transaction.atomic():
            flow_state.claim(pending)
            return complete(pending, provider, signed)
    except StateError:
        raise
    except AurinkoError as exc:
        # The sign-in worked but the flow cannot end (the user signed out meanwhile, the
        # account belongs to another user): use the authorization up and tell the app.
        AuthState.objects.filter(pk=pending.pk, used_at__isnull=True).update(used_at=timezone.now())
        audit.record(
            audit.Event.AUTH_FAILED,
            app=pending.app_id,
            error=exc.code,
            serviceType=pending.service_type,
            flow=pending.kind,
        )
        raise common.error_wrap(pending)(exc) from None
