"""Benchmark data: one app with N accounts, each with one account token, written with
PostgreSQL COPY (or bulk_create on SQLite). Idempotent top-up: re-running with a larger N adds
the missing rows. Token i is ``aat_bench_{i:08d}`` so the runner knows some plaintexts.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.seed --accounts 1000000
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import django


def bench_token(i: int) -> str:
    return f"aat_bench_{i:08d}"


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
        name="bench", defaults={"client_type": "confidential",
                                "authorization_grant_type": "client-credentials"})
    if not AccessToken.objects.filter(token="dot-bench-token").exists():
        AccessToken.objects.create(
            user=user, application=dot_app, token="dot-bench-token", scope="read",
            expires=timezone.now() + timezone.timedelta(days=3650))

    have = Account.objects.filter(app=app).count()
    if have >= args.accounts:
        print(f"seed: {have} accounts already")
        return
    started = time.monotonic()
    credentials = crypto.encrypt('{"access_token":"bench","refresh_token":"bench"}')
    now = timezone.now()
    if connection.vendor == "postgresql":
        account_cols = ["app_id", "service_type", "account_type", "daemon", "active",
                        "login_string", "email", "name", "server_url", "auth_user_id",
                        "auth_org_id", "auth_obtained_at", "requested_scopes", "scopes",
                        "native_scopes", "token_status", "credentials", "credential_version",
                        "access_token_expires_at", "last_error", "extra_data", "created_at",
                        "updated_at"]
        with transaction.atomic(), connection.cursor() as cur:
            raw = cur.cursor
            with raw.copy(f"COPY aurinko_auth_account ({', '.join(account_cols)}) FROM STDIN") \
                    as copy:
                for i in range(have, args.accounts):
                    copy.write_row((
                        app.pk, "Google", "", False, True, f"u{i}@bench.example",
                        f"u{i}@bench.example", f"User {i}", "", f"bench-{i}", "bench.example",
                        now, '["Mail.Read"]', '["Mail.Read"]', "[]", "healthy", credentials, 1,
                        None, "", "{}", now, now))
            cur.execute(
                "SELECT id, auth_user_id FROM aurinko_auth_account WHERE app_id = %s AND "
                "auth_user_id LIKE 'bench-%%' AND id NOT IN (SELECT account_id FROM "
                "aurinko_auth_accounttoken)", [app.pk])
            rows = cur.fetchall()
            with raw.copy("COPY aurinko_auth_accounttoken (account_id, token_hash, created_at)"
                          " FROM STDIN") as copy:
                for account_id, auth_user_id in rows:
                    i = int(auth_user_id.split("-")[1])
                    copy.write_row((account_id, crypto.hash_token(bench_token(i)), now))
        with connection.cursor() as cur:
            cur.execute("ANALYZE aurinko_auth_account; ANALYZE aurinko_auth_accounttoken")
    else:
        batch = []
        for i in range(have, args.accounts):
            batch.append(Account(app=app, service_type="Google", email=f"u{i}@bench.example",
                                 auth_user_id=f"bench-{i}", credentials={"access_token": "b"}))
            if len(batch) == 5000 or i == args.accounts - 1:
                with transaction.atomic():
                    created = Account.objects.bulk_create(batch)
                    AccountToken.objects.bulk_create(
                        AccountToken(account=a, token_hash=crypto.hash_token(
                            bench_token(int(a.auth_user_id.split("-")[1])))) for a in created)
                batch = []
    total = Account.objects.filter(app=app).count()
    print(f"seed: {total} accounts ({total - have} new) in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    sys.exit(main())
