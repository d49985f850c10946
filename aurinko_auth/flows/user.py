"""The User flow: app users, their primary and secondary accounts, and sessions.

``GET /v1/auth/authorizeUser?accountRole=primary|secondary`` (or the add-in form
``/v1/auth/authorize?userAccount=...``) -> provider -> ``GET /v1/auth/callback`` -> returnUrl,
with the session cookie set (``responseType=cookie``), a ``code`` the app redeems for
``userSession`` (``code``), or nothing (``none``).

* primary: the remote identity that is already the primary account of a user of this app signs
  that user in; any other identity gets a new user. Every primary sign-in mints a new session.
* secondary: links the account to the signed-in user (the session cookie, or ``userId`` +
  ``timestamp`` + ``userSignature``). An account linked to another user is never moved.

:func:`complete_linked` is the entry point for every provider kind: OAuth callbacks call it
here, password forms (EWS, IMAP) call it with their verified Profile and credentials.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from aurinko_auth import audit, usersessions
from aurinko_auth.accounts import link_account
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    AccountLinkedElsewhere,
    AurinkoError,
    InvalidRequest,
    NotSignedIn,
)
from aurinko_auth.flows import common, password, pkce, signatures
from aurinko_auth.flows import options as flow_options
from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows.state import ClientInfo, FlowParams
from aurinko_auth.identity import prepared
from aurinko_auth.models import (
    Account,
    App,
    AppUser,
    AuthCode,
    AuthState,
    FlowKind,
    UserSession,
)
from aurinko_auth.providers.base import Profile, Provider, TokenSet
from aurinko_auth.providers.forms import FormSignIn
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.webhooks import events

PRIMARY = Account.Type.PRIMARY
SECONDARY = Account.Type.SECONDARY
ROLES = (PRIMARY, SECONDARY)
RESPONSE_TYPES = ("cookie", "code", "none")
# The ``purpose`` of a sessionCode (partitioned cookies): the page redeems it, not a backend.
COOKIE_PURPOSE = "cookie"
# Query parameters of the User flow besides the Account flow's.
EXTRA_PARAMS = (
    "accountRole",
    "userAccount",
    "userId",
    "timestamp",
    "userSignature",
    "token",
    "mailboxInfo",
)


def start(
    req: common.AuthorizeRequest,
    browser_id: str,
    *,
    role: str,
    cookies: Mapping[str, str],
    client: ClientInfo,
) -> common.Started:
    """Validate a User-flow request and send the browser to the provider."""
    if req.extra.get("token") and not req.return_url:  # Aurinko's add-in popup: our page
        req = dataclasses.replace(req, return_url=common.done_url(req.client_id))
    app = common.resolve_target(req)  # InvalidClient / InvalidReturnUrl: a 400 page
    try:
        provider, unified = common.check_common(req, app)
        params, select_account = begin(
            app, req, provider, role=role, cookies=cookies, client=client
        )
        if isinstance(provider, FormSignIn):
            return password.start(
                app=app,
                provider=provider,
                kind=FlowKind.USER,
                unified=unified,
                params=params,
                browser_id=browser_id,
            )
        if not isinstance(provider, OAuth2Provider):
            raise InvalidRequest(f"{provider.id} cannot be signed in yet.")
        existing = common.existing_account_for(
            app, provider, dataclasses.replace(req, account_id=str(params.account_id or ""))
        )
        return common.start_oauth(
            app=app,
            provider=provider,
            kind=FlowKind.USER,
            unified=unified,
            params=params,
            browser_id=browser_id,
            login_hint=req.login_hint,
            existing=existing,
            select_account=select_account,
        )
    except AurinkoError as exc:
        raise common.redirect_error(req.return_url, req.state)(exc) from None


def begin(
    app: App,
    req: common.AuthorizeRequest,
    provider: Provider,
    *,
    role: str,
    cookies: Mapping[str, str],
    client: ClientInfo,
) -> tuple[FlowParams, bool]:
    """Check the User-flow part of a request and return the pending authorization's params
    (``kind=user``) and whether the provider must offer an account choice. Every provider
    kind starts with this: OAuth here, password forms (EWS, IMAP) with their own form, then
    all end in :func:`complete_linked`. Raises NotSignedIn for a secondary without a user."""
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise InvalidRequest("accountRole must be 'primary' or 'secondary'.")
    response_type = (req.response_type or "cookie").lower()
    if response_type not in RESPONSE_TYPES:
        raise InvalidRequest("responseType must be 'cookie', 'code' or 'none'.")
    mailbox = usersessions.checked_mailbox_info(req.extra.get("mailboxInfo"))
    params = common.flow_params(
        req,
        app,
        provider,
        response_type=response_type,
        role=role,
        client=client,
        mailbox_info=mailbox,
    )
    if req.account_id and not params.recycle:
        raise InvalidRequest("accountId re-authorizes an account: recycle=false contradicts it.")
    select_account = False
    host_user: AppUser | None = None
    if req.extra.get("token"):
        if role == PRIMARY:
            claimed = prepared.claim(app, req.extra["token"])
            if claimed.user_id is not None:
                raise InvalidRequest(
                    "A prepare token of a signed-in session links secondary accounts only "
                    "(userAccount=secondary); a primary sign-in needs no prepare token."
                )
            params = params.replace(prepared_id=claimed.pk)
        else:
            # A cookie-less add-in links a secondary account: the host identity names the
            # user (recorded by its first prepared primary sign-in), as a cookie would.
            host_user = prepared.user_of(app, prepared.claim(app, req.extra["token"]))
    if role == SECONDARY:
        user, session = (host_user, None) if host_user else signed_in_user(app, req, cookies)
        params = params.replace(user_id=str(user.pk), session_id=session.pk if session else None)
        if req.account_id:
            # Re-authorizing one of the signed-in user's accounts: the provider is asked for it.
            account = common.account_by_id(app, provider, req.account_id, user=user)
            return params.replace(account_id=account.pk), False
        # The provider may still be signed in as the account linked first: make it ask.
        select_account = Account.objects.filter(user=user, service_type=provider.id).exists()
    else:
        if req.account_id:
            account = common.account_by_id(app, provider, req.account_id)
            if account.account_type != PRIMARY:
                raise InvalidRequest(
                    "accountId of a primary sign-in must be a user's primary account."
                )
            params = params.replace(account_id=account.pk)
        if response_type == "cookie":
            replaced = _cookie_session(app, cookies, mailbox)
            if replaced is not None:
                params = params.replace(replaces_session=replaced.pk)
    return params, select_account


def _cookie_session(
    app: App, cookies: Mapping[str, str], mailbox_info: str = ""
) -> UserSession | None:
    token = cookies.get(usersessions.cookie_name(app, mailbox_info=mailbox_info))
    found = [s for s in usersessions.find([token] if token else []) if s.user.app_id == app.pk]
    return found[0] if found else None


def signed_in_user(
    app: App, req: common.AuthorizeRequest, cookies: Mapping[str, str]
) -> tuple[AppUser, UserSession | None]:
    """The user a secondary account is linked to: from ``userId`` + ``timestamp`` +
    ``userSignature`` when given, else from the app's session cookie."""
    extra = req.extra
    if extra.get("userSignature") or extra.get("userId") or extra.get("timestamp"):
        user_id = signatures.verify(
            app, extra.get("userId", ""), extra.get("timestamp", ""), extra.get("userSignature", "")
        )
        user = AppUser.objects.filter(app=app, pk=user_id).first()
        if user is None:
            raise NotSignedIn("userId is not a user of this app.")
        return user, None
    session = _cookie_session(
        app, cookies, usersessions.checked_mailbox_info(extra.get("mailboxInfo"))
    )
    if session is None:
        raise NotSignedIn(
            "No user is signed in: sign in with a primary account first, or "
            "pass userId, timestamp and userSignature."
        )
    if not session.is_valid():
        raise NotSignedIn("The user's session has ended: sign in with the primary account again.")
    return session.user, session


