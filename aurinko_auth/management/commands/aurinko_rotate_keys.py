"""Re-encrypt every encrypted value under the first key of ``AURINKO_AUTH["ENCRYPTION_KEYS"]``.

Rotation: put a new key first (keep the old ones after it), deploy, run this command, then
remove the old keys. Every ``EncryptedTextField`` / ``EncryptedJSONField`` of every installed
model is found through ``_meta``. Rows are read in primary-key order in batches; values that
the first key already decrypts are skipped, so an interrupted run simply starts again (or
resumes with ``--start-after``). Each value is replaced with a conditional
``UPDATE ... WHERE column = <old ciphertext>``, so a concurrent write is never overwritten.
``--check`` only counts values that are not under the first key (exit status 1 if any).
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, router, transaction

from aurinko_auth import crypto
from aurinko_auth.fields import EncryptedJSONField, EncryptedTextField


def encrypted_fields() -> list[tuple[Any, list[Any]]]:
    """``[(model, [field, ...]), ...]`` for every concrete encrypted field of every model."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, EncryptedTextField | EncryptedJSONField)
        ]
        if fields:
            found.append((model, fields))
    return found


class Command(BaseCommand):
    help = "Re-encrypt all secrets with the first ENCRYPTION_KEYS key (resumable)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--check", action="store_true", help="Only count values not yet under the first key."
        )
        parser.add_argument(
            "--start-after",
            default="",
            help="Resume: app_label.Model:pk printed by an interrupted run.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keys = crypto.configured_keys()
        if not keys:
            raise CommandError('AURINKO_AUTH["ENCRYPTION_KEYS"] is empty.')
        primary = Fernet(keys[0].encode())
        crypto.reset_keys()
        resume_model, _, resume_pk = options["start_after"].partition(":")
        totals = {"rotated": 0, "current": 0, "changed": 0, "undecryptable": 0}
        skipping = bool(resume_model)
        for model, fields in encrypted_fields():
            label = model._meta.label
            start = None
            if skipping:
                if label.lower() != resume_model.lower():
                    continue
                skipping = False
                start = resume_pk
            counts = self.rotate_model(
                model,
                fields,
                primary,
                options["batch_size"],
                check=options["check"],
                start_after=start,
            )
            for key, value in counts.items():
                totals[key] += value
        summary = (
            f"{totals['rotated']} value(s) re-encrypted, {totals['current']} already "
            f"under the first key, {totals['changed']} changed concurrently (run again), "
            f"{totals['undecryptable']} not decryptable with any configured key"
        )
        if options["check"]:
            pending = totals["rotated"] + totals["undecryptable"]
            self.stdout.write(
                f"check: {pending} value(s) not under the first key, {totals['current']} under it"
            )
            if pending:
                raise CommandError(f"{pending} value(s) still need the old key(s).", returncode=1)
            return
        self.stdout.write(self.style.SUCCESS(summary))
        if totals["undecryptable"]:
            raise CommandError(
                "Some values cannot be decrypted with the configured keys: "
                "put the missing key back and run again.",
                returncode=1,
            )

    def rotate_model(
        self,
        model: Any,
        fields: list[Any],
        primary: Fernet,
        batch_size: int,
        *,
        check: bool,
        start_after: str | None,
    ) -> dict[str, int]:
        label = model._meta.label
        db = router.db_for_write(model)
        conn = connections[db]
        qn = conn.ops.quote_name
        table, pk_col = qn(model._meta.db_table), qn(model._meta.pk.column)
        columns = [qn(f.column) for f in fields]
        counts = {"rotated": 0, "current": 0, "changed": 0, "undecryptable": 0}
        last = model._meta.pk.to_python(start_after) if start_after else None
        while True:
            # Raw SQL: the ORM would decrypt on read and re-encrypt any value we filter on.
            where = f"WHERE {pk_col} > %s " if last is not None else ""
            sql = (
                f"SELECT {pk_col}, {', '.join(columns)} FROM {table} {where}"  # noqa: S608
                f"ORDER BY {pk_col} LIMIT %s"
            )
            params = ([last] if last is not None else []) + [batch_size]
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
            if not rows:
                break
            with transaction.atomic(using=db):
                for row in rows:
                    pk, values = row[0], row[1:]
                    for column, value in zip(columns, values, strict=True):
                        if not value:
                            continue
                        try:
                            primary.decrypt(value.encode("ascii"))
                            counts["current"] += 1
                            continue
                        except (InvalidToken, UnicodeEncodeError):
                            pass
                        try:
                            rotated = crypto.rotate(value)
                        except (crypto.DecryptionError, UnicodeEncodeError):
                            counts["undecryptable"] += 1
                            self.stderr.write(
                                f"{label}:{pk} {column}: no configured key decrypts it"
                            )
                            continue
                        if check:
                            counts["rotated"] += 1
                            continue
                        with conn.cursor() as cursor:
                            cursor.execute(
                                f"UPDATE {table} SET {column} = %s "  # noqa: S608
                                f"WHERE {pk_col} = %s AND {column} = %s",
                                [rotated, pk, value],
                            )
                            if cursor.rowcount == 1:
                                counts["rotated"] += 1
                            else:
                                counts["changed"] += 1
                    last = pk
            self.stdout.write(
                f"{label}: through {label}:{last} "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
            )
        return counts
