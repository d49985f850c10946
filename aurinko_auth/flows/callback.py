"""The provider's redirect back (``/v1/auth/callback``): resume the pending authorization and
hand it to its flow's completion. The one module that imports every flow."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aurinko_auth import audit
from aurinko_auth.exceptions import AurinkoError
from aurinko_auth.flows import account, common, daemon, password, user
from aurinko_auth.flows import state as flow_state
from aurinko_auth.flows.common import Completed
from aurinko_auth.models import AuthState, FlowKind
from aurinko_auth.providers.forms import FormSignIn, SignedIn


def completion_for(kind: str) -> Callable[[AuthState, Mapping[str, str], str], Completed]:
    """The completion function of each flow kind, listed explicitly."""
    handlers = {
        FlowKind.ACCOUNT: account.complete,
        FlowKind.USER: user.complete,
        FlowKind.DAEMON: daemon.complete,
    }
    return handlers[kind]


def handle_callback(query: Mapping[str, str], browser_id: str | None) -> Completed:
    """Resume the pending authorization named by ``state`` and return where to send the
    browser. StateError (no returnUrl known) propagates; anything later becomes a
    FlowRedirectError to the app's returnUrl."""
    pending = flow_state.consume(query.get("state"), browser_id)
    wrap = common.error_wrap(pending)
    try:
        return completion_for(pending.kind)(pending, query, browser_id or "")
    except AurinkoError as exc:
        # The failed sign-in stays in the app's audit log (its writes were rolled back).
        audit.record(
            audit.Event.AUTH_FAILED,
            app=pending.app_id,
            error=exc.code,
            serviceType=pending.service_type,
            flow=pending.kind,
        )
        raise wrap(exc) from None


def complete_signed_in(pending: AuthState, provider: FormSignIn, signed: SignedIn) -> Completed:
    """A password form's successful sign-in, handed to its flow's ``complete_linked``."""
    linked = {FlowKind.ACCOUNT: account.complete_linked, FlowKind.USER: user.complete_linked}
    return linked[pending.kind](
        pending,
        provider=provider,
        profile=signed.profile,
        tokens=signed.tokens,
        credentials=signed.credentials,
    )


def submit_form(
    state: str, browser_id: str | None, data: Mapping[str, str], *, ip: str | None = None
) -> Completed:
    """The POST of our hosted sign-in form (``/v1/auth/password/{state}``): see
    :func:`aurinko_auth.flows.password.submit`."""
    return password.submit(state, browser_id, data, complete=complete_signed_in, ip=ip)
