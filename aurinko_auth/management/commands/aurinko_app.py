"""Manage apps from scripts and infrastructure-as-code.

manage.py aurinko_app create --name NAME --return-url URL [--return-url URL ...]
                             [--scopes "Mail.Read Mail.Send"] [--required-scopes "Mail.Read"]
                             [--owner USERNAME] [--public-client] [--public-return-url URL ...]
                             [--client-id ID --client-secret SECRET|-] [--aurinko-signatures]
                             [--token-response] [--trusted-domain ORIGIN ...]
                             [--partitioned-cookie] [--host-cookie]
manage.py aurinko_app provider CLIENT_ID SERVICE_TYPE --oauth-client-id ID
                             --oauth-client-secret SECRET [--tenant T]
                             [--service-account-key FILE] [--endpoint NAME=URL ...]
                             [--redirect-page URL] [--option NAME=VALUE ...]
manage.py aurinko_app scopes CLIENT_ID [--allowed "Mail.Read Mail.Send"]
                             [--required "Mail.Read"]
manage.py aurinko_app list
manage.py aurinko_app rotate-secret CLIENT_ID
manage.py aurinko_app signatures CLIENT_ID --aurinko|--derived --client-secret SECRET|-
manage.py aurinko_app trust CLIENT_ID TYPE --audience A [--audience B ...] [--tenant T ...]
                             [--issuer URL] [--jwks URL]
manage.py aurinko_app untrust CLIENT_ID TYPE
manage.py aurinko_app origins CLIENT_ID [--add ORIGIN ...] [--remove ORIGIN ...] [--clear]
manage.py aurinko_app client CLIENT_ID [--public|--confidential]
                             [--token-response|--no-token-response]
                             [--public-return-url URL ...] [--confidential-return-url URL ...]
manage.py aurinko_app cookie CLIENT_ID [--partitioned|--unpartitioned]
                             [--host-prefix|--aurinko-name]
                             [--session-lifetime SECONDS] [--idle-timeout SECONDS]

``cookie`` makes the User flow's session cookie ``Partitioned`` (CHIPS, for add-ins in iframes
on other sites; the page sets it from a ``sessionCode``) and/or names it ``__Host-AUR{appId}``
(docs/add-ins.md), and sets how long the app's sessions last (``--session-lifetime``, at most
ten years, for "signed in until the user logs out") and how long unused (``--idle-timeout``);
0 means the deployment's ``SESSION_LIFETIME``/``SESSION_IDLE_TIMEOUT``. It prints the result
as JSON.

``origins`` lists or changes the app's trusted domains (docs/user-flow.md "Trusted domains"),
printing them as JSON.

``provider --redirect-page URL`` names the app's own redirect page (registered at the provider
instead of the broker's callback, forwarding the query to ``/v1/auth/callback``; ``''``
removes it); the JSON printed says which ``redirectUri`` the provider is sent.

``client`` declares the app a public client (PKCE, no secret), or only some of its return
URLs (``--public-return-url``, added as return URLs when missing), docs/add-ins.md.

``trust`` makes the app accept host identity tokens of TYPE (``exchangeIdToken``,
``entraIdToken``, ``googleIdToken``) on ``/v1/auth/prepare`` and the session API
(docs/add-ins.md); for ``exchangeIdToken`` the audiences are the add-in URLs.

``--client-id``/``--client-secret`` import an app from Aurinko with the credentials it had
there (``-`` reads the secret from stdin, keeping it out of the process list).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from aurinko_auth import services, usersessions
from aurinko_auth.exceptions import AurinkoError
from aurinko_auth.management import app_arguments
from aurinko_auth.models import App
from aurinko_auth.security import origins


class Command(BaseCommand):
    help = "Create and configure aurinko_auth apps (prints JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        app_arguments.add_arguments(parser)

    stdin = sys.stdin

    def emit(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, indent=None))

    def get_app(self, client_id: str) -> App:
        app = App.objects.filter(client_id=client_id).first()
        if app is None:
            raise CommandError(f"No app with clientId {client_id!r}.")
        return app

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "handle_" + options["action"].replace("-", "_"))(options)
        except AurinkoError as exc:
            raise CommandError(exc.message) from None

    def handle_create(self, options: dict[str, Any]) -> None:
        owner = None
        if options["owner"]:
            owner = get_user_model().objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No user {options['owner']!r}.")
        client_id, client_secret = options["client_id"], self.secret_option(options)
        if (client_id is None) != (client_secret is None):
            raise CommandError("--client-id and --client-secret go together.")
        app, secret = services.create_app(
            name=options["name"],
            return_urls=options["return_urls"],
            scopes=options["scopes"],
            owner=owner,
            required_scopes=options["required_scopes"],
            client_id=client_id,
            client_secret=client_secret,
            aurinko_signatures=options["aurinko_signatures"],
            public_client=options["public_client"],
            token_response=options["token_response"],
            cookie_partitioned=options["partitioned_cookie"],
            cookie_host_prefix=options["host_cookie"],
            trusted_domains=options["trusted_domains"],
            public_return_urls=options["public_return_urls"],
        )
        self.emit({"clientId": app.client_id, "clientSecret": secret})

    def secret_option(self, options: dict[str, Any]) -> str | None:
        value = options.get("client_secret")
        if value == "-":
            value = self.stdin.readline().strip()
        return value

    def handle_client(self, options: dict[str, Any]) -> None:
        def choice(on: bool, off: bool) -> bool | None:
            return True if on else False if off else None

        app = services.set_client_type(
            self.get_app(options["client_id"]),
            public_client=choice(options["public"], options["confidential"]),
            token_response=choice(options["token_on"], options["token_off"]),
            public_urls=options["public_urls"],
            confidential_urls=options["confidential_urls"],
        )
        self.emit(
            {
                "clientId": app.client_id,
                "publicClient": app.public_client,
                "publicReturnUrls": app.public_return_urls,
                "tokenResponse": app.token_response,
            }
        )

    def handle_origins(self, options: dict[str, Any]) -> None:
        app, clear = self.get_app(options["client_id"]), options["clear"]
        if options["add"] or options["remove"] or clear:
            replace = [] if clear else None
            app = origins.set_trusted_domains(
                app, add=options["add"], remove=options["remove"], replace=replace
            )
        self.emit({"clientId": app.client_id, "trustedDomains": app.trusted_domains})

    def handle_signatures(self, options: dict[str, Any]) -> None:
        app = services.set_aurinko_signatures(
            self.get_app(options["client_id"]),
            options["aurinko"],
            self.secret_option(options) or "",
        )
        self.emit(
            {
                "clientId": app.client_id,
                "userSignature": "aurinko" if app.aurinko_signatures else "derived",
            }
        )

    def handle_cookie(self, options: dict[str, Any]) -> None:
        app = services.set_session_cookie(
            self.get_app(options["client_id"]),
            partitioned=options["partitioned"],
            host_prefix=options["host_prefix"],
            lifetime=options["session_lifetime"],
            idle_timeout=options["idle_timeout"],
        )
        lifetime, idle_timeout = app.session_lifetimes()
        self.emit(
            {
                "clientId": app.client_id,
                "partitioned": app.cookie_partitioned,
                "hostPrefix": app.cookie_host_prefix,
                "cookieName": usersessions.cookie_name(app),
                "sessionLifetime": lifetime,
                "sessionIdleTimeout": idle_timeout,
            }
        )

    def handle_scopes(self, options: dict[str, Any]) -> None:
        app = services.set_scopes(
            self.get_app(options["client_id"]),
            allowed=options["allowed"],
            required=options["required"],
        )
        self.emit(
            {
                "clientId": app.client_id,
                "scopes": app.allowed_scopes,
                "requiredScopes": app.required_scopes,
            }
        )

    def handle_provider(self, options: dict[str, Any]) -> None:
        endpoints: dict[str, str] = {}
        for item in options["endpoints"]:
            name, sep, url = item.partition("=")
            if not sep or not name or not url:
                raise CommandError(f"--endpoint takes NAME=URL, got {item!r}.")
            endpoints[name.strip()] = url.strip()
        provider_options: dict[str, str] = {}
        for item in options["provider_options"]:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise CommandError(f"--option takes NAME=VALUE, got {item!r}.")
            provider_options[name.strip()] = value.strip()
        key = None
        if options["service_account_key"]:
            with open(options["service_account_key"], encoding="utf-8") as fh:
                key = fh.read()
        with transaction.atomic():
            config = services.configure_provider(
                self.get_app(options["client_id"]),
                options["service_type"],
                client_id=options["oauth_client_id"],
                client_secret=options["oauth_client_secret"],
                tenant=options["tenant"],
                service_account_key=key,
                endpoints=endpoints,
                options=provider_options,
                redirect_page=options["redirect_page"],
            )
        self.emit(
            {
                "clientId": options["client_id"],
                "serviceType": config.service_type,
                "oauthClientId": config.client_id,
                "tenant": config.tenant or None,
                "endpoints": config.endpoints,
                "options": config.options,
                "redirectPage": config.redirect_page or None,
                "redirectUri": config.redirect_uri,
            }
        )

    def handle_trust(self, options: dict[str, Any]) -> None:
        trust = services.set_trust(
            self.get_app(options["client_id"]),
            options["token_type"],
            audiences=options["audiences"],
            tenants=options["tenants"],
            issuer=options["issuer"],
            jwks=options["jwks"],
        )
        self.emit(trust.as_dict())

    def handle_untrust(self, options: dict[str, Any]) -> None:
        app = self.get_app(options["client_id"])
        if not services.remove_trust(app, options["token_type"]):
            raise CommandError(f"{app.client_id} does not trust {options['token_type']}.")
        self.emit({"clientId": app.client_id, "type": options["token_type"], "trusted": False})

    def handle_list(self, options: dict[str, Any]) -> None:
        apps = App.objects.prefetch_related("provider_configs").order_by("id")
        self.emit(
            [
                {
                    "clientId": a.client_id,
                    "name": a.name,
                    "active": a.active,
                    "returnUrls": a.return_urls,
                    "scopes": a.allowed_scopes,
                    "requiredScopes": a.required_scopes,
                    "userSignature": "aurinko" if a.aurinko_signatures else "derived",
                    "publicClient": a.public_client,
                    "publicReturnUrls": a.public_return_urls,
                    "tokenResponse": a.token_response,
                    "trustedDomains": a.trusted_domains,
                    "providers": sorted(c.service_type for c in a.provider_configs.all()),
                }
                for a in apps
            ]
        )

    def handle_rotate_secret(self, options: dict[str, Any]) -> None:
        app = self.get_app(options["client_id"])
        secret = services.rotate_secret(app)
        self.emit({"clientId": app.client_id, "clientSecret": secret})
