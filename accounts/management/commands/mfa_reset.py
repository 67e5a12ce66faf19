from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from agencies.services import mfa_reset
from audit.context import command_audit_context_handle


class Command(BaseCommand):
    help = (
        "Remove a person's second factor (lost phone): they set up a new one at their next sign-in. "
        "For system administrators, and anyone whose agency admin cannot do it from the staff page."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why, for the audit trail (e.g. the ticket number).")

    @command_audit_context_handle
    def handle(self, *args, username: str, reason: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("No account has the username %(username)s.") % {"username": username})
        if not reason.strip():
            raise CommandError(_("Give a reason for the audit trail."))
        removed = mfa_reset(user=user, actor=None, reason=reason.strip())
        self.stdout.write(
            _("Second factor of %(username)s reset (%(count)d devices removed); they set it up again at "
              "their next sign-in.") % {"username": username, "count": removed}
        )
