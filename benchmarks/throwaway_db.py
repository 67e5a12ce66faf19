"""The throwaway database the benchmarks work in: a test database beside the one DATABASE_URL names
(<name>_<suffix>, or <name>.<suffix>.sqlite3 on SQLite), created for the run and dropped after it.
Import after django.setup()."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection


@contextmanager
def throwaway_database(suffix: str) -> Iterator[None]:
    settings_dict = connection.settings_dict
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "NAME": f"{settings_dict['NAME']}_{suffix}"}
    if connection.vendor == "sqlite":
        file_suffix = f".{suffix.replace('_', '-')}.sqlite3"
        settings_dict["TEST"]["NAME"] = str(Path(settings_dict["NAME"]).with_suffix(file_suffix))
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        print(f"backend: {connection.vendor}, database: {connection.settings_dict['NAME']}")
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
