"""ID token and userinfo claims shaped like the providers the sandbox stands in for."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator

from project.sandbox.tenants import directory_roles, tenant_of

CONSUMER_DOMAINS = ("gmail.com", "googlemail.com")
# Set by project/sandbox/daemon.py once a client assertion verified: the client it proved.
ASSERTED_CLIENT = "sandbox.asserted_client"
# Microsoft's per-tenant token endpoints (project/sandbox/daemon.py).
_TENANT_TOKEN_PATH = re.compile(r"/t/[^/]+/token/$")


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

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        # A code redeemed with a certificate-signed client assertion at a tenant's token
        # endpoint: daemon.tenant_token verified it and named the client in an environ key
        # of its own (not HTTP_*: no header a client sends can set it).
        asserted = (request.headers or {}).get(ASSERTED_CLIENT)
        if asserted:
            client = get_application_model().objects.filter(client_id=asserted).first()
            if client is None:
                return False
            request.client = client
            return True
        return super().authenticate_client(request, *args, **kwargs)

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # A Microsoft app registration (a confidential web app) signs admins in with the code
        # grant and takes client credentials at a tenant's token endpoint alike.
        if (
            grant_type == "client_credentials"
            and client.client_type == client.CLIENT_CONFIDENTIAL
            and _TENANT_TOKEN_PATH.search(urlsplit(request.uri or "").path)
        ):
            return True
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        email = user.email or f"{user.get_username()}@example.com"
        domain = email.rpartition("@")[2]
        claims = {
            "email": email,
            "email_verified": True,
            "name": user.get_full_name() or user.get_username(),
            "preferred_username": email,
            "tid": tenant_of(email),  # Microsoft tenant id
            "oid": f"00000000-0000-4000-8000-{user.pk:012d}",  # Microsoft object id
            "wids": directory_roles(user),  # Microsoft directory roles (their template ids)
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