def complete(pending: AuthState, query: Mapping[str, str], browser_id: str) -> common.Completed:
    """The provider's callback of a User flow."""
    result = common.complete_oauth(pending, query)
    retry = common.consent_retry(result, browser_id)
    if retry is not None:
        return common.Completed(retry.redirect_url)
    common.check_outcome(result)
    return complete_linked(
        pending, provider=result.provider, profile=result.profile, tokens=result.tokens
    )


def complete_linked(
    pending: AuthState,
    *,
    provider: Provider,
    profile: Profile,
    tokens: TokenSet | None = None,
    credentials: dict[str, Any] | None = None,
) -> common.Completed:
    """Finish a User flow once the provider vouched for ``profile``: link the account (OAuth
    ``tokens``, or password ``credentials``), sign the user in or add the secondary account,
    and say where the browser goes next. All in one transaction: nothing half-written."""
    app = pending.app
    flow = flow_state.params_of(pending)
    role, response_type, client = flow.role, flow.response_type, flow.client
    flow_options.check_identity(flow, profile)
    with transaction.atomic():
        if role == SECONDARY:
            user = _resume_user(pending, flow)
        account, _created = link_account(
            app=app,
            provider=provider,
            profile=profile,
            tokens=tokens,
            credentials=credentials,
            requested_scopes=flow.scopes,
            requested_native=flow.native,
            client_org_id=flow.client_org_id,
            recycle=flow.recycle,
        )
        common.check_reauthorized(flow, account)
        if role == SECONDARY:
            _attach_secondary(account, user)
        else:
            user = _sign_in_primary(app, account, provider, profile)
            if flow.prepared_id:
                prepared.record(app, flow.prepared_id, user)
        # A partitioned cookie set here (the popup) would land in the broker's own partition:
        # the page redeems a sessionCode itself (POST /v1/auth/cookie), in its partition.
        session_code = response_type == "cookie" and role == PRIMARY and app.cookie_partitioned
        if response_type == "code" or session_code:
            code = AuthCode.issue(
                app,
                account,
                aurinko_settings.CODE_TTL,
                kind=FlowKind.USER,
                userId=str(user.pk),
                startSession=role == PRIMARY,
                client=client.as_dict(),
                **({"purpose": COOKIE_PURPOSE} if session_code else {}),
                **pkce.payload(flow.code_challenge, public=flow.public_client),
            )
            name = "sessionCode" if session_code else "code"
            return common.Completed(common.success_url(flow, **{name: code}))
        if response_type == "cookie" and role == PRIMARY:
            replaced = flow.replaces_session
            if replaced:
                # No fixation: the browser's earlier session ends with this sign-in.
                usersessions.revoke_where(pk=replaced)
            token = usersessions.start(user, user_agent=client.user_agent, ip=client.ip)
            return common.Completed(
                common.success_url(flow),
                session_token=token,
                app=app,
                mailbox_info=flow.mailbox_info,
            )
        return common.Completed(common.success_url(flow))


