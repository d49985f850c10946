"""aurinko_auth's data model.

App ─┬─ AppMembership ── auth user (app owners and team)
     ├─ ProviderConfig (one per service type: the owner's OAuth client at that provider)
     ├─ Account ── AccountToken (our opaque bearer tokens, stored hashed)
     ├─ AppUser (User flow) ─┬─ Account.user (one primary, any number of secondary)
     │                       └─ UserSession (cookie or X-Aurinko-Session, stored hashed)
     ├─ IdentityTrust (host identity tokens the app accepts: Entra, Google, Exchange)
     ├─ AuthState (a pending authorization: single use, expiring, bound to one browser)
     └─ AuthCode (one-time code a client app redeems for an account token)
"""

from aurinko_auth.models.accounts import Account, AccountToken, TokenStatus
from aurinko_auth.models.apps import App, AppMembership, ProviderConfig, generate_client_id
from aurinko_auth.models.audit import AuditEvent
from aurinko_auth.models.flows import AuthCode, AuthState, FlowKind
from aurinko_auth.models.identity import (
    HostIdentity,
    IdentityTokenType,
    IdentityTrust,
    PreparedAuth,
)
from aurinko_auth.models.users import AppUser, UserSession
from aurinko_auth.models.webhooks import OutboxEvent, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "AccountToken",
    "App",
    "AppMembership",
    "AppUser",
    "AuditEvent",
    "AuthCode",
    "AuthState",
    "FlowKind",
    "HostIdentity",
    "IdentityTokenType",
    "IdentityTrust",
    "OutboxEvent",
    "PreparedAuth",
    "ProviderConfig",
    "TokenStatus",
    "UserSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "generate_client_id",
]
