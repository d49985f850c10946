from django.core.management.base import BaseCommand

from aurinko_auth.flows import codes, state


class Command(BaseCommand):
    help = "Delete expired pending authorizations and one-time codes (run it from cron)."

    def handle(self, *args, **options):
        states = state.purge_expired()
        used_codes = codes.purge_expired()
        self.stdout.write(f"deleted {states} pending authorizations and {used_codes} codes")
