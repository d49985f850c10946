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
