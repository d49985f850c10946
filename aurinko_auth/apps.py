from django.apps import AppConfig


class AurinkoAuthConfig(AppConfig):
    name = "aurinko_auth"
    verbose_name = "Aurinko auth broker"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from aurinko_auth import checks  # noqa: F401  (registers the system checks)

        # Admin sign-ins and their failures go to the audit log.
        from aurinko_auth.audit import connect_signals

        connect_signals()
