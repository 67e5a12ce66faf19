from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.mfa import demo_totp_code


class Command(BaseCommand):
    help = "Print the current second-factor code of the demo accounts (development only)."

    def handle(self, *args, **options):
        if not settings.DEMO_SECOND_FACTOR:
            raise CommandError(_("There is no demo second factor under these settings."))
        self.stdout.write(demo_totp_code())
