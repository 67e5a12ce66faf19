from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from config.commands import text_argument
from reports.dhis2 import Dhis2Error, report_dhis2_push
from reports.management.commands.build_monthly_report import scope_parse
from reports.periods import PeriodError, month_parse
from reports.selectors import monthly_report_latest


class Command(BaseCommand):
    help = _("Send the newest version of a published monthly report to DHIS2 (a dry run first).")

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, type=text_argument, help="YYYY-MM")
        parser.add_argument("--scope", required=True, type=text_argument, help="national | province:CODE")
        parser.add_argument("--dry-run", action="store_true", help=_("Only ask DHIS2 for a dry run"))

    def handle(self, *args, month: str, scope: str, dry_run: bool, **options):
        try:
            period = month_parse(month)
        except PeriodError as error:
            raise CommandError(str(error)) from error
        report = monthly_report_latest(period=period, scope=scope_parse(scope)[0])
        if report is None:
            raise CommandError(_("No report of %(month)s is published for this scope") % {"month": month})
        try:
            responses = report_dhis2_push(report=report, dry_run_only=dry_run)
        except Dhis2Error as error:
            raise CommandError(str(error)) from error
        for response in responses:
            kind = _("Dry run") if response.dry_run else _("Import")
            if response.strategy == "DELETE":
                self.stdout.write(
                    _("%(kind)s, deleting values the report does not publish: %(status)s, deleted %(deleted)d, "
                      "ignored %(ignored)d") % {
                        "kind": kind, "status": response.status, "deleted": response.deleted,
                        "ignored": response.ignored,
                    }
                )
                continue
            self.stdout.write(
                _("%(kind)s: %(status)s, imported %(imported)d, updated %(updated)d, ignored %(ignored)d") % {
                    "kind": kind, "status": response.status,
                    "imported": response.imported, "updated": response.updated, "ignored": response.ignored,
                }
            )
