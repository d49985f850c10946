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
        return {"adminconsent": root + "adminconsent/{tenant}/",
                "token": root + "t/{tenant}/token/"}
    return {"jwtbearer": root + "jwt/token/"}
