"""One migrated test database per run, copied for each pytest-xdist worker.

Without this, every worker creates its own test database by running all the migrations (some 35 s of
CPU each, and as much again in PostgreSQL). Here the first worker that needs a database migrates a
template (`test_<name>_tpl`, or `test-hopluc_tpl.sqlite3`) and every worker, the first included, then
copies it (PostgreSQL `CREATE DATABASE ... TEMPLATE`, a file copy on SQLite: Django's clone_test_db,
as its own parallel runner does) and runs its tests on the copy. The workers take turns through a file
lock; the last worker to finish drops the template with its own copy. A run that was killed leaves the
template behind, and the next run replaces it.
"""

import fcntl
import json
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

TEMPLATE_SUFFIX = "tpl"


@contextmanager
def _locked(path: Path):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            text = handle.read()
            state = json.loads(text) if text else {}
            yield state
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state))
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _state_path(run_id: str) -> Path:
    return Path(tempfile.gettempdir()) / f"hopluc-test-template-{run_id}.json"


def setup_cloned_databases(*, run_id: str, worker_id: str, aliases: set[str], serialized_aliases: set[str],
                           verbosity: int):
    """Point this worker's connections at its own copy of the run's template database, creating the
    template first when no worker has (or when the last one to use it has dropped it). Returns what
    django.test.utils.teardown_databases needs to drop the copy."""
    from django.db import connections
    from django.test.utils import get_unique_databases_and_mirrors, setup_databases

    test_databases, mirrored_aliases = get_unique_databases_and_mirrors(aliases)
    old_config = []
    with _locked(_state_path(run_id)) as state:
        firsts = []
        for db_name, db_aliases in test_databases.values():
            first = db_aliases[0]
            firsts.append(first)
            connection = connections[first]
            old_config.append((connection, db_name, True))
            for other in db_aliases[1:]:
                old_config.append((connections[other], db_name, False))
        if not state.get("templates"):
            # Migrate the templates: the test database's own name with a suffix.
            for first in firsts:
                connection = connections[first]
                # pytest-django has named it for this worker (`test_x_gw0`): the template is the run's.
                test_name = connection.creation._get_test_db_name().removesuffix(f"_{worker_id}")
                connection.settings_dict["TEST"] = {**connection.settings_dict["TEST"],
                                                    "NAME": _with_suffix(test_name, connection.vendor)}
            setup_databases(verbosity=verbosity, interactive=False, aliases=aliases, serialized_aliases=set())
            state["templates"] = {first: connections[first].settings_dict["NAME"] for first in firsts}
            state["users"] = 0
        for first in firsts:
            connection = connections[first]
            connection.settings_dict["NAME"] = state["templates"][first]
            connection.close()
            connection.creation.clone_test_db(suffix=worker_id, verbosity=verbosity, keepdb=False)
            connection.settings_dict.update(NAME=connection.creation.get_test_db_clone_settings(worker_id)["NAME"])
            connection.close()
        state["users"] += 1
    for _db_name, db_aliases in test_databases.values():
        for other in db_aliases[1:]:
            connections[other].creation.set_as_test_mirror(connections[db_aliases[0]].settings_dict)
    for alias, mirror in mirrored_aliases.items():
        connections[alias].creation.set_as_test_mirror(connections[mirror].settings_dict)
    for alias in serialized_aliases & set(firsts):
        connections[alias]._test_serialized_contents = connections[alias].creation.serialize_db_to_string()
    return old_config


def teardown_cloned_databases(*, run_id: str, old_config, verbosity: int) -> None:
    """Drop this worker's copies; the last worker out drops the templates too."""
    from django.db import connections
    from django.test.utils import teardown_databases

    # Every alias first, not only those teardown_databases drops: a mirror's connection (the test
    # settings' `replica` on PostgreSQL, which the replica tests open and CONN_MAX_AGE keeps) is a
    # session on this worker's copy, and PostgreSQL refuses to drop a database anyone is connected to.
    connections.close_all()
    for connection, _old_name, destroy in old_config:
        if destroy and connection.vendor == "postgresql":
            _end_other_sessions(connection)
    teardown_databases(old_config, verbosity=verbosity)
    with _locked(_state_path(run_id)) as state:
        state["users"] = state.get("users", 1) - 1
        if state["users"] > 0 or not state.get("templates"):
            return
        for alias, template in state.pop("templates").items():
            connection = connections[alias]
            connection.close()
            connection.creation._destroy_test_db(template, verbosity)
    _state_path(run_id).unlink(missing_ok=True)


def _end_other_sessions(connection, wait: float = 10.0) -> None:
    """Let other sessions on this worker's copy end (a worker process a test started may still be
    stopping), for `wait` seconds at most; then name them in a warning and end them, so that the copy
    can be dropped: the tests have run, and a session left behind is a leak to find, not a reason to
    leave a database behind and fail the run."""
    name = connection.settings_dict["NAME"]
    query = ("SELECT pid, application_name, backend_start, state, left(query, 200) FROM pg_stat_activity "
             "WHERE datname = %s AND pid <> pg_backend_pid()")
    deadline = time.monotonic() + wait
    with connection.creation._nodb_cursor() as cursor:
        while True:
            cursor.execute(query, [name])
            others = cursor.fetchall()
            if not others or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if others:
            warnings.warn(f"sessions still on {name} after the tests, ended: {others}", stacklevel=1)
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> pg_backend_pid()", [name])


def _with_suffix(test_name: str, vendor: str) -> str:
    if vendor == "sqlite":
        path = Path(test_name)
        return str(path.with_name(f"{path.stem}_{TEMPLATE_SUFFIX}{path.suffix}"))
    return f"{test_name}_{TEMPLATE_SUFFIX}"
