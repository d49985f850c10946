from django.core.management.base import BaseCommand

from aurinko_auth import usersessions
from aurinko_auth.flows import codes, state


class Command(BaseCommand):
    help = (
        "Delete expired pending authorizations, one-time codes and ended user sessions "
        "(run it from cron)."
    )

    def handle(self, *args, **options):
        states = state.purge_expired()
        used_codes = codes.purge_expired()
        ended = usersessions.purge_expired()
        self.stdout.write(
            f"deleted {states} pending authorizations, {used_codes} codes and {ended} sessions"
        )
