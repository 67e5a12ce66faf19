"""`manage.py seed_scale --cases N`: add N cases to a national world built in bulk (scale.seed)."""

from django.core.management.base import BaseCommand, CommandError

from config.commands import allow_production_argument, synthetic_world_refuse_in_production
from scale.seed import SeedScaleError, seed_scale


class Command(BaseCommand):
    help = ("Build (or grow) a national world of synthetic cases fast, with the rows the services write: "
            "agencies in every province, people of every role, cases over 24 months with incidents, actions, "
            "consents, handoffs and deadlines in every state, and their permission rows. For benchmarks.")

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True, help="how many cases to add")
        parser.add_argument("--provinces", type=int, default=34, help="provinces with agencies (1-34, default 34)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--agencies-per-province", type=int, default=60)
        parser.add_argument("--responders", type=int, default=4, help="responders per agency (default 4)")
        parser.add_argument("--months", type=int, default=24,
                            help="the cases are opened over this many months (1-240, default 24)")
        allow_production_argument(parser)

    def handle(self, *args, **options):
        synthetic_world_refuse_in_production(allow_production=options["allow_production"])
        try:
            report = seed_scale(
                cases=options["cases"], provinces=options["provinces"], seed=options["seed"],
                agencies_per_province=options["agencies_per_province"],
                responders_per_agency=options["responders"], months=options["months"],
                progress=lambda text: self.stdout.write(text) if options["verbosity"] > 1 else None,
            )
        except SeedScaleError as exc:
            raise CommandError(str(exc)) from exc
        rows = ", ".join(f"{label.split('.')[-1]} {n}" for label, n in sorted(report.rows.items()))
        self.stdout.write(
            f"{report.cases} cases in {report.seconds:.1f} s ({report.cases_per_second:.0f} cases/s over "
            f"{report.case_seconds:.1f} s of writing cases); "
            f"{report.agencies} new agencies, {report.users} new users; rows: {rows}"
        )
