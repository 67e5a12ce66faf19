from django.core.management.base import BaseCommand, CommandError

from audit.context import command_audit_context_handle
from cases.key_rotation import KeyRotationError, encrypted_values_rotate
from config.commands import batch_size_argument


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEYS, in batches. "
        "Safe to run again; --check only counts the values still under an older key."
    )

    def add_arguments(self, parser):
        batch_size_argument(parser)
        parser.add_argument(
            "--check", action="store_true",
            help="Change nothing; exit with an error when some value is not under the newest key.",
        )

    @command_audit_context_handle
    def handle(self, *args, batch_size, check, **options):
        try:
            counts = encrypted_values_rotate(batch_size=batch_size, check_only=check)
        except KeyRotationError as exc:
            raise CommandError(str(exc)) from exc
        verb = "to rotate" if check else "rotated"
        for count in counts:
            self.stdout.write(
                f"{count.label}: {count.rotated} {verb}, {count.current} already under the newest key, "
                f"{count.empty} empty"
            )
        pending = sum(count.rotated for count in counts)
        if check and pending:
            raise CommandError(f"{pending} values are still encrypted under an older key.")
        self.stdout.write(self.style.SUCCESS(
            f"{pending} values {'need rotating' if check else 'rotated'}; the newest key covers the rest."
        ))
