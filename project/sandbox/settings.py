"""django-oauth-toolkit settings of the sandbox, imported by the demo project settings (when
AURINKO_SANDBOX is on) and by ``peer_settings`` (the standalone test server)."""

import os
from pathlib import Path

from project.sandbox.keys import load_or_create_rsa_key
from project.sandbox.scopes import SANDBOX_SCOPES

_key_file = os.environ.get(
    "SANDBOX_OIDC_KEY_FILE", str(Path(__file__).resolve().parents[2] / ".sandbox" / "oidc.pem")
)

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": load_or_create_rsa_key(_key_file),
    # PKCE for every client except those registered as "nopkce-..." (stand-ins for providers
    # that do not support it, such as HubSpot's classic flow).
    "PKCE_REQUIRED": lambda client_id: not str(client_id).startswith("nopkce-"),
    "ROTATE_REFRESH_TOKEN": True,
    # The strictest rotation a provider does: replaying a used refresh token revokes the whole
    # token family, so a client that ever refreshes twice loses the grant (and tests see it).
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("SANDBOX_ACCESS_TOKEN_SECONDS", "3600")),
    "SCOPES": SANDBOX_SCOPES,
    "DEFAULT_SCOPES": ["openid"],
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "OAUTH2_VALIDATOR_CLASS": "project.sandbox.validators.SandboxValidator",
    # Client credentials at a tenant's token endpoint get Microsoft Graph-like JWTs (tid);
    # refresh tokens stay django-oauth-toolkit's random ones.
    "ACCESS_TOKEN_GENERATOR": "project.sandbox.graph_tokens.access_token_generator",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
}
LOGIN_URL = "/sandbox/login/"
# The default, spelled out: the sandbox's own models point at DOT's access tokens, and Django
# resolves that swappable reference through this setting.
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
