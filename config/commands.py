"""What the management commands that load an operator's file share: reading it, and saying what
was written. Importable by every app (a shared helper in the import-linter layers)."""

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


def text_file_read(path: str) -> str:
    """The file's UTF-8 text, or a CommandError that tells the operator why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(_("%(path)s is not UTF-8 text (%(error)s).") % {"path": path, "error": exc}) from exc
    except OSError as exc:
        raise CommandError(_("%(path)s cannot be read (%(error)s).") % {"path": path, "error": exc}) from exc


def counts_written(message: str, counts) -> str:
    """A translated summary such as "Communes: %(created)d created, …" filled from a LoadCounts."""
    return message % asdict(counts)


def load_reported(command: BaseCommand, load: Callable[[], object], *, errors: tuple[type[Exception], ...],
                  refused: str, written: str) -> None:
    """Run a loader that checks every row before it writes any: a refusal (one of `errors`) is a
    CommandError that says nothing was written, `refused`, with the loader's reasons under it; a
    load is reported with `written` filled from its counts (counts_written)."""
    try:
        counts = load()
    except errors as exc:
        raise CommandError(refused + f"\n{exc}") from exc
    command.stdout.write(command.style.SUCCESS(counts_written(written, counts)))
