"""Deliver pending webhooks from the outbox. Safe to run on several machines at once."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from aurinko_auth.webhooks import delivery


class Command(BaseCommand):
    help = "Deliver pending webhook events (loop; --once for a single pass, e.g. from cron)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Deliver everything that is due now (passes until one finds nothing), then exit.",
        )
        parser.add_argument("--batch-size", type=int, default=50)
        parser.add_argument(
            "--sleep", type=float, default=2.0, help="Seconds to wait when nothing is due."
        )

    def handle(self, *args: Any, once: bool, batch_size: int, sleep: float, **options: Any) -> None:
        total = 0
        while True:
            done = delivery.deliver_batch(batch_size)
            total += done
            # A pass may hold an account's later events back behind its earlier one (delivery
            # order per account): the next pass finds them due, so --once ends only after a
            # pass that found nothing. Each pass delivers or reschedules what it claims (a
            # failure waits out its backoff), so this ends.
            if once and not done:
                break
            if not done:
                time.sleep(sleep)
        self.stdout.write(f"Attempted {total} webhook deliveries.")