def _resume_user(pending: AuthState, flow: FlowParams) -> AppUser:
    user = AppUser.objects.select_for_update().filter(app=pending.app, pk=flow.user_id).first()
    session_id = flow.session_id
    if user is None or (session_id and not usersessions.is_active(session_id)):
        raise NotSignedIn("The user signed out while the account was being linked.")
    return user


def _attach_secondary(account: Account, user: AppUser) -> None:
    if account.user_id is None:
        account.user = user
        account.account_type = SECONDARY
        account.save(update_fields=["user", "account_type", "updated_at"])
    elif account.user_id != user.pk:
        raise AccountLinkedElsewhere()
    # The user's own account again (primary or secondary): its role stays.


def _sign_in_primary(app: App, account: Account, provider: Provider, profile: Profile) -> AppUser:
    if account.user_id is not None:
        if account.account_type != PRIMARY:
            raise AccountLinkedElsewhere(
                "This account is linked to a user as a secondary account; it cannot sign in."
            )
        user = AppUser.objects.get(pk=account.user_id)
    else:
        user = AppUser(app=app)
    # Identity comes from the primary account only; never matched by email.
    user.email = profile.email
    user.auth_org_id = profile.auth_org_id
    user.trusted_identity = isinstance(provider, OAuth2Provider)
    created = user._state.adding
    user.save()
    if created:
        events.emit(
            app, "user.created", {"userId": str(user.pk), "email": user.email}, account=account
        )
    if account.user_id is None:
        account.user = user
        account.account_type = PRIMARY
        account.save(update_fields=["user", "account_type", "updated_at"])
    audit.record(
        audit.Event.USER_SIGN_IN,
        app=app,
        actor_name=user.email,
        userId=str(user.pk),
        accountId=account.pk,
        serviceType=provider.id,
        created=created,
    )
    return user


def redeemed(code: AuthCode) -> dict[str, Any]:
    """What ``POST /v1/auth/token/{code}`` adds for a User-flow code: ``userId``, and for a
    primary sign-in a new ``userSession`` (minted now: the code row never held it)."""
    user = AppUser.objects.filter(pk=code.payload.get("userId"), app_id=code.app_id).first()
    if user is None:
        raise InvalidRequest("The user of this code no longer exists.", code=Code.CODE_INVALID)
    extra: dict[str, Any] = {"userId": str(user.pk)}
    if code.payload.get("startSession"):
        client = ClientInfo.from_dict(code.payload.get("client"))
        extra["userSession"] = usersessions.start(user, user_agent=client.user_agent, ip=client.ip)
    return extra
