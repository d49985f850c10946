from django.core.management.base import BaseCommand

from aurinko_auth.crypto import generate_key


class Command(BaseCommand):
    help = 'Print a new Fernet key for AURINKO_AUTH["ENCRYPTION_KEYS"].'
    # The command that makes the first key runs before there is one: no system check (the
    # key checks would refuse the README's placeholders, or no key at all).
    requires_system_checks: list[str] = []

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
