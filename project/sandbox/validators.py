"""ID token and userinfo claims shaped like the providers the sandbox stands in for."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

CONSUMER_DOMAINS = ("gmail.com", "googlemail.com")
SANDBOX_TENANT_ID = "5a9b1c2d-0000-4000-8000-5a4db0c5a4db"


class SandboxValidator(OAuth2Validator):
    # Every claim regardless of scope: Google's and Microsoft's userinfo answer email and name
    # for the openid/email/profile scopes the broker always asks.
    oidc_claim_scope = None

    def validate_jwt_bearer_token(self, token: str, scopes: Any, request: Any) -> bool:
        # oauthlib's OpenID Connect server takes any JWT-shaped bearer token for an ID token;
        # the sandbox's Graph-like app-only access tokens (graph_tokens) are JWTs too.
        return super().validate_jwt_bearer_token(
            token, scopes, request
        ) or self.validate_bearer_token(token, scopes, request)

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        email = user.email or f"{user.get_username()}@example.com"
        domain = email.rpartition("@")[2]
        claims = {
            "email": email,
            "email_verified": True,
            "name": user.get_full_name() or user.get_username(),
            "preferred_username": email,
            "tid": SANDBOX_TENANT_ID,  # Microsoft tenant id
            "oid": f"00000000-0000-4000-8000-{user.pk:012d}",  # Microsoft object id
            # Salesforce's userinfo names the user and the org.
            "user_id": f"005SANDBOX{user.pk:08d}",
            "organization_id": "00DSANDBOX00000001",
            # Zoho's /oauth/user/info keys.
            "ZUID": 20000000000 + user.pk,
            "Email": email,
            "Display_Name": user.get_full_name() or user.get_username(),
        }
        if domain not in CONSUMER_DOMAINS:
            claims["hd"] = domain  # Google Workspace hosted domain; consumer accounts have none
        return claims
