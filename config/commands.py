"""What the management commands that load an operator's file share: reading it, and saying what
was written. Importable by every app (a shared helper in the import-linter layers)."""

import argparse
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

PRODUCTION_SETTINGS = "config.settings.production"


def allow_production_argument(parser) -> None:
    parser.add_argument(
        "--allow-production", action="store_true",
        help="Seed even under production settings (creates accounts with a published password).",
    )


def synthetic_world_refuse_in_production(*, allow_production: bool) -> None:
    """Refuse, under production settings, a command that builds synthetic people with a published password
    (seed_demo, seed_scale), unless --allow-production says the installation is a demo."""
    if settings.SETTINGS_MODULE == PRODUCTION_SETTINGS and not allow_production:
        raise CommandError(_(
            "Refusing to create demo accounts with a published password under production settings; "
            "pass --allow-production if this really is a demo installation."
        ))


# Rows per transaction of a command that works through a whole table: enough to go fast, far below
# what a LIMIT can take on either database.
BATCH_SIZE_MAX = 100_000


def _batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= BATCH_SIZE_MAX:
        raise argparse.ArgumentTypeError(
            _("a number of rows from 1 to %(max)d, not %(value)r") % {"max": BATCH_SIZE_MAX, "value": text}
        )
    return value


def text_argument(text: str) -> str:
    """A command's text argument (argparse `type`): PostgreSQL's text takes no NUL character, and one
    pasted at a shell is refused here rather than by the database in the middle of the work."""
    if "\x00" in text:
        raise argparse.ArgumentTypeError(_("%(value)r holds a NUL character (0x00)") % {"value": text})
    return text


def batch_size_argument(parser, *, default: int = 500) -> None:
    """--batch-size of a command that works through a table in batches, each its own transaction."""
    parser.add_argument("--batch-size", type=_batch_size, default=default,
                        help=f"rows per transaction (1 to {BATCH_SIZE_MAX}, default {default})")


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


class LoadCommand(BaseCommand):
    """A command that loads an operator's file with a loader that checks every row before it writes
    any. A subclass says which errors refuse the file and what to say either way (`refused` may name
    the file as %(path)s; `written` is filled from the counts)."""

    errors: tuple[type[Exception], ...] = ()
    refused = _lazy("Nothing written; fix %(path)s:")
    written = ""

    def load_file(self, path: str, load: Callable[[], object]) -> None:
        load_reported(self, load, errors=self.errors, refused=self.refused % {"path": path}, written=self.written)


class FileLoadCommand(LoadCommand):
    """Loads the UTF-8 file named by its one argument: a subclass says what the file is (`path_help`)
    and how to load its text (`load`)."""

    path_help = ""

    def load(self, text: str):
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("path", help=self.path_help)

    def handle(self, *args, path, **options):
        text = text_file_read(path)
        self.load_file(path, lambda: self.load(text))


class ReferenceLoadCommand(LoadCommand):
    """Loads the reference file bundled with an app (`default`), or another one named by its one
    option (`option`, `option_help`): a subclass says how to load a file (`load`)."""

    option = "--path"
    option_help = ""
    default: Path

    def load(self, path: str):
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(self.option, default=str(self.default), help=self.option_help)

    def handle(self, *args, **options):
        path = options[self.option.removeprefix("--")]
        self.load_file(path, lambda: self.load(path))
