"""Seed the demo: an admin, sandbox users, a demo app whose Google and Office 365
configurations point at the sandbox identity provider, and print how to try it.

    python manage.py aurinko_demo [--host 127.0.0.1] [--port 8000]

Idempotent: every run rotates the printed secrets (the admin password, the demo app's client
secret and the sandbox client secret), because we store none of them in plaintext.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from aurinko_auth import services
from aurinko_auth.models import App, AppMembership
from aurinko_auth.scopes import UNIFIED_SCOPES
from project.sandbox.endpoints import sandbox_endpoints

DEMO_APP_NAME = "Demo app"
SANDBOX_CLIENT_ID = "aurinko-demo-broker"
SANDBOX_USERS = [
    ("alice", "alice-demo", "alice@example.com", "Alice Example"),
    ("bob", "bob-demo", "bob@example.com", "Bob Example"),
]


def demo_client_file() -> Path:
    """Where the demo *client app* keeps its own credentials (it is the app's secret to
    hold, not the broker's: the broker only has its hash)."""
    folder = os.environ.get("AURINKO_DEMO_DIR") or Path(settings.BASE_DIR) / ".sandbox"
    return Path(folder) / "demo-client.json"


class Command(BaseCommand):
    help = "Seed the offline demo (admin, sandbox users, demo app) and print how to use it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "SANDBOX", False):
            raise CommandError("The sandbox is off: run with AURINKO_DEMO=1 (make demo).")
        host, port = options["host"], options["port"]
        base = f"http://{host}:{port}"
        # The browser signs in to the sandbox on "localhost" and to the broker on 127.0.0.1,
        # so the two sites keep separate cookies (cookies ignore ports).
        browser_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
        public = settings.AURINKO_AUTH.get("PUBLIC_URL", base).rstrip("/")
        if public != base:
            raise CommandError(
                f"AURINKO_PUBLIC_URL is {public}, but the demo serves {base}: "
                "set AURINKO_PUBLIC_URL to match (make demo does)."
            )
        admin_password = secrets.token_urlsafe(12)
        sandbox_secret = secrets.token_urlsafe(32)
        return_url = f"{base}/demo/return"
        with transaction.atomic():
            admin = self.ensure_admin(admin_password)
            for username, password, email, name in SANDBOX_USERS:
                call_command(
                    "sandbox_seed",
                    user=[f"{username}:{password}:{email}:{name}"],
                    stdout=open(os.devnull, "w"),  # noqa: SIM115
                )
            call_command(
                "sandbox_seed",
                client_id=SANDBOX_CLIENT_ID,
                client_secret=sandbox_secret,
                redirect_uri=[f"{base}/v1/auth/callback"],
                name="aurinko_auth demo broker",
                stdout=open(os.devnull, "w"),  # noqa: SIM115
            )
            app = App.objects.filter(name=DEMO_APP_NAME).first()
            if app is None:
                app, client_secret = services.create_app(
                    name=DEMO_APP_NAME,
                    return_urls=[return_url],
                    scopes=list(UNIFIED_SCOPES),
                    owner=admin,
                )
            else:
                app.return_urls = services.validate_return_urls([return_url])
                app.allowed_scopes = list(UNIFIED_SCOPES)
                app.active = True
                app.save()
                AppMembership.objects.get_or_create(app=app, user=admin)
                client_secret = services.rotate_secret(app)
            endpoints = sandbox_endpoints(base)
            endpoints["authorize"] = sandbox_endpoints(f"http://{browser_host}:{port}")["authorize"]
            for service_type in ("Google", "Office365"):
                services.configure_provider(
                    app,
                    service_type,
                    client_id=SANDBOX_CLIENT_ID,
                    client_secret=sandbox_secret,
                    endpoints=endpoints,
                )
        path = demo_client_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(
                {"clientId": app.client_id, "clientSecret": client_secret, "returnUrl": return_url},
                fh,
            )
        start = f"{base}/v1/auth/authorize?" + urlencode(
            {
                "clientId": app.client_id,
                "serviceType": "Google",
                "scopes": "Mail.Read Calendar.Read",
                "responseType": "code",
                "returnUrl": return_url,
                "state": "demo",
            }
        )
        out = self.stdout.write
        out("")
        out("aurinko_auth demo is ready (everything runs locally, no internet needed)")
        out("=" * 72)
        out(f"Admin:        {base}/admin/   user: admin   password: {admin_password}")
        out(f"Demo app:     clientId {app.client_id}")
        out(f"              clientSecret {client_secret}")
        out("Sandbox users (the stand-in for Google/Microsoft sign-in):")
        for username, password, *_ in SANDBOX_USERS:
            out(f"              {username} / {password}")
        out("")
        out("Start an Account flow in your browser (Google through the sandbox):")
        out(f"  {start}")
        out("Exchange a code yourself:")
        out(f"  curl -u {app.client_id}:{client_secret} -X POST {base}/v1/auth/token/CODE")
        out("=" * 72)

    def ensure_admin(self, password: str) -> Any:
        User = get_user_model()
        admin = User.objects.filter(username="admin").first() or User(username="admin")
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        return admin
