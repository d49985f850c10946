"""Issue real refresh tokens at the sandbox without a browser (for benchmarks): N grants of
one user to one client, printed as JSON. Each is a django-oauth-toolkit AccessToken plus
RefreshToken pair, exactly what an authorization-code exchange leaves behind.

    manage.py sandbox_grants --client-id ID --user alice --count 200 [--scope "openid email"]
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)


class Command(BaseCommand):
    help = "Create N access/refresh token pairs for a sandbox user and client (JSON out)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--count", type=int, default=1)
        parser.add_argument("--scope", default="openid email profile")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        application = get_application_model().objects.filter(client_id=options["client_id"]).first()
        user = get_user_model().objects.filter(username=options["user"]).first()
        if application is None or user is None:
            raise CommandError("unknown client or user")
        AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
        issued = []
        for _ in range(options["count"]):
            access = AccessToken.objects.create(
                user=user,
                application=application,
                token=secrets.token_urlsafe(30),
                scope=options["scope"],
                expires=timezone.now() + timedelta(seconds=1),
            )
            refresh = RefreshToken.objects.create(
                user=user,
                application=application,
                token=secrets.token_urlsafe(30),
                access_token=access,
            )
            issued.append(refresh.token)
        self.stdout.write(json.dumps(issued))
