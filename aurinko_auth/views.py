"""Browser-facing views of the flows (``/v1/auth/...``). Thin: parse, call a flow, redirect
or render. Failures before a returnUrl is trusted render a 400 page; later ones redirect to
the returnUrl with ``status=error``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from aurinko_auth import requestids, usersessions
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import AurinkoError, FlowRedirectError, StateError
from aurinko_auth.flows import account as account_flow
from aurinko_auth.flows import callback, common
from aurinko_auth.flows import daemon as daemon_flow
from aurinko_auth.flows import password as password_flow
from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows import user as user_flow
from aurinko_auth.security import origins, returnurls

logger = logging.getLogger("aurinko_auth.flows")


def error_page(request: HttpRequest, error: AurinkoError, status: int = 400) -> HttpResponse:
    logger.info("flow refused: %s", error.code)
    response = render(
        request,
        "aurinko_auth/error.html",
        {"code": error.code, "message": error.message, "request_id": requestids.current()},
        status=status,
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


class _Redirect(HttpResponseRedirect):
    # Return URLs are matched before any redirect to them (security/returnurls.py), which
    # admits extension pages for public clients; Django's own list lacks their scheme.
    allowed_schemes = [*HttpResponseRedirect.allowed_schemes, *returnurls.EXTENSION_SCHEMES]


def redirect(url: str) -> HttpResponseRedirect:
    # 303 See Other, as Aurinko's OpenAPI says for the flows (a browser treats 302 the same).
    response = _Redirect(url, status=303)
    # The URL may carry a code or token: never leak it to the next page's Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response


def error_redirect(exc: FlowRedirectError) -> HttpResponseRedirect:
    logger.info("flow failed: %s", exc.error.code)
    return redirect(
        returnurls.with_params(
            exc.return_url,
            {
                "status": "error",
                "error": exc.error.code,
                "message": exc.error.message,
                # Aurinko's sample callback pages show `details` to the user (Teams'
                # notifyFailure(details)): the same human text.
                "details": exc.error.message,
                # The id of this request in our logs (X-Aurinko-Request-Id).
                "requestId": requestids.current(),
                "state": exc.state or None,
            },
        )
    )


def browser_id(request: HttpRequest) -> tuple[str, bool]:
    """The browser id from our flow cookie, or a new one (True when it must be set)."""
    existing = request.COOKIES.get(aurinko_settings.FLOW_COOKIE_NAME, "")
    if existing.startswith("abr_") and 40 <= len(existing) <= 100:
        return existing, False
    return flow_state.new_browser_id(), True


def set_browser_cookie(request: HttpRequest, response: HttpResponse, value: str) -> None:
    samesite = aurinko_settings.FLOW_COOKIE_SAMESITE
    secure = (
        aurinko_settings.public_url.startswith("https://")
        or request.is_secure()
        or samesite == "None"
    )
    response.set_cookie(
        aurinko_settings.FLOW_COOKIE_NAME,
        value,
        max_age=30 * 24 * 3600,
        path=aurinko_settings.auth_path,
        secure=secure,
        httponly=True,
        samesite=samesite,
    )


def start_flow(request: HttpRequest, start) -> HttpResponse:  # noqa: ANN001
    bid, is_new = browser_id(request)
    try:
        started = start(bid)
    except FlowRedirectError as exc:
        return error_redirect(exc)
    except AurinkoError as exc:
        return error_page(request, exc)
    response = redirect(started.redirect_url)
    if is_new:
        set_browser_cookie(request, response, bid)
    return response


def client_info(request: HttpRequest) -> flow_state.ClientInfo:
    """The browser's user agent and address (REMOTE_ADDR: put the broker behind a proxy that
    sets it, e.g. gunicorn's --forwarded-allow-ips, to record the real client)."""
    return flow_state.ClientInfo(
        user_agent=request.META.get("HTTP_USER_AGENT", ""), ip=request.META.get("REMOTE_ADDR")
    )


def finish_flow(result: common.Completed) -> HttpResponse:
    """The response that ends a flow: a redirect to the app, with the session cookie when the
    flow signed a user in. Password forms (EWS, IMAP) end with this too."""
    response = redirect(result.redirect_url)
    if result.session_token and result.app is not None:
        usersessions.set_cookie(response, result.app, result.session_token, result.mailbox_info)
    return response


