"""Inspect and age the tokens a sandbox user holds (for tests and demos).

manage.py sandbox_tokens alice                # JSON counts: refresh grants and tokens
manage.py sandbox_tokens alice --expire       # let the user's access tokens expire now
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from project.sandbox.models import SugarSession


class Command(BaseCommand):
    help = "Show a sandbox user's token counts; --expire makes their access tokens expire."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--expire", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no sandbox user {options['username']!r}")
        AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
        if options["expire"]:
            AccessToken.objects.filter(user=user).update(
                expires=timezone.now() - timedelta(seconds=1)
            )
        refresh = RefreshToken.objects.filter(user=user)
        # With ROTATE_REFRESH_TOKEN every refresh grant revokes the refresh token it used and
        # issues a new one: issued - 1 per authorization is the number of refresh grants.
        self.stdout.write(
            json.dumps(
                {
                    "refresh_tokens": refresh.count(),
                    "revoked_refresh_tokens": refresh.filter(revoked__isnull=False).count(),
                    "access_tokens": AccessToken.objects.filter(user=user).count(),
                    "valid_access_tokens": AccessToken.objects.filter(
                        user=user, expires__gt=timezone.now()
                    ).count(),
                    # SugarCRM: the platforms of the user's live sessions.
                    "sugar_platforms": sorted(
                        SugarSession.objects.filter(
                            access_token__user=user,
                            access_token__expires__gt=timezone.now(),
                        ).values_list("platform", flat=True)
                    ),
                }
            )
        )
