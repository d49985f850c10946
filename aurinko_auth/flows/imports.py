"""Accounts brought from elsewhere (Aurinko's ``POST /v1/am/accounts`` and
``POST /v1/am/accounts/connect``): provider tokens or password credentials, checked at the
provider before anything is written; service accounts (``POST /v1/am/svc_accounts``,
:func:`check_service_account`), proven with the app's own credentials; and managed mailbox
accounts of a service account (``POST /v1/am/svc_accounts/{id}/accounts``,
:func:`check_managed`), whose tokens are the service account's.

:func:`check` proves what an import names, unless told not to: tokens by the provider's own
probe (:meth:`OAuth2Provider.verify_tokens`: a refresh when there is no usable access token,
then the profile call), passwords by a real sign-in (the hosted form's, rate-limited the same
way). :func:`save` then upserts the account by its provider identity (the same identity imported
or authorized again is the same account) and issues an account token, in one transaction. No
provider call happens inside that transaction, and nothing is written when a check fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from aurinko_auth import scopes
from aurinko_auth.accounts import link_account
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    AccessUnavailable,
    InvalidRequest,
    InvalidScope,
    UnsupportedServiceType,
)
from aurinko_auth.flows import common, password
from aurinko_auth.flows import options as flow_options
from aurinko_auth.flows.state import FlowParams
from aurinko_auth.lifecycle import daemon_tokens
from aurinko_auth.models import Account, AccountToken, App
from aurinko_auth.providers.base import Profile, Provider, TokenSet
from aurinko_auth.providers.forms import FormSignIn, PasswordProvider
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import all_providers, get_provider
from aurinko_auth.providers.service_accounts import ServiceAccountProvider

# How failed password sign-ins of imports are counted in the audit log (``flow``).
FLOW = "import"


@dataclass(frozen=True)
class AccountImport:
    """An account as the app describes it (Aurinko's ``ApiAccountInDto``, parsed by the API's
    serializer): whose it is, and its provider tokens or password credentials."""

    service_type: str
    email: str = ""
    login_string: str = ""
    name: str = ""
    auth_user_id: str = ""
    auth_org_id: str = ""
    client_org_id: str = ""
    server_url: str = ""
    password: str = ""
    access_token: str = ""
    refresh_token: str = ""
    expires_at: datetime | None = None
    obtained_at: datetime | None = None
    scopes: tuple[str, ...] = ()  # unified scope names
    oauth_client_id: str = ""

    @property
    def login(self) -> str:
        return self.login_string or self.email


@dataclass
class Checked:
    """What :func:`check` established: the identity and what the broker keeps for it."""

    provider: Provider
    profile: Profile
    unified: list[str]
    native: list[str]
    tokens: TokenSet | None = None
    credentials: dict[str, Any] | None = field(default=None, repr=False)
    daemon: bool = False  # a service account (check_service_account)
    parent: Account | None = None  # a managed account's service account (check_managed)


@dataclass
class Saved:
    account: Account
    access_token: str  # the new account token (ours, never the provider's)
    created: bool


def check(
    app: App,
    data: AccountImport,
    *,
    verify: bool = True,
    ensure_access: bool = False,
    ip: str | None = None,
) -> Checked:
    """Check an import without writing anything. With ``verify`` (the default) the provider
    vouches for the identity: the provider's answer is the profile, and what the request
    says of it (``authUserId``, ``email``/``loginString``) must agree. Without, the request's
    own identity is taken as given (``authUserId`` is then required). ``ensure_access``: the
    provider's access probes (flows/options.py) must reach what ``authScopes`` name."""
    provider = get_provider(data.service_type)
    unified = scopes.parse_scopes(" ".join(data.scopes))
    scopes.check_allowed(unified, app.allowed_scopes)
    native = provider.native_scopes(unified)
    if ensure_access and not verify:
        raise InvalidRequest("ensureAccess checks at the provider: it needs pingProvider.")
    flow = FlowParams(
        scopes=unified,
        native=native,
        ensure_access=ensure_access,
        auth_email=data.login if "@" in data.login else "",
    )
    if data.password:
        checked = _check_password(app, provider, data, unified, native, verify=verify, ip=ip)
        if verify:
            flow_options.check_identity(flow, checked.profile)
    elif data.access_token or data.refresh_token:
        checked = _check_tokens(app, provider, data, unified, native, flow, verify=verify)
    else:
        raise InvalidRequest(
            "Give the account's provider tokens (authString1/accessToken, "
            "authString2/refreshToken) or, for a password account, its password."
        )
    if verify and data.auth_user_id and data.auth_user_id != checked.profile.auth_user_id:
        raise InvalidRequest(
            "authUserId is not the identity the provider says these credentials belong to.",
            code=Code.ACCOUNT_MISMATCH,
        )
    return checked


