"""The admin for app owners: each staff user sees and changes only the apps they belong to
(see :mod:`aurinko_auth.admin.scoping` for the roles). Secrets are write-only: a client secret
is shown exactly once, provider secrets and tokens never.

One module per thing administered: ``apps`` (with ``app_inlines`` and ``app_pages``),
``accounts``, ``users``, ``audit``, ``webhooks``; ``forms`` and ``scoping`` are shared."""

# Django's autodiscover imports only this package: importing the modules registers their admins.
from aurinko_auth.admin import accounts, apps, audit, users, webhooks  # noqa: F401
