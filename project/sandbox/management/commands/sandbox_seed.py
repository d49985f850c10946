"""Create (or update) sandbox users and OAuth clients. Idempotent.

manage.py sandbox_seed --user alice:alice-demo[:email[:Full Name]] ...
manage.py sandbox_seed --role alice:62e90394-69f5-4237-9190-012177145e10   # a directory role
manage.py sandbox_seed --client-id ID --client-secret SECRET --redirect-uri URL ...
                       [--grant authorization-code|client-credentials|password] [--name NAME]
manage.py sandbox_seed --client-id sugar --public --grant password   # SugarCRM's client
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from oauth2_provider.models import get_application_model

from project.sandbox.models import DirectoryRole


class Command(BaseCommand):
    help = "Create sandbox identity-provider users and OAuth clients."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--user", action="append", default=[], help="username:password[:email[:full name]]"
        )
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            help="username:role_template_id (a Microsoft Entra directory role, in wids)",
        )
        parser.add_argument("--client-id")
        parser.add_argument("--client-secret")
        parser.add_argument("--redirect-uri", action="append", default=[])
        parser.add_argument(
            "--grant",
            default="authorization-code",
            choices=["authorization-code", "client-credentials", "password"],
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="a public client without a secret (SugarCRM's 'sugar')",
        )
        parser.add_argument("--name", default="aurinko broker")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        for spec in options["user"]:
            parts = spec.split(":", 3)
            if len(parts) < 2:
                raise CommandError(f"--user takes username:password, got {spec!r}")
            username, password = parts[0], parts[1]
            email = parts[2] if len(parts) > 2 and parts[2] else f"{username}@example.com"
            first, _, last = (parts[3] if len(parts) > 3 else username.title()).partition(" ")
            user, _ = User.objects.update_or_create(
                username=username, defaults={"email": email, "first_name": first, "last_name": last}
            )
            user.set_password(password)
            user.save()
            self.stdout.write(f"user {username}")
        for spec in options["role"]:
            username, _, role = spec.partition(":")
            user = User.objects.filter(username=username).first()
            if user is None or not role:
                raise CommandError(
                    f"--role takes an existing username:role_template_id, got {spec!r}"
                )
            DirectoryRole.objects.get_or_create(user=user, role_template_id=role.lower())
            self.stdout.write(f"role {role} of {username}")
        if options["client_id"]:
            if not options["client_secret"] and not options["public"]:
                raise CommandError("--client-secret is required with --client-id")
            Application = get_application_model()
            grant = {
                "authorization-code": Application.GRANT_AUTHORIZATION_CODE,
                "client-credentials": Application.GRANT_CLIENT_CREDENTIALS,
                "password": Application.GRANT_PASSWORD,
            }[options["grant"]]
            app = Application.objects.filter(client_id=options["client_id"]).first() or Application(
                client_id=options["client_id"]
            )
            app.name = options["name"]
            app.client_secret = "" if options["public"] else options["client_secret"]
            app.client_type = (
                Application.CLIENT_PUBLIC if options["public"] else Application.CLIENT_CONFIDENTIAL
            )
            app.authorization_grant_type = grant
            app.redirect_uris = " ".join(options["redirect_uri"])
            app.skip_authorization = True
            app.algorithm = Application.RS256_ALGORITHM
            app.save()
            self.stdout.write(f"client {app.client_id} ({options['grant']})")
