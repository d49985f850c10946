"""The catalogue of every error code the broker emits: in API errors (``{"code", "message"}``),
in error redirects (``error=``), on error pages and in the audit log.

One style, Aurinko's: ``<subject>.<condition>`` in lower case (``token.invalid``,
``returnurl.invalid``, ``state.browser_mismatch``). Each code carries the HTTP status it is
answered with on the API; an exception class may answer differently in its own context (an
unknown ``clientId`` is a 400 page in a browser flow and a 401 on the API) and says so.

Codes a provider sends us (OAuth's ``invalid_grant``, a provider's ``BAD_REFRESH_TOKEN``) are
the provider's vocabulary, not ours: they pass through :class:`~aurinko_auth.exceptions.ProviderError`
unchanged so an app sees what the provider said. ``docs/errors.md`` lists this catalogue; a
test keeps the two in step and checks that the package raises no code outside it.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """An error code (a ``str``: it compares, serializes and URL-encodes as its value)."""

    status: int
    description: str

    def __new__(cls, value: str, status: int, description: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.description = description
        return member

    # --- requests ---------------------------------------------------------------------------
    REQUEST_FAILED = "request.failed", 400, "The request could not be processed."
    REQUEST_INVALID = "request.invalid", 400, "A parameter is missing or invalid."
    REQUEST_MALFORMED = "request.malformed", 400, "The body is not readable JSON or form data."
    MEDIA_TYPE_UNSUPPORTED = (
        "request.unsupported_media_type",
        415,
        "The body's Content-Type is not one the endpoint reads (JSON, form data).",
    )
    NOT_ACCEPTABLE = "request.not_acceptable", 406, "The Accept header excludes JSON."
    FORBIDDEN = "access.forbidden", 403, "The credentials do not allow this request."
    NOT_FOUND = "resource.not_found", 404, "No such resource (or not one of the caller's)."
    METHOD_NOT_ALLOWED = "method.not_allowed", 405, "The endpoint does not take this method."
    RATE_LIMITED = "rate.limited", 429, "Too many requests; Retry-After says when to retry."
    CSRF_FAILED = "csrf.failed", 403, "A cookie-authenticated change came from no app origin."
    ORIGIN_NOT_ALLOWED = "origin.not_allowed", 403, "The Origin is not one of the app's."
    # --- apps and callers -------------------------------------------------------------------
    CLIENT_INVALID = "client.invalid", 401, "Unknown clientId or wrong client secret."
    CLIENT_INACTIVE = "client.inactive", 401, "The app is disabled."
    AUTH_REQUIRED = "auth.required", 401, "Credentials are missing or invalid."
    RETURNURL_INVALID = "returnurl.invalid", 400, "returnUrl is not an authorized return URL."
    SERVICETYPE_INVALID = "servicetype.invalid", 400, "Unknown or unsupported serviceType."
    SCOPE_INVALID = "scope.invalid", 400, "A scope is not allowed for the app."
    SCOPE_UNSUPPORTED = "scope.unsupported", 400, "The provider cannot serve a unified scope."
    SCOPE_NOT_GRANTED = "scope.not_granted", 400, "ensureScopes: the provider granted less."
    # --- pending authorizations and codes ---------------------------------------------------
    STATE_INVALID = "state.invalid", 400, "Unknown or forged state."
    STATE_MISSING = "state.missing", 400, "The provider returned no state."
    STATE_EXPIRED = "state.expired", 400, "The authorization took too long."
    STATE_USED = "state.used", 400, "The authorization was already completed."
    STATE_BROWSER_MISMATCH = "state.browser_mismatch", 400, "Started in another browser."
    STATE_ISSUER_MISMATCH = (
        "state.issuer_mismatch",
        400,
        "The callback's iss is not the provider the flow went to.",
    )
    CODE_INVALID = "code.invalid", 400, "The code is unknown, expired, used or another app's."
    # --- public clients (PKCE, RFC 7636) and responseType=token -----------------------------
    PKCE_REQUIRED = "pkce.required", 400, "A public client's flow needs code_challenge (S256)."
    PKCE_METHOD_UNSUPPORTED = "pkce.method_unsupported", 400, "code_challenge_method not S256."
    PKCE_CHALLENGE_INVALID = "pkce.challenge_invalid", 400, "code_challenge is malformed."
    PKCE_VERIFIER_INVALID = (
        "pkce.verifier_invalid",
        400,
        "code_verifier is missing or does not match the challenge; the code is used up.",
    )
    CLIENT_SECRET_REQUIRED = (
        "client.secret_required",
        401,
        "The app is not a public client: redeeming a code needs its client secret.",
    )
    RESPONSETYPE_TOKEN_DISABLED = (
        "responsetype.token_disabled",
        400,
        "responseType=token is off for the app (an opt-in; use a code).",
    )
    RESPONSETYPE_TOKEN_UNTRUSTED = (
        "responsetype.token_untrusted",
        400,
        "responseType=token goes only to a return URL on one of the app's trusted domains.",
    )
    # --- accounts, tokens, sessions ---------------------------------------------------------
    TOKEN_INVALID = "token.invalid", 401, "Unknown, expired or revoked account token."
    TOKEN_NO_REFRESH = "token.no_refresh_token", 401, "The provider issued no refresh token."
    ACCOUNT_INACTIVE = "account.inactive", 401, "The account must be authorized again."
    TOKEN_DEAD = "token.dead", 401, "The account's provider grant is dead: authorize it again."
    ACCOUNT_MISMATCH = "account.mismatch", 400, "Another identity signed in than asked for."
    ACCOUNT_EXISTS = "account.exists", 409, "recycle=false, and the identity has an account."
    ACCOUNT_MISSING = "account.missing", 400, "No such account of the signed-in user."
    ACCOUNT_PRIMARY = "account.primary", 400, "The primary account cannot be unlinked so."
    ACCOUNT_COPY_UNSUPPORTED = (
        "account.copy_unsupported",
        400,
        "Accounts are not copied as managed ones: create it under its service account.",
    )
    USER_SETTINGS_UNSUPPORTED = (
        "user.settings_unsupported",
        400,
        "No user settings (work hours) are kept here.",
    )
    ACCOUNT_NOT_DAEMON = "account.not_daemon", 400, "The account is not a service account."
    ACCOUNT_LINKED_ELSEWHERE = (
        "account.linked_elsewhere",
        409,
        "The identity is linked to another user of the app.",
    )
    SESSION_REQUIRED = "session.required", 401, "No user is signed in."
    SESSION_INVALID = "session.invalid", 401, "The session is unknown, ended or expired."
    SESSION_REVOKED = "session.revoked", 401, "The session was ended (logout, revocation)."
    SESSION_EXPIRED = "session.expired", 401, "The session expired (idle or absolute lifetime)."
    SESSION_AMBIGUOUS = "session.ambiguous", 400, "Several apps' session cookies, no clientId."
    USER_INVALID = "user.invalid", 400, "No such user of this app."
    SIGNATURE_INVALID = "signature.invalid", 401, "userSignature does not verify."
    SIGNATURE_EXPIRED = "signature.expired", 401, "userSignature's timestamp is too old."
    SIGNATURE_UNAVAILABLE = "signature.unavailable", 401, "The app cannot verify signatures."
    # --- host identity tokens (docs/add-ins.md) ---------------------------------------------
    IDENTITY_UNTRUSTED = "identity.untrusted", 401, "The app trusts no identity token of this type."
    IDENTITY_MALFORMED = "identity.malformed", 401, "The identity token is not a readable JWT."
    IDENTITY_TOO_LARGE = "identity.too_large", 401, "The identity token is too large."
    IDENTITY_ALGORITHM = "identity.algorithm", 401, "The identity token is not signed with RS256."
    IDENTITY_KEY_UNKNOWN = "identity.key_unknown", 401, "The issuer has no key of the token's kid."
    IDENTITY_SIGNATURE = "identity.signature", 401, "The identity token's signature is invalid."
    IDENTITY_EXPIRED = "identity.expired", 401, "The identity token has expired."
    IDENTITY_NOT_YET_VALID = "identity.not_yet_valid", 401, "The identity token is not valid yet."
    IDENTITY_AUDIENCE = "identity.audience", 401, "The identity token is for another audience."
    IDENTITY_ISSUER = "identity.issuer", 401, "The identity token is from another issuer."
    IDENTITY_TENANT = "identity.tenant", 401, "The identity token's tenant is not allowed."
    IDENTITY_NONCE = "identity.nonce", 401, "The ID token's nonce is not this sign-in's."
    IDENTITY_PREPARED_INVALID = (
        "identity.prepared_invalid",
        401,
        "The prepare token is unknown, expired, used or another app's.",
    )
    IDENTITY_MISMATCH = (
        "identity.mismatch",
        400,
        "The account that signed in belongs to another user than the host identity's.",
    )
    IDENTITY_UNKNOWN_USER = (
        "identity.unknown_user",
        400,
        "No user has signed in with this host identity yet (a secondary needs one).",
    )
    IDENTITY_KEYS_UNAVAILABLE = (
        "identity.keys_unavailable",
        503,
        "The issuer's keys could not be fetched; nothing is accepted until they can.",
    )
    # --- providers --------------------------------------------------------------------------
    PROVIDER_ERROR = "provider.error", 502, "The provider returned an error."
    PROVIDER_NOT_CONFIGURED = "provider.not_configured", 400, "No configuration for it."
    PROVIDER_MISCONFIGURED = "provider.misconfigured", 400, "Wrong endpoint, tenant or region."
    PROVIDER_APP_MISCONFIGURED = (
        "provider.app_misconfigured",
        400,
        "The provider refused the app's own credentials.",
    )
    PROVIDER_UNAVAILABLE = "provider.unavailable", 503, "The provider is unavailable for now."
    PROVIDER_TIMEOUT = "provider.timeout", 504, "The provider did not answer in time."
    PROVIDER_UNREACHABLE = "provider.unreachable", 502, "The provider could not be reached."
    PROVIDER_BAD_RESPONSE = "provider.bad_response", 502, "The provider's answer was unreadable."
    ENDPOINT_MISSING = "endpoint.missing", 400, "The provider has no such endpoint."
    ACCESS_DENIED = "access.denied", 400, "The user or the provider denied access."
    ACCESS_UNREACHABLE = (
        "access.unreachable",
        400,
        "ensureAccess: the mailbox or calendar is not reachable with the grant.",
    )
    REFRESH_BUSY = "refresh.busy", 503, "Another worker is refreshing the token; retry."
    # --- service accounts -------------------------------------------------------------------
    DAEMON_NOT_CONFIGURED = "daemon.not_configured", 400, "No service-account configuration."
    DAEMON_NOT_WORKSPACE = "daemon.not_workspace", 400, "Not a Google Workspace administrator."
    DAEMON_DELEGATION_FAILED = "daemon.delegation_failed", 400, "Delegation was refused."
    ADMIN_CONSENT_MISSING = "admin_consent.missing", 400, "The administrator did not consent."
    TENANT_INVALID = "tenant.invalid", 400, "Not a tenant id or domain."
    TENANT_MISMATCH = "tenant.mismatch", 400, "Consent came from another tenant."
    TENANT_UNPROVEN = (
        "tenant.unproven",
        400,
        "No administrator's sign-in proved the tenant of the consent.",
    )
    DAEMON_NOT_ADMIN = (
        "daemon.not_admin",
        400,
        "The signed-in user is not an administrator who can consent.",
    )
    SERVICE_ACCOUNT_KEY_INVALID = (
        "service_account_key.invalid",
        400,
        "Not a usable service-account key or certificate.",
    )
    MAILBOX_INVALID = "mailbox.invalid", 400, "X-Aurinko-Mailbox is not a mailbox address."
    MAILBOX_NOT_DAEMON = "mailbox.not_daemon", 400, "X-Aurinko-Mailbox needs a service account."
    MAILBOX_OUTSIDE_DOMAIN = "mailbox.outside_domain", 400, "The mailbox is in another domain."
    MAILBOX_UNKNOWN = "mailbox.unknown", 400, "The provider knows no such mailbox."
    # --- password sign-in and user-named servers --------------------------------------------
    CREDENTIALS_INVALID = "credentials.invalid", 400, "The server refused the login."
    SERVER_UNREACHABLE = "server.unreachable", 400, "The server could not be reached."
    SERVER_TIMEOUT = "server.timeout", 400, "The server did not answer in time."
    SERVER_TLS_FAILED = "server.tls_failed", 400, "No trusted TLS connection to the server."
    SERVER_NO_STARTTLS = "server.no_starttls", 400, "The IMAP server offers no STARTTLS."
    SERVER_AUTH_PLAIN = "server.auth_plain", 400, "The server refused SASL PLAIN."
    SERVER_AUTH_UNSUPPORTED = "server.auth_unsupported", 400, "No NTLM or Basic offered."
    SERVER_NOT_IMAP = "server.not_imap", 400, "Not an IMAP server."
    SERVER_NOT_EWS = "server.not_ews", 400, "Not an EWS endpoint."
    SERVER_AUTODISCOVER_FAILED = "server.autodiscover_failed", 400, "Autodiscover found no EWS."
    SERVER_EXCHANGE_ONLINE = "server.exchange_online", 400, "Exchange Online takes no password."
    HOST_INVALID = "host.invalid", 400, "Not a valid host name."
    HOST_DNS_ERROR = "host.dns_error", 400, "The host name does not resolve."
    HOST_PRIVATE_ADDRESS = "host.private_address", 400, "The host resolves to a private address."
    HOST_UNSUPPORTED_URL = "host.unsupported_url", 400, "Only http(s) URLs with a host."
    HOST_UNPINNED = "host.unpinned", 400, "A connection went to a host that was not checked."
    # --- the Direct API ---------------------------------------------------------------------
    DIRECT_INVALID_PATH = "direct.invalid_path", 400, "The path is not a provider API path."
    DIRECT_UNSUPPORTED = "direct.unsupported", 400, "This account has no Direct API."
    DIRECT_OUTSIDE_MAILBOX = (
        "direct.outside_mailbox",
        403,
        "A managed account's calls stay in its own mailbox.",
    )
    DIRECT_REQUEST_TOO_LARGE = "direct.request_too_large", 413, "The request body is too large."
    DIRECT_RESPONSE_TOO_LARGE = "direct.response_too_large", 502, "The answer was too large."
    DIRECT_LENGTH_REQUIRED = (
        "direct.length_required",
        411,
        "A chunked body needs a server that ends it; send Content-Length.",
    )