def _user_flow(request: HttpRequest, role: str) -> HttpResponse:
    req = common.AuthorizeRequest.from_query(request.GET, user_flow.EXTRA_PARAMS)
    return start_flow(
        request,
        lambda bid: user_flow.start(
            req, bid, role=role, cookies=request.COOKIES, client=client_info(request)
        ),
    )


@never_cache
@require_GET
def authorize_view(request: HttpRequest) -> HttpResponse:
    """``GET /v1/auth/authorize``: the Account flow, or the User flow with ``userAccount``
    (the Outlook add-in form)."""
    if "userAccount" in request.GET:
        return _user_flow(request, request.GET.get("userAccount", ""))
    req = common.AuthorizeRequest.from_query(request.GET)
    return start_flow(request, lambda bid: account_flow.start(req, bid))


@never_cache
@require_GET
def authorize_user_view(request: HttpRequest) -> HttpResponse:
    """``GET /v1/auth/authorizeUser``: the User flow."""
    return _user_flow(request, request.GET.get("accountRole", ""))


@never_cache
@require_GET
def authorize_daemon_view(request: HttpRequest) -> HttpResponse:
    """``GET /v1/auth/authorizeDaemon``: the Service Account flow (Office 365, Google)."""
    req = common.AuthorizeRequest.from_query(request.GET, extra_names=("tenant",))
    return start_flow(request, lambda bid: daemon_flow.start(req, bid))


@never_cache
@require_GET
def callback_view(request: HttpRequest) -> HttpResponse:
    """``GET /v1/auth/callback``: the provider's redirect back, for every flow."""
    bid = request.COOKIES.get(aurinko_settings.FLOW_COOKIE_NAME)
    try:
        result = callback.handle_callback(request.GET, bid)
    except FlowRedirectError as exc:
        return error_redirect(exc)
    except AurinkoError as exc:
        return error_page(request, exc)
    return finish_flow(result)


@sensitive_post_parameters("password")
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest, state: str) -> HttpResponse:
    """``/v1/auth/password/{state}``: our hosted sign-in form for password providers."""
    bid = request.COOKIES.get(aurinko_settings.FLOW_COOKIE_NAME)
    try:
        pending, provider = password_flow.pending_form(state, bid)
    except AurinkoError as exc:
        return error_page(request, exc)
    error, status, retry_after = None, 200, None
    values = password_flow.initial_values(pending, provider)
    if request.method == "POST":
        try:
            return finish_flow(
                callback.submit_form(state, bid, request.POST, ip=client_info(request).ip)
            )
        except FlowRedirectError as exc:
            return error_redirect(exc)
        except StateError as exc:
            return error_page(request, exc)
        except AurinkoError as exc:
            logger.info("password sign-in refused: %s", exc.code)
            error, status = exc.message, (429 if exc.status == 429 else 400)
            values = {
                k: request.POST.get(k, "")[:2048] for k in provider.form_fields if k != "password"
            }
            retry_after = getattr(exc, "retry_after", None)
    response = render(
        request,
        "aurinko_auth/password_form.html",
        {
            "provider": provider,
            "error": error,
            "values": values,
            "app_name": pending.app.name,
        },
        status=status,
    )
    if status == 429 and retry_after:
        response["Retry-After"] = str(retry_after)
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on the
    # POST and Django's CSRF check refuses it; the state never leaves our origin either way.
    response["Referrer-Policy"] = "same-origin"
    return response


DONE_FIELDS = ("status", "error", "message", "details", "state", "code")


@never_cache
@require_GET
def done_view(request: HttpRequest) -> HttpResponse:
    """``GET /v1/auth/done``: where a prepared sign-in without returnUrl ends (Aurinko's add-in
    popup): the outcome is posted to ``window.opener``, to the app's own origins only."""
    try:
        app = common.resolve_app(request.GET.get("clientId", ""))
    except AurinkoError as exc:
        return error_page(request, exc)
    outcome = {k: request.GET[k] for k in DONE_FIELDS if request.GET.get(k)}
    response = render(
        request,
        "aurinko_auth/done.html",
        {"outcome": outcome, "origins": sorted(origins.app_origins(app))},
    )
    response["Referrer-Policy"] = "no-referrer"
    return response
