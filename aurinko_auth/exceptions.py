"""Domain errors. Flows raise these; views turn them into an error page, an error redirect or
JSON ``{"code", "message"}``. Each carries a stable machine ``code`` from the catalogue
(:mod:`aurinko_auth.errorcodes`) and an HTTP ``status``: the class's, which is its default
code's status unless the class says why it differs. Only the :class:`ProviderError` family may
carry a code of the provider's own vocabulary (an OAuth ``error`` such as ``invalid_grant``)."""

from __future__ import annotations

from aurinko_auth import requestids
from aurinko_auth.errorcodes import Code


class AurinkoError(Exception):
    code = Code.REQUEST_FAILED
    status = 400
    default_message = "The request could not be processed."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, status: int | None = None
    ) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        """``ApiRequestFailed``: code, message and, during a request, its ``requestId``."""
        body = {"code": str(self.code), "message": self.message}
        request_id = requestids.current()
        if request_id:
            body["requestId"] = request_id
        return body


class InvalidRequest(AurinkoError):
    code = Code.REQUEST_INVALID
    default_message = "The request is missing a parameter or has an invalid one."


class InvalidClient(AurinkoError):
    """Unknown or inactive clientId in a browser flow: a 400 page, never a redirect (the API
    answers the same code with 401, as the catalogue says, through AuthenticationFailed)."""

    code = Code.CLIENT_INVALID
    default_message = "Unknown or inactive clientId."


class InvalidReturnUrl(AurinkoError):
    """The returnUrl is not one of the app's authorized return URLs: never redirected to."""

    code = Code.RETURNURL_INVALID
    default_message = "returnUrl is not one of the app's authorized return URLs."


class UnsupportedServiceType(AurinkoError):
    code = Code.SERVICETYPE_INVALID
    default_message = "Unknown or unsupported serviceType."


class ProviderNotConfigured(AurinkoError):
    code = Code.PROVIDER_NOT_CONFIGURED
    default_message = "The app has no configuration for this provider."


class InvalidScope(AurinkoError):
    code = Code.SCOPE_INVALID
    default_message = "A requested scope is not allowed for this app."


class UnsupportedScope(AurinkoError):
    code = Code.SCOPE_UNSUPPORTED
    default_message = "The provider does not support a requested scope."


class AccessUnavailable(AurinkoError):
    """``ensureAccess``: the new grant does not reach the mailbox or calendar asked for."""

    code = Code.ACCESS_UNREACHABLE
    default_message = "The account's mailbox or calendar is not reachable with the new grant."


class AccountExists(AurinkoError):
    """``recycle=false``: the identity already has an account in the app (never duplicated)."""

    code = Code.ACCOUNT_EXISTS
    status = Code.ACCOUNT_EXISTS.status
    default_message = "This identity already has an account in this app."


class StateError(AurinkoError):
    """A pending authorization could not be resumed. ``code`` says why."""

    code = Code.STATE_INVALID
    default_message = "The authorization request is unknown or was forged."


class ProviderError(AurinkoError):
    """The provider refused or failed. ``code`` is the OAuth error where there is one."""

    code = Code.PROVIDER_ERROR
    status = 502
    default_message = "The provider returned an error."


class AccessDenied(ProviderError):
    code = Code.ACCESS_DENIED
    status = 400
    default_message = "The user or the provider denied access."


class AuthenticationFailed(AurinkoError):
    code = Code.AUTH_REQUIRED
    status = 401
    default_message = "Authentication credentials were missing or invalid."


class InvalidCode(AurinkoError):
    code = Code.CODE_INVALID
    default_message = "The code is unknown, expired or already used."


class NotFound(AurinkoError):
    code = Code.NOT_FOUND
    status = 404
    default_message = "Not found."


class MethodNotAllowed(AurinkoError):
    code = Code.METHOD_NOT_ALLOWED
    status = 405
    default_message = Code.METHOD_NOT_ALLOWED.description


class AccountInactive(AurinkoError):
    code = Code.ACCOUNT_INACTIVE
    status = 401
    default_message = "The account is inactive and must be authorized again."


class TokenDead(AccountInactive):
    """The account's provider grant is dead (refused, revoked, or never refreshable):
    Aurinko's ``token.dead``; ``tokenStatus`` is ``dead``."""

    code = Code.TOKEN_DEAD
    default_message = "The account's provider grant is dead; authorize it again."


class ProviderUnavailable(ProviderError):
    """The provider cannot be used right now (outage, its rate limit, a refresh backing off).
    ``retry_after`` (seconds) becomes the response's ``Retry-After``."""

    code = Code.PROVIDER_UNAVAILABLE
    status = 503
    default_message = "The provider is temporarily unavailable; try again later."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class RateLimited(AurinkoError):
    code = Code.RATE_LIMITED
    status = 429
    default_message = "Too many requests; slow down."

    def __init__(
        self, message: str | None = None, *, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class FlowRedirectError(Exception):
    """A browser-flow failure after the returnUrl is known: the view redirects to it with
    ``status=error``, ``error``, ``message`` and the caller's ``state``."""

    def __init__(self, error: AurinkoError, *, return_url: str, state: str | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.return_url = return_url
        self.state = state


class NotSignedIn(AurinkoError):
    """User flow: linking a secondary account needs a signed-in user (session or signature)."""

    code = Code.SESSION_REQUIRED
    status = 401
    default_message = "No user is signed in: sign in with a primary account first."


class AccountLinkedElsewhere(AurinkoError):
    """The remote identity is already linked to another user of the app: never moved."""

    code = Code.ACCOUNT_LINKED_ELSEWHERE
    status = 409
    default_message = "This account is already linked to another user of this app."


class CsrfFailed(AurinkoError):
    code = Code.CSRF_FAILED
    status = 403
    default_message = (
        "A cookie-authenticated request that changes state must come from one of "
        "the app's origins (Origin header) or carry X-Requested-With."
    )


class IdentityRefused(AurinkoError):
    """A host identity token was refused (``code`` says why: the ``identity.*`` codes)."""

    code = Code.IDENTITY_MALFORMED
    status = 401
    default_message = "The identity token was refused."
