"""Domain errors. Flows raise these; views turn them into an error page, an error redirect or
JSON ``{"code", "message"}``. Each carries a stable machine ``code`` and an HTTP ``status``."""

from __future__ import annotations


class AurinkoError(Exception):
    code = "error"
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
        return {"code": self.code, "message": self.message}


class InvalidRequest(AurinkoError):
    code = "invalid_request"
    default_message = "The request is missing a parameter or has an invalid one."


class InvalidClient(AurinkoError):
    """Unknown or inactive clientId: a 400 page in browser flows, never a redirect."""

    code = "client.invalid"
    default_message = "Unknown or inactive clientId."


class InvalidReturnUrl(AurinkoError):
    """The returnUrl is not one of the app's authorized return URLs: never redirected to."""

    code = "returnurl.invalid"
    default_message = "returnUrl is not one of the app's authorized return URLs."


class UnsupportedServiceType(AurinkoError):
    code = "servicetype.invalid"
    default_message = "Unknown or unsupported serviceType."


class ProviderNotConfigured(AurinkoError):
    code = "provider.not_configured"
    default_message = "The app has no configuration for this provider."


class InvalidScope(AurinkoError):
    code = "scope.invalid"
    default_message = "A requested scope is not allowed for this app."


class UnsupportedScope(AurinkoError):
    code = "unsupported_scope"
    default_message = "The provider does not support a requested scope."


class StateError(AurinkoError):
    """A pending authorization could not be resumed. ``code`` says why."""

    code = "state.invalid"
    default_message = "The authorization request is unknown or was forged."


class ProviderError(AurinkoError):
    """The provider refused or failed. ``code`` is the OAuth error where there is one."""

    code = "provider_error"
    status = 502
    default_message = "The provider returned an error."


class AccessDenied(ProviderError):
    code = "access_denied"
    status = 400
    default_message = "The user or the provider denied access."


class AuthenticationFailed(AurinkoError):
    code = "unauthorized"
    status = 401
    default_message = "Authentication credentials were missing or invalid."


class InvalidCode(AurinkoError):
    code = "code.invalid"
    default_message = "The code is unknown, expired or already used."


class NotFound(AurinkoError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class AccountInactive(AurinkoError):
    code = "account_inactive"
    status = 401
    default_message = "The account is inactive and must be authorized again."


class ProviderUnavailable(ProviderError):
    """The provider cannot be used right now (outage, its rate limit, a refresh backing off).
    ``retry_after`` (seconds) becomes the response's ``Retry-After``."""

    code = "provider_unavailable"
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
    code = "rate_limited"
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

    code = "not_signed_in"
    status = 401
    default_message = "No user is signed in: sign in with a primary account first."


class AccountLinkedElsewhere(AurinkoError):
    """The remote identity is already linked to another user of the app: never moved."""

    code = "account_linked_elsewhere"
    status = 409
    default_message = "This account is already linked to another user of this app."


class CsrfFailed(AurinkoError):
    code = "csrf_failed"
    status = 403
    default_message = (
        "A cookie-authenticated request that changes state must come from one of "
        "the app's origins (Origin header) or carry X-Requested-With."
    )
