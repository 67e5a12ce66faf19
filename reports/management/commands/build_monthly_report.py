from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from agencies.models import Province
from audit.context import command_audit_context_handle
from config.commands import text_argument
from reports.periods import PeriodError, local_today, month_check_complete, month_parse
from reports.services import CorrectionHeld, ReportScopeError, monthly_report_correct, monthly_reports_build


def scope_parse(text: str | None) -> list[str | None] | None:
    """None: every scope; "national"; "province:CODE" (the code must exist)."""
    if text is None:
        return None
    if text == "national":
        return [None]
    kind, _sep, code = text.partition(":")
    if kind != "province" or not code:
        raise CommandError(_("--scope must be 'national' or 'province:CODE', not %(scope)r") % {"scope": text})
    if not Province.objects.filter(code=code).exists():
        raise CommandError(_("There is no province with code %(code)s") % {"code": code})
    return [code]


class Command(BaseCommand):
    help = _(
        "Publish the monthly report of a finished month (every scope, or one). Running it again "
        "publishes nothing new; --correct publishes a new version when the data has changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, type=text_argument, help="YYYY-MM")
        parser.add_argument("--scope", type=text_argument, help="national | province:CODE (default: every scope)")
        parser.add_argument("--correct", metavar="REASON", type=text_argument,
                            help=_("Publish a correction with this reason"))
        parser.add_argument("--requested-by", metavar="USERNAME", type=text_argument,
                            help=_("Who asked for the correction: told if it is held"))

    @command_audit_context_handle
    def handle(self, *args, month: str, scope: str | None, correct: str | None, requested_by: str | None = None,
               **options):
        if requested_by is not None and correct is None:
            raise CommandError(_("--requested-by names who asked for a correction: it goes with --correct"))
        try:
            period = month_parse(month)
            month_check_complete(period, today=local_today())
        except PeriodError as error:
            raise CommandError(str(error)) from error
        scopes = scope_parse(scope)
        try:
            if correct is not None:
                if scopes is None or len(scopes) != 1:
                    raise CommandError(_("A correction is published for one --scope at a time"))
                requester = None
                if requested_by:
                    requester = get_user_model().objects.filter(username=requested_by, is_active=True).first()
                    if requester is None:
                        raise CommandError(_("There is no active user %(name)s") % {"name": requested_by})
                try:
                    report = monthly_report_correct(
                        period=period, scope=scopes[0], reason=correct, requested_by=requester,
                    )
                except CorrectionHeld as held:
                    raise CommandError(str(held)) from held
                if report is None:
                    self.stdout.write(_("The data has not changed: no new version published."))
                else:
                    self.stdout.write(self.style.SUCCESS(_("Published version %(version)d of %(report)s.") % {
                        "version": report.version, "report": report,
                    }))
                return
            outcome = monthly_reports_build(period=period, scopes=scopes)
        except (ReportScopeError, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(
            _("%(month)s: %(created)d report(s) published, %(existing)d already published.")
            % {"month": month, "created": len(outcome.created), "existing": len(outcome.existing)}
        ))
