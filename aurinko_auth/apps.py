from django.apps import AppConfig


class AurinkoAuthConfig(AppConfig):
    name = "aurinko_auth"
    verbose_name = "Aurinko auth broker"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from aurinko_auth import checks, signals  # noqa: F401  (they register)
        from aurinko_auth.audit import connect_signals
        from aurinko_auth.security import oauth_transport, redaction

        redaction.install()
        # http provider endpoints on loopback, without OAUTHLIB_INSECURE_TRANSPORT.
        oauth_transport.install()
        # Admin sign-ins and their failures go to the audit log.
        connect_signals()
