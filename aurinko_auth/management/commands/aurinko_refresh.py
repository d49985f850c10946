"""Refresh provider tokens that expire within a window, in batches.

Safe on several machines at once: each account is claimed with
``SELECT ... FOR UPDATE SKIP LOCKED`` (an account another machine or a web worker is
refreshing right now is skipped, not waited for), and an account refreshed meanwhile is no
longer due when its row is re-read under the lock. Run it from cron every few minutes with a
window larger than the interval.

Exit status: 0 when every due refresh succeeded (or had nothing to do), 1 when any failed or
waits on a paused provider configuration, so cron and monitoring notice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import Account, ProviderConfig


class Command(BaseCommand):
    help = "Refresh provider access tokens expiring within --window seconds (cron-safe)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--window",
            type=int,
            default=900,
            help="Refresh tokens expiring within this many seconds (900).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=100, help="Accounts read per query (100)."
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=0,
            help="Stop after this many accounts (0: all that are due).",
        )
        parser.add_argument("--service-type", default="", help="Only this service type.")

    def handle(self, *args: Any, **options: Any) -> None:
        window, batch_size = options["window"], options["batch_size"]
        if window < 0 or batch_size < 1:
            raise CommandError("--window must be >= 0 and --batch-size >= 1.")
        started = timezone.now()
        horizon = started + timedelta(seconds=window)
        due = Account.objects.filter(
            active=True,
            token_status__in=tokens.REFRESHABLE,
            access_token_expires_at__lte=horizon,
        ).filter(Q(refresh_retry_at__isnull=True) | Q(refresh_retry_at__lte=started))
        if options["service_type"]:
            due = due.filter(service_type__iexact=options["service_type"])
        # Configurations with an app-level failure on record (and unchanged since): one line
        # for each, and their accounts wait instead of failing one by one.
        paused = ProviderConfig.objects.filter(
            last_error_at__isnull=False, updated_at__lte=F("last_error_at")
        )
        paused_waiting = 0
        for config in paused.select_related("app"):
            waiting = due.filter(app_id=config.app_id, service_type=config.service_type).count()
            paused_waiting += waiting
            self.stderr.write(
                f"app {config.app.client_id} {config.service_type}: refreshes "
                f"paused ({config.last_error}) until the provider configuration "
                f"changes; {waiting} account(s) waiting"
            )
        due = due.exclude(
            Exists(paused.filter(app_id=OuterRef("app_id"), service_type=OuterRef("service_type")))
        )
        total = due.count()
        self.stdout.write(
            f"{total} account(s) with tokens expiring before "
            f"{horizon.isoformat(timespec='seconds')}"
        )
        counts = {
            "refreshed": 0,
            "current": 0,
            "failed": 0,
            "paused": 0,
            "skipped": 0,
            "inactive": 0,
        }
        done, last_pk = 0, 0
        limit = options["limit"] or total
        while done < limit:
            # Keyset pagination by primary key: stable while rows change under us.
            batch = list(
                due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            for pk in batch:
                last_pk = pk
                outcome = tokens.refresh_account(pk, horizon=horizon, skip_locked=True)
                counts[outcome.result] = counts.get(outcome.result, 0) + 1
                if outcome.result == "failed" and outcome.error is not None:
                    self.stderr.write(f"account {pk}: {outcome.error.code}")
                done += 1
                if done >= limit:
                    break
            self.stdout.write(
                f"progress {done}/{min(limit, total)}: "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"done: {counts['refreshed']} refreshed, {counts['current']} already fresh, "
                f"{counts['skipped']} skipped (busy elsewhere), {counts['failed']} failed, "
                f"{counts['paused']} paused (app-level failure), {counts['inactive']} inactive"
            )
        )
        failed, paused_total = counts["failed"], counts["paused"] + paused_waiting
        if failed or paused_total:
            raise CommandError(
                f"{failed} refresh(es) failed, {paused_total} account(s) wait on a paused "
                "provider configuration (see above).",
                returncode=1,
            )