def check_service_account(app: App, data: AccountImport) -> Checked:
    """Check a service (daemon) account an app imports (Aurinko's
    ``upsertServiceAccount``) without writing anything: its grant is the app's own provider
    configuration (client secret, certificate or service-account key), so the provider proves
    the organisation the body names (``authOrgId``; Google: with its administrator's
    ``email``) exactly as the end of the Service Account flow does, with an app-only token
    (:meth:`ServiceAccountProvider.import_service_account`). Always verified: there is no
    identity to take on trust."""
    provider = get_provider(data.service_type)
    if not isinstance(provider, ServiceAccountProvider) or not isinstance(provider, OAuth2Provider):
        raise UnsupportedServiceType(
            f"{provider.id} has no service accounts here (only {', '.join(service_types())})."
        )
    unified = scopes.parse_scopes(" ".join(data.scopes))
    if not unified:
        raise InvalidRequest("authScopes: name the scopes the service account is for.")
    scopes.check_allowed(unified, app.allowed_scopes)
    native = provider.native_scopes(unified)
    config = common.provider_config(app, provider)
    provider.check_daemon_config(config)
    grant = provider.import_service_account(
        config, org_id=data.auth_org_id.lower(), mailbox=data.login, native=native
    )
    profile = grant.profile
    if data.auth_user_id and data.auth_user_id.lower() != profile.auth_user_id.lower():
        raise InvalidRequest(
            "authUserId is not the organisation the provider proved.",
            code=Code.ACCOUNT_MISMATCH,
        )
    profile.name = data.name or profile.name
    return Checked(provider, profile, unified, native, grant.tokens, grant.credentials, True)


def check_managed(
    app: App, parent: Account, data: AccountImport, *, ensure_access: bool = False
) -> Checked:
    """Check a managed mailbox account (Aurinko's ``upsertManagedAccount``) of the service
    account ``parent`` without writing anything: its mailbox (``email`` or ``loginString``,
    held to the provider's rules for the service account's mailboxes), its scopes (default:
    the service account's; never more), and a token for the mailbox from the service account's
    grant, fetched as ``X-Aurinko-Mailbox`` fetches one (a dead service account answers as it
    would; Google proves the mailbox exists). ``ensure_access``: the provider's access probes
    for that mailbox must reach what the scopes name."""
    provider = get_provider(parent.service_type)
    if not isinstance(provider, ServiceAccountProvider) or not isinstance(provider, OAuth2Provider):
        raise UnsupportedServiceType(f"{provider.id} has no service accounts here.")
    if data.service_type and data.service_type != provider.id:
        raise InvalidRequest(
            f"serviceType: a managed account is of its service account's ({provider.id})."
        )
    if not data.login:
        raise InvalidRequest("email: the mailbox the managed account acts for.")
    mailbox = daemon_tokens.clean_mailbox(parent, data.login)
    granted = list(parent.scopes or [])
    unified = scopes.parse_scopes(" ".join(data.scopes)) if data.scopes else granted
    beyond = [scope for scope in unified if scope not in granted]
    if beyond:
        raise InvalidScope(f"authScopes: the service account was not granted {', '.join(beyond)}.")
    if not unified:
        raise InvalidRequest("authScopes: the service account was granted no scopes.")
    native = provider.native_scopes(unified)
    token = daemon_tokens.daemon_access_token(parent, mailbox)
    if ensure_access:
        if not provider.access_probes:
            raise InvalidRequest(f"ensureAccess is not supported for {provider.id}.")
        config = provider.resolve(common.provider_config(app, provider), account=parent)
        probes = {f: provider.mailbox_probe(p, mailbox) for f, p in provider.access_probes.items()}
        unreachable = provider.check_access(config, TokenSet(access_token=token), unified, probes)
        if unreachable:
            raise AccessUnavailable(
                f"Not reachable for {mailbox} with the service account's grant: "
                f"{', '.join(unreachable)}."
            )
    profile = Profile(
        auth_user_id=mailbox.lower(),
        email=mailbox,
        login_string=mailbox,
        name=data.name,
        auth_org_id=parent.auth_org_id,
    )
    return Checked(provider, profile, unified, native, credentials={}, parent=parent)


