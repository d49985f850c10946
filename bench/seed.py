"""Benchmark data: one app with N accounts, each with one account token, written with
PostgreSQL COPY (or bulk_create on SQLite). Idempotent top-up: re-running with a larger N adds
the missing rows. Token i is ``aat_bench_{i:08d}`` so the runner knows some plaintexts.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.seed --accounts 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import django


def bench_token(i: int) -> str:
    return f"aat_bench_{i:08d}"


BENCH_SESSION = "aus_bench_session_with_five_accounts"


def seed_user(app, crypto) -> None:  # noqa: ANN001
    """One app user with 5 linked accounts and a session whose token is BENCH_SESSION."""
    from datetime import timedelta

    from django.utils import timezone

    from aurinko_auth.models import Account, AppUser, UserSession

    if UserSession.objects.filter(token_hash=crypto.hash_token(BENCH_SESSION)).exists():
        return
    user = AppUser.objects.create(app=app, email="user@bench.example")
    for i in range(5):
        Account.objects.create(
            app=app,
            user=user,
            service_type="Google" if i else "Office365",
            account_type="primary" if i == 0 else "secondary",
            email=f"s{i}@bench.example",
            auth_user_id=f"bench-user-{i}",
            credentials={"access_token": "x"},
        )
    now = timezone.now()
    UserSession.objects.create(
        token_hash=crypto.hash_token(BENCH_SESSION),
        user=user,
        last_used_at=now,
        expires_at=now + timedelta(days=3650),
        idle_timeout=3650 * 24 * 3600,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    from aurinko_auth import crypto
    from aurinko_auth.models import Account, AccountToken, App

    app = App.objects.filter(client_id="bench-client").first()
    if app is None:
        app = App(name="bench", client_id="bench-client", return_urls=[], allowed_scopes=[])
        app.set_client_secret()
        app.save()
    user, _ = get_user_model().objects.get_or_create(username="bench")
    dot_app, _ = Application.objects.get_or_create(
        name="bench",
        defaults={"client_type": "confidential", "authorization_grant_type": "client-credentials"},
    )
    if not AccessToken.objects.filter(token="dot-bench-token").exists():
        AccessToken.objects.create(
            user=user,
            application=dot_app,
            token="dot-bench-token",
            scope="read",
            expires=timezone.now() + timezone.timedelta(days=3650),
        )

    seed_user(app, crypto)
    have = (
        Account.objects.filter(app=app, auth_user_id__startswith="bench-")
        .exclude(auth_user_id__startswith="bench-user-")
        .count()
    )
    if have >= args.accounts:
        print(f"seed: {have} accounts already")
        return
    started = time.monotonic()
    credentials_json = '{"access_token":"bench","refresh_token":"bench"}'
    now = timezone.now()
    if connection.vendor == "postgresql":
        # Column values come from a template instance, so the COPY follows the model as it
        # evolves; only the identity columns vary per row.
        template = Account(
            app=app,
            service_type="Google",
            auth_org_id="bench.example",
            auth_obtained_at=now,
            requested_scopes=["Mail.Read"],
            scopes=["Mail.Read"],
            credentials=json.loads(credentials_json),
            credential_version=1,
        )
        fields = [f for f in Account._meta.concrete_fields if not f.primary_key]
        base = {
            f.column: f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in fields
        }
        columns = list(base)
        with transaction.atomic(), connection.cursor() as cur:
            raw = cur.cursor
            with raw.copy(f"COPY aurinko_auth_account ({', '.join(columns)}) FROM STDIN") as copy:
                for i in range(have, args.accounts):
                    row = dict(
                        base,
                        login_string=f"u{i}@bench.example",
                        email=f"u{i}@bench.example",
                        name=f"User {i}",
                        auth_user_id=f"bench-{i}",
                    )
                    copy.write_row([row[c] for c in columns])
            cur.execute(
                "SELECT id, auth_user_id FROM aurinko_auth_account WHERE app_id = %s AND "
                "auth_user_id LIKE 'bench-%%' AND auth_user_id NOT LIKE 'bench-user-%%' AND id NOT IN (SELECT account_id FROM "
                "aurinko_auth_accounttoken)",
                [app.pk],
            )
            rows = cur.fetchall()
            with raw.copy(
                "COPY aurinko_auth_accounttoken (account_id, token_hash, created_at) FROM STDIN"
            ) as copy:
                for account_id, auth_user_id in rows:
                    i = int(auth_user_id.split("-")[1])
                    copy.write_row((account_id, crypto.hash_token(bench_token(i)), now))
        with connection.cursor() as cur:
            cur.execute("ANALYZE aurinko_auth_account; ANALYZE aurinko_auth_accounttoken")
    else:
        batch = []
        for i in range(have, args.accounts):
            batch.append(
                Account(
                    app=app,
                    service_type="Google",
                    email=f"u{i}@bench.example",
                    auth_user_id=f"bench-{i}",
                    credentials={"access_token": "b"},
                )
            )
            if len(batch) == 5000 or i == args.accounts - 1:
                with transaction.atomic():
                    created = Account.objects.bulk_create(batch)
                    AccountToken.objects.bulk_create(
                        AccountToken(
                            account=a,
                            token_hash=crypto.hash_token(
                                bench_token(int(a.auth_user_id.split("-")[1]))
                            ),
                        )
                        for a in created
                    )
                batch = []
    total = Account.objects.filter(app=app).count() - 5
    print(f"seed: {total} accounts ({total - have} new) in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    sys.exit(main())
