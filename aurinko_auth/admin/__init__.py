"""The admin for app owners: each staff user sees and changes only the apps they belong to
(see :mod:`aurinko_auth.admin.scoping` for the roles). Secrets are write-only: a client secret
is shown exactly once, provider secrets and tokens never.

One module per thing administered: ``apps`` (with ``app_inlines`` and ``app_pages``),
``accounts``, ``users``, ``audit``, ``webhooks``, ``passkeys`` (staff passkeys, with the
optional django-otp-webauthn only); ``forms`` and ``scoping`` are shared."""

from django.apps import apps as _apps

# Django's autodiscover imports only this package: importing the modules registers their admins.
from aurinko_auth.admin import accounts, apps, audit, users, webhooks  # noqa: F401

if _apps.is_installed("django_otp_webauthn"):
    from aurinko_auth.admin import passkeys  # noqa: F401  (optional dependency)
