def sandbox_endpoints(base_url: str) -> dict[str, str]:
    """Endpoint overrides that point a provider configuration at a sandbox server."""
    root = base_url.rstrip("/") + "/sandbox/"
    base = root + "o/"
    return {
        "authorize": base + "authorize/",
        "token": base + "token/",
        "userinfo": base + "userinfo/",
        "revoke": base + "revoke_token/",
        "api": root + "api/",
    }


def sandbox_daemon_endpoints(base_url: str, service_type: str) -> dict[str, str]:
    """Endpoint overrides for the service-account flow (on top of ``sandbox_endpoints``)."""
    root = base_url.rstrip("/") + "/sandbox/"
    if service_type == "Office365":
        return {
            "adminconsent": root + "adminconsent/{tenant}/",
            "token": root + "t/{tenant}/token/",
            # The admin's sign-in for "organizations": ID tokens of django-oauth-toolkit.
            "issuer": root + "o",
            "jwks": root + "o/.well-known/jwks.json",
        }
    return {"jwtbearer": root + "jwt/token/"}


def sandbox_zoho_endpoints(base_url: str, sign_in_at: str = "accounts.zoho.eu") -> dict[str, str]:
    """Endpoint overrides for Zoho: the user signs in at the data centre ``sign_in_at``; token,
    user info and revocation follow the data centre the callback names (``{accounts_host}``)."""
    root = base_url.rstrip("/") + "/sandbox/zoho/"
    return {
        "authorize": root + sign_in_at + "/oauth/v2/auth",
        "token": root + "{accounts_host}/oauth/v2/token",
        "userinfo": root + "{accounts_host}/oauth/user/info",
        "revoke": root + "{accounts_host}/oauth/v2/token/revoke",
    }
