from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from agencies.demo import DEMO_PASSWORD, seed_demo_world
from agencies.models import Role
from config.commands import allow_production_argument, synthetic_world_refuse_in_production


class Command(BaseCommand):
    help = "Build the synthetic demo world (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        allow_production_argument(parser)

    def handle(self, *args, allow_production: bool, **options):
        synthetic_world_refuse_in_production(allow_production=allow_production)
        world = seed_demo_world()
        roles = dict(Role.choices) | {"analyst": _("Analyst"), "superuser": _("System admin (Django admin)")}
        rows = [(_("Username"), _("Role"), _("Agency"))]
        for login in world.logins:
            where = login.where
            if login.role == "analyst":
                where = _("Scope: %(scope)s") % {"scope": where or _("national")}
            rows.append((login.username, str(roles[login.role]), where))
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        self.stdout.write(self.style.SUCCESS(
            _("Demo world ready. Every demo login below uses the password %(password)s") % {"password": DEMO_PASSWORD}
        ))
        for index, (username, role, where) in enumerate(rows):
            self.stdout.write(f"{username:<{widths[0]}}  {role:<{widths[1]}}  {where}".rstrip())
            if index == 0:
                self.stdout.write(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 6}")
        secret = getattr(world, "demo_totp_secret", None)
        if secret:
            self.stdout.write(self.style.WARNING(_(
                "Supervisors, agency admins, analysts and sysadmin also need a code from an authenticator app "
                "holding the demo secret %(secret)s (development only); manage.py demo_totp_code prints the "
                "current code."
            ) % {"secret": secret}))
        kept = len({login.username for login in world.logins}) - len(world.created_usernames)
        self.stdout.write(
            _("%(created)d accounts created; %(kept)d already existed and kept their password.")
            % {"created": len(world.created_usernames), "kept": kept}
        )
