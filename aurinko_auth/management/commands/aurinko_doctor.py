"""``python manage.py aurinko_doctor [CLIENT_ID]``: what will break in the apps' provider
configurations. Exits non-zero when there is an error."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aurinko_auth.doctor import ERROR, check_app
from aurinko_auth.models import App


class Command(BaseCommand):
    help = "Check apps' provider configurations against the providers' lifecycle facts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("client_id", nargs="?", help="the app's clientId (default: all)")
        parser.add_argument(
            "--no-probe", action="store_true", help="do not contact the token endpoints"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        apps = App.objects.order_by("name")
        if options["client_id"]:
            apps = apps.filter(client_id=options["client_id"])
            if not apps.exists():
                raise CommandError(f"No app with clientId {options['client_id']!r}.")
        errors = 0
        for app in apps:
            self.stdout.write(f"{app.name} ({app.client_id})")
            findings = check_app(app, probe=not options["no_probe"])
            if not findings:
                self.stdout.write("  ok")
            for f in findings:
                errors += f.level == ERROR
                self.stdout.write(f"  {f.level.upper()} {f.service_type}: {f.message}")
        if errors:
            raise CommandError(f"{errors} error(s) found.", returncode=2)