def service_types() -> list[str]:
    """The registered providers with service accounts."""
    return [p.id for p in all_providers() if isinstance(p, ServiceAccountProvider)]


def _check_password(
    app: App,
    provider: Provider,
    data: AccountImport,
    unified: list[str],
    native: list[str],
    *,
    verify: bool,
    ip: str | None,
) -> Checked:
    if not isinstance(provider, FormSignIn):
        raise InvalidRequest(f"{provider.id} accounts are imported with tokens, not a password.")
    # The provider's own form fields from serverUrl (IMAP: imaps://host:993), then its form
    # checks, exactly as if the user had typed them (the SSRF guard included).
    fields = provider.form_initial(data.server_url) if data.server_url else {}
    if data.server_url and not fields:
        raise InvalidRequest(f"serverUrl is not a {provider.id} server URL.")
    cleaned = provider.clean({**fields, "login": data.login, "password": data.password})
    if verify:
        signed = password.sign_in(app, provider, cleaned, ip=ip, flow=FLOW)
        return Checked(provider, signed.profile, unified, native, signed.tokens, signed.credentials)
    if not isinstance(provider, PasswordProvider):
        # Its sign-in yields the provider's tokens (SugarCRM's password grant): only a real
        # sign-in can give them.
        raise InvalidRequest(f"{provider.id} credentials can only be imported verified.")
    return Checked(provider, _given_profile(data), unified, native, credentials=cleaned)


def _check_tokens(
    app: App,
    provider: Provider,
    data: AccountImport,
    unified: list[str],
    native: list[str],
    flow: FlowParams,
    *,
    verify: bool,
) -> Checked:
    if not isinstance(provider, OAuth2Provider):
        raise InvalidRequest(f"{provider.id} accounts are imported with a password, not tokens.")
    config = common.provider_config(app, provider)
    if data.oauth_client_id and data.oauth_client_id != config.client_id:
        raise InvalidRequest(
            "oauthClientId is not the client id of the app's "
            f"{provider.id} configuration: its tokens could not be refreshed here.",
            code=Code.ACCOUNT_MISMATCH,
        )
    tokens = TokenSet(
        access_token=data.access_token,
        refresh_token=data.refresh_token,
        expires_at=data.expires_at,
    )
    if not verify:
        return Checked(provider, _given_profile(data), unified, native, tokens)
    # The configuration the account's calls will see (a per-account server, an instance),
    # from an unsaved stand-in of the account: the provider decides what serverUrl means.
    resolved = provider.resolve(
        config, account=Account(app=app, service_type=provider.id, server_url=data.server_url)
    )
    tokens, profile = provider.verify_tokens(resolved, tokens)
    profile.server_url = profile.server_url or data.server_url
    flow_options.check_outcome(flow, provider, resolved, profile, tokens)
    return Checked(provider, profile, unified, native, tokens)


def _given_profile(data: AccountImport) -> Profile:
    """The identity as the request states it (an unverified import)."""
    if not data.auth_user_id:
        raise InvalidRequest("authUserId is required when the provider is not asked.")
    return Profile(
        auth_user_id=data.auth_user_id,
        email=data.email,
        name=data.name,
        login_string=data.login,
        auth_org_id=data.auth_org_id,
        server_url=data.server_url,
    )


def save(app: App, data: AccountImport, checked: Checked) -> Saved:
    """Upsert the checked account by its provider identity and issue an account token, in
    one transaction (the account's tokens or password encrypted like every other's)."""
    profile = checked.profile
    profile.name = profile.name or data.name
    profile.auth_org_id = profile.auth_org_id or data.auth_org_id
    with transaction.atomic():
        account, created = link_account(
            app=app,
            provider=checked.provider,
            profile=profile,
            tokens=checked.tokens,
            credentials=checked.credentials,
            requested_scopes=checked.unified,
            requested_native=checked.native,
            client_org_id=data.client_org_id
            or (checked.parent.client_org_id if checked.parent else ""),
            obtained_at=data.obtained_at,
            daemon=checked.daemon,
            parent=checked.parent,
        )
        return Saved(account, AccountToken.issue(account), created)
