from django.apps import AppConfig


class AurinkoAuthConfig(AppConfig):
    name = "aurinko_auth"
    verbose_name = "Aurinko auth broker"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from aurinko_auth import checks, requestids, signals  # noqa: F401  (they register)
        from aurinko_auth.audit import connect_signals
        from aurinko_auth.security import oauth_transport, redaction

        redaction.install()
        # Every log record carries the id of the request it was made in.
        requestids.install()
        # http provider endpoints on loopback, without OAUTHLIB_INSECURE_TRANSPORT.
        oauth_transport.install()
        # Admin sign-ins and their failures go to the audit log.
        connect_signals()
        # Throttled admin sign-in on Django's default admin site, unless it has its own form.
        from django.apps import apps

        if apps.is_installed("django.contrib.admin"):
            from django.contrib import admin

            from aurinko_auth.admin.login import ThrottledAdminAuthenticationForm

            if admin.site.login_form is None:
                admin.site.login_form = ThrottledAdminAuthenticationForm
            from aurinko_auth.conf import aurinko_settings

            if aurinko_settings.ADMIN_MFA == "required" and apps.is_installed("django_otp"):
                from aurinko_auth.admin import mfa  # optional dependency: django-otp

                mfa.install(admin.site)
