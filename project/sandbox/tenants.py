"""The sandbox's Microsoft Entra tenants and directory roles.

``TENANTS`` maps each tenant id to its verified domains: a token endpoint or consent for a
domain name resolves to its tenant, as at Microsoft, and a sandbox user belongs to the tenant
of their email's domain (the sandbox's own tenant for any other domain). A user's directory
roles (``DirectoryRole``, seeded with ``sandbox_seed --role``) are the role template ids their
ID tokens list in ``wids``, after the default role every member has.
"""

from __future__ import annotations

from typing import Any

from project.sandbox.models import DirectoryRole

SANDBOX_TENANT_ID = "5a9b1c2d-0000-4000-8000-5a4db0c5a4db"
# A second tenant that consented to every sandbox client: the "victim" of a forged callback.
SECOND_TENANT_ID = "6b0c2d3e-0000-4000-8000-6b5ec0a46b5e"
TENANTS = {
    SANDBOX_TENANT_ID: ("example.com",),
    SECOND_TENANT_ID: ("northwind.example",),
}
# Microsoft's "User" role template: every member of a tenant holds it.
MEMBER_ROLE = "b79fbf4d-3ef9-4689-8143-76b194e85509"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"


def tenant_id(name: str) -> str | None:
    """The tenant a token or consent request names (tenant id or verified domain)."""
    name = (name or "").lower()
    for tid, domains in TENANTS.items():
        if name == tid or name in domains:
            return tid
    return None


def tenant_of(email: str) -> str:
    """The tenant of a sandbox user: the one of their email's domain, else the sandbox's."""
    return tenant_id(email.rpartition("@")[2]) or SANDBOX_TENANT_ID


def directory_roles(user: Any) -> list[str]:
    """``wids`` of a sandbox user: the member role, then their seeded directory roles."""
    seeded = DirectoryRole.objects.filter(user=user).order_by("id")
    return [MEMBER_ROLE, *seeded.values_list("role_template_id", flat=True)]
