"""Office 365 service accounts: admin consent, then the client credentials grant.

``GET /v1/auth/authorizeDaemon`` sends the admin to Microsoft's admin-consent endpoint
(``adminconsent``, tenant from the request's ``tenant``, default the configured tenant or
``organizations``); the callback names the consented tenant, and an app-only Microsoft Graph
token for it (client credentials, scope ``https://graph.microsoft.com/.default``) proves the
consent: it is asked for the tenant the consent was asked for (a domain name resolves there),
and its ``tid`` claim must be the callback's tenant.
One token serves every mailbox of the tenant; there is no refresh token.

For ``organizations`` no tenant is known in advance, and the consent callback's ``tenant`` is
only a claim of the redirect. So the admin first signs in with OpenID Connect on the
``organizations`` authority (authorization code with PKCE and a nonce, scopes ``openid
profile``), as Microsoft advises for multi-tenant admin consent: the verified ID token's
``tid`` is the tenant and its ``wids`` must hold a role that can consent
(``office365_tenants.CONSENT_ROLES``).
The admin is then sent to ``/{tid}/v2.0/adminconsent`` of that proven tenant, and its
callback must name exactly that tenant, like the app-only token's ``tid``.

The app authenticates with its client secret or, when the configuration holds a certificate
credential (``service_account_key``: a PEM file with the private key and the certificate
registered in the app registration), with a client assertion signed by that key (RFC 7523,
``private_key_jwt``; Microsoft's "certificate credentials"). The certificate wins over a
secret when both are stored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oauthlib.common import add_params_to_uri
from oauthlib.oauth2 import BackendApplicationClient

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AccessDenied, InvalidRequest, ProviderError
from aurinko_auth.providers.base import Profile, TokenSet
from aurinko_auth.providers.office365_tenants import (
    clean_tenant,
    is_domain,
    is_tenant_id,
    signed_in_tenant,
    token_tenant,
)
from aurinko_auth.providers.service_accounts import (
    CLIENT_ASSERTION_TYPE,
    CertificateCredential,
    DaemonGrant,
    IdTokenRules,
    InvalidServiceAccountKey,
    ServiceAccountProvider,
    not_configured,
    parse_certificate_credential,
)
from aurinko_auth.security.oauth_transport import OAuth2Session

if TYPE_CHECKING:
    from aurinko_auth.models import Account, ProviderConfig

logger = logging.getLogger("aurinko_auth.daemon")

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
# The admin's sign-in before an ``organizations`` consent asks for identity only.
SIGN_IN_SCOPES = ("openid", "profile")
# Microsoft's issuer of v2.0 ID tokens; ``{tid}`` is the token's tenant.
ID_TOKEN_ISSUER = "https://login.microsoftonline.com/{tid}/v2.0"


class Office365ServiceAccounts(ServiceAccountProvider):
    """Mixed into :class:`~aurinko_auth.providers.office365.Office365Provider`."""

    admin_signs_in = False
    token_per_mailbox = False
    # The certificate credential (private key + certificate), instead of a client secret.
    takes_service_account_key = True

    def check_daemon_config(self, config: ProviderConfig) -> None:
        if not config.client_id or not (config.client_secret or config.service_account_key):
            raise not_configured(
                "Office 365 service accounts need the app's OAuth client id and a client "
                "secret or a certificate (client credentials)."
            )
        if config.service_account_key:
            certificate_of(config)

    def parse_service_account_key(self, text: str) -> CertificateCredential:
        return parse_certificate_credential(text)

    def describe_service_account_key(self, text: str) -> str:
        try:
            return parse_certificate_credential(text).describe()
        except InvalidServiceAccountKey:
            return ""

    def daemon_consent(self, config: ProviderConfig, extra: Mapping[str, str]) -> dict[str, str]:
        requested = extra.get("tenant", "")
        if requested:
            return {"tenant": clean_tenant(requested)}
        configured = (config.tenant or "").lower()
        # A single-tenant app registration names its tenant; "common" cannot consent.
        if configured and configured not in ("common", "consumers"):
            return {"tenant": clean_tenant(configured)}
        return {"tenant": "organizations"}

    def daemon_consent_url(
        self, config: ProviderConfig, consent: Mapping[str, str], *, state: str, redirect_uri: str
    ) -> str:
        provider: Any = self
        url = provider.endpoint("adminconsent", config, tenant=consent["tenant"])
        return add_params_to_uri(
            url,
            [
                ("client_id", config.client_id),
                ("scope", GRAPH_DEFAULT_SCOPE),
                ("redirect_uri", redirect_uri),
                ("state", state),
            ],
        )

    def complete_daemon_consent(
        self, config: ProviderConfig, consent: Mapping[str, str], query: Mapping[str, str]
    ) -> DaemonGrant:
        error = query.get("error")
        if error:
            if error == "access_denied":
                raise AccessDenied("The administrator declined the consent.")
            raise ProviderError(
                f"Microsoft returned an error: {error[:64]}.", code=error[:64], status=400
            )
        if (query.get("admin_consent") or "").lower() != "true":
            raise AccessDenied(
                "Microsoft did not confirm the admin consent.", code=Code.ADMIN_CONSENT_MISSING
            )
        tenant = (query.get("tenant") or "").strip().lower()
        if not is_tenant_id(tenant):
            raise InvalidRequest("Microsoft returned no tenant id.", code=Code.TENANT_INVALID)
        requested = consent.get("tenant", "organizations")
        if not is_tenant_id(requested) and not is_domain(requested):
            # "organizations" names no tenant: only the admin's sign-in proves one (a state
            # from before that step existed, or any path around it, ends here).
            raise InvalidRequest(
                "The consent names no tenant the administrator's sign-in proved.",
                code=Code.TENANT_UNPROVEN,
            )
        if is_tenant_id(requested) and requested != tenant:
            raise InvalidRequest(
                "The consent was given for another tenant than the one asked"
                + (
                    " (the one the administrator signed in to)."
                    if consent.get("proven_tenant")
                    else "."
                ),
                code=Code.TENANT_MISMATCH,
            )
        # The redirect's tenant is only a claim. The app-only token is asked for the tenant the
        # consent was asked for (a domain name resolves there; after the admin's sign-in, the
        # proven tenant id); the tenant Microsoft issued it in (its tid) must be the claimed one.
        tokens = self.client_credentials_token(config, requested)
        proven = token_tenant(tokens.access_token)
        if proven != tenant:
            logger.warning("Office 365 admin consent refused: app-only token tid mismatch")
            raise InvalidRequest(
                "Microsoft issued the app-only token in another tenant than the consent named."
                if proven
                else "Microsoft's app-only token names no tenant (tid): the consent is unproven.",
                code=Code.TENANT_MISMATCH,
            )
        return tenant_grant(tenant, tokens)

    def import_service_account(
        self, config: ProviderConfig, *, org_id: str, mailbox: str, native: list[str]
    ) -> DaemonGrant:
        """The tenant (``authOrgId``: its id or a verified domain; default the configured
        tenant when it names one) consented to the app if an app-only token for it is
        issued, in that tenant (its ``tid``)."""
        if mailbox:
            raise InvalidRequest(
                "email, loginString: an Office 365 service account is the tenant's, not a "
                "mailbox's; leave them out (a mailbox is a managed account: "
                "POST /v1/am/svc_accounts/{id}/accounts).",
            )
        configured = (config.tenant or "").lower()
        if not org_id and configured not in ("", "common", "consumers", "organizations"):
            org_id = configured
        if not org_id:
            raise InvalidRequest(
                "authOrgId: name the tenant (its id or a verified domain name).",
                code=Code.TENANT_INVALID,
            )
        requested = clean_tenant(org_id)
        if requested == "organizations":
            raise InvalidRequest(
                "authOrgId: 'organizations' is no tenant; name the tenant id or a domain name.",
                code=Code.TENANT_INVALID,
            )
        tokens = self.client_credentials_token(config, requested)
        proven = token_tenant(tokens.access_token)
        if not proven or (is_tenant_id(requested) and proven != requested):
            logger.warning("Office 365 service account import refused: app-only token tid")
            raise InvalidRequest(
                "Microsoft issued the app-only token in another tenant than authOrgId."
                if proven
                else "Microsoft's app-only token names no tenant (tid): the consent is unproven.",
                code=Code.TENANT_MISMATCH,
            )
        return tenant_grant(proven, tokens)

    # --- the admin's OpenID sign-in for "organizations" --------------------------------------
    def daemon_sign_in_first(self, consent: Mapping[str, str]) -> bool:
        return consent.get("tenant") == "organizations" and not consent.get("proven_tenant")

    def daemon_sign_in_url(
        self,
        config: ProviderConfig,
        consent: Mapping[str, str],
        *,
        state: str,
        redirect_uri: str,
        code_challenge: str,
        nonce: str,
    ) -> str:
        provider: Any = self
        session = provider.oauth_session(
            config, scope=list(SIGN_IN_SCOPES), state=state, redirect_uri=redirect_uri
        )
        url, _ = session.authorization_url(
            provider.endpoint("authorize", config, tenant=consent["tenant"]),
            code_challenge=code_challenge,
            code_challenge_method="S256",
            nonce=nonce,
            # The admin picks the account that administers the tenant, not whichever is open.
            prompt="select_account",
        )
        return url

    def redeem_daemon_sign_in(
        self,
        config: ProviderConfig,
        consent: Mapping[str, str],
        query: Mapping[str, str],
        *,
        redirect_uri: str,
        code_verifier: str,
    ) -> TokenSet:
        provider: Any = self
        provider.check_issuer(config, query.get("iss"))
        error = query.get("error")
        if error:
            if error == "access_denied":
                raise AccessDenied("The administrator did not sign in.")
            raise ProviderError(
                f"Microsoft returned an error: {error[:64]}.", code=error[:64], status=400
            )
        code = query.get("code")
        if not code:
            # The answer of a consent page where the sign-in belongs: its tenant is a claim.
            raise InvalidRequest(
                "The administrator's sign-in is missing: a consent callback cannot name the "
                "tenant of an 'organizations' authorization; start again from the app.",
                code=Code.TENANT_UNPROVEN,
            )
        if len(code) > 4096:
            raise InvalidRequest("The provider returned no usable code.")
        url = provider.endpoint("token", config, tenant=consent["tenant"])
        session = provider.http_session(
            url, provider.oauth_session(config, redirect_uri=redirect_uri)
        )
        kwargs = {
            "code": code,
            "code_verifier": code_verifier,
            "include_client_id": True,
            "timeout": provider.timeout(),
            **self.client_authentication(config, url),
        }
        return provider.parse_token(
            provider.call("token exchange", lambda: session.fetch_token(url, **kwargs))
        )

    def daemon_id_token_rules(self, config: ProviderConfig) -> IdTokenRules:
        provider: Any = self
        overrides = config.endpoints or {}
        return IdTokenRules(
            jwks_url=provider.endpoint("jwks", config),
            issuer=overrides.get("issuer") or ID_TOKEN_ISSUER,
            audience=config.client_id,
        )

    def daemon_signed_in(self, config: ProviderConfig, claims: Mapping[str, Any]) -> dict[str, str]:
        tid = signed_in_tenant(claims)
        return {"tenant": tid, "proven_tenant": tid}

    def service_account_token(
        self, config: ProviderConfig, account: Account, mailbox: str | None
    ) -> TokenSet:
        return self.client_credentials_token(config, account.auth_org_id)

    def client_credentials_token(self, config: ProviderConfig, tenant: str) -> TokenSet:
        """An app-only Microsoft Graph token for ``tenant`` (client credentials grant),
        the app authenticated by its certificate when one is stored, else by its secret."""
        self.check_daemon_config(config)
        if not is_tenant_id(tenant) and not is_domain(tenant or ""):
            raise InvalidRequest(
                "Client credentials need a concrete tenant.", code=Code.TENANT_INVALID
            )
        provider: Any = self
        url = provider.endpoint("token", config, tenant=tenant)
        session = OAuth2Session(client=BackendApplicationClient(client_id=config.client_id))
        return self.fetch_app_token(
            session,
            url,
            client_id=config.client_id,
            include_client_id=True,
            scope=[GRAPH_DEFAULT_SCOPE],
            **self.client_authentication(config, url),
        )

    def client_authentication(self, config: ProviderConfig, url: str) -> dict[str, str]:
        """How the app authenticates at the token endpoint ``url``: a client assertion signed
        with its certificate when one is stored, else its secret (token request parameters)."""
        if config.service_account_key:
            return {
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": certificate_of(config).client_assertion(config.client_id, url),
            }
        return {"client_secret": config.client_secret}


def tenant_grant(tenant: str, tokens: TokenSet) -> DaemonGrant:
    """The daemon account of a proven ``tenant`` and its first app-only ``tokens``."""
    profile = Profile(
        auth_user_id=tenant,
        auth_org_id=tenant,
        login_string=tenant,
        name=f"Microsoft 365 tenant {tenant}",
    )
    return DaemonGrant(profile, {**tokens.credentials(), "tenant": tenant}, tokens)


def certificate_of(config: ProviderConfig) -> CertificateCredential:
    """The configuration's stored certificate credential; a stored one that no longer loads
    (expired) is a configuration problem, said before any redirect."""
    try:
        return parse_certificate_credential(config.service_account_key)
    except InvalidServiceAccountKey as exc:
        raise not_configured(
            f"The app's Office 365 certificate cannot be used: {exc.message}"
        ) from None
