"""The arguments of ``manage.py aurinko_app`` (its subcommands and their options), apart from
the command's handlers in ``management/commands/aurinko_app.py``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from aurinko_auth.models import IdentityTokenType


def _urls(parser: Any, flag: str, dest: str, text: str) -> None:
    """A repeatable return-URL option (a public return URL, docs/add-ins.md)."""
    parser.add_argument(flag, action="append", default=[], dest=dest, metavar="URL", help=text)


def add_arguments(parser: CommandParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="Register an app; prints clientId/clientSecret.")
    create.add_argument("--name", required=True)
    create.add_argument("--return-url", action="append", default=[], dest="return_urls")
    create.add_argument("--scopes", default="")
    create.add_argument(
        "--required-scopes",
        default="",
        help="Scopes the app needs now (missingScopes, docs/scopes.md); allowed ones only.",
    )
    create.add_argument("--owner", default=None)
    create.add_argument("--client-id", default=None, help="Import: the app's clientId at Aurinko.")
    create.add_argument(
        "--client-secret",
        default=None,
        help="Import: the app's clientSecret at Aurinko ('-' reads it from stdin).",
    )
    create.add_argument(
        "--aurinko-signatures",
        action="store_true",
        help="userSignature keyed with the client secret itself, as at Aurinko.",
    )
    create.add_argument(
        "--public-client",
        action="store_true",
        help="A page or extension without a backend: flows need PKCE (S256), codes are "
        "redeemed with code_verifier and no secret; chrome-extension return URLs allowed.",
    )
    _urls(create, "--public-return-url", "public_return_urls", "Public for its flows only.")
    create.add_argument(
        "--token-response",
        action="store_true",
        help="Allow responseType=token (discouraged: the account token goes in the URL).",
    )
    create.add_argument("--trusted-domain", action="append", dest="trusted_domains")
    create.add_argument(
        "--partitioned-cookie", action="store_true", help="A Partitioned session cookie."
    )
    create.add_argument(
        "--host-cookie", action="store_true", help="Name the session cookie __Host-..."
    )

    cookie = sub.add_parser("cookie", help="Partitioned and/or __Host- session cookie.")
    cookie.add_argument("client_id")
    partition = cookie.add_mutually_exclusive_group()
    partition.add_argument("--partitioned", action="store_true", default=None)
    partition.add_argument("--unpartitioned", action="store_false", dest="partitioned")
    naming = cookie.add_mutually_exclusive_group()
    naming.add_argument("--host-prefix", action="store_true", default=None)
    naming.add_argument("--aurinko-name", action="store_false", dest="host_prefix")
    cookie.add_argument("--session-lifetime", type=int, metavar="SECONDS")
    cookie.add_argument("--idle-timeout", type=int, metavar="SECONDS")

    trusted = sub.add_parser("origins", help="List or change the app's trusted domains.")
    trusted.add_argument("client_id")
    trusted.add_argument("--add", action="append", default=[], metavar="ORIGIN")
    trusted.add_argument("--remove", action="append", default=[], metavar="ORIGIN")
    trusted.add_argument("--clear", action="store_true", help="Remove them all first.")

    signatures = sub.add_parser(
        "signatures", help="Choose how userSignature is keyed (needs the client secret)."
    )
    signatures.add_argument("client_id")
    mode = signatures.add_mutually_exclusive_group(required=True)
    mode.add_argument("--aurinko", action="store_true", help="Keyed with the client secret.")
    mode.add_argument("--derived", action="store_true", help="Keyed with a derived key.")
    signatures.add_argument("--client-secret", required=True, help="'-' reads stdin.")

    client = sub.add_parser(
        "client", help="Declare an app a public client (PKCE); allow responseType=token."
    )
    client.add_argument("client_id")
    kind = client.add_mutually_exclusive_group()
    kind.add_argument("--public", action="store_true", help="A public client (PKCE).")
    kind.add_argument("--confidential", action="store_true", help="Needs its secret.")
    token = client.add_mutually_exclusive_group()
    token.add_argument("--token-response", action="store_true", dest="token_on")
    token.add_argument("--no-token-response", action="store_true", dest="token_off")
    _urls(client, "--public-return-url", "public_urls", "PKCE, no secret for its codes.")
    _urls(client, "--confidential-return-url", "confidential_urls", "No longer public.")

    scopes = sub.add_parser("scopes", help="Change an app's allowed or required scopes.")
    scopes.add_argument("client_id")
    scopes.add_argument("--allowed", default=None, help='e.g. "Mail.Read Mail.Send".')
    scopes.add_argument(
        "--required", default=None, help='e.g. "Mail.Read"; "" clears the required scopes.'
    )

    provider = sub.add_parser("provider", help="Set an app's provider configuration.")
    provider.add_argument("client_id")
    provider.add_argument("service_type")
    provider.add_argument("--oauth-client-id", default="")
    provider.add_argument("--oauth-client-secret", default=None)
    provider.add_argument("--tenant", default="")
    provider.add_argument(
        "--option",
        action="append",
        default=[],
        dest="provider_options",
        metavar="NAME=VALUE",
        help="A provider option, e.g. SugarCRM's platform=acme_sync.",
    )
    provider.add_argument("--service-account-key", default=None)
    provider.add_argument(
        "--redirect-page",
        default=None,
        metavar="URL",
        help="Your own page registered at the provider, sent as redirect_uri; it "
        "forwards the query to /v1/auth/callback ('' removes it).",
    )
    provider.add_argument(
        "--endpoint", action="append", default=[], dest="endpoints", metavar="NAME=URL"
    )

    trust = sub.add_parser("trust", help="Accept host identity tokens of one type.")
    trust.add_argument("client_id")
    trust.add_argument("token_type", choices=IdentityTokenType.values, metavar="TYPE")
    trust.add_argument(
        "--audience",
        action="append",
        required=True,
        dest="audiences",
        help="Entra/Google: the client id or app id URI; Exchange: the add-in URL.",
    )
    trust.add_argument(
        "--tenant",
        action="append",
        default=[],
        dest="tenants",
        help="Only these tenant ids (Entra, Exchange) or hosted domains (Google).",
    )
    trust.add_argument("--issuer", default="", help="Override the issuer ({tid} allowed).")
    trust.add_argument(
        "--jwks", default="", help="Override the key set (Exchange: the metadata URL)."
    )
    untrust = sub.add_parser("untrust", help="Stop accepting identity tokens of one type.")
    untrust.add_argument("client_id")
    untrust.add_argument("token_type", choices=IdentityTokenType.values, metavar="TYPE")

    sub.add_parser("list", help="List apps.")
    rotate = sub.add_parser("rotate-secret", help="Issue a new client secret.")
    rotate.add_argument("client_id")
