"""The web processes' gunicorn configuration (config/gunicorn.py): every production command passes it, and its
hooks tune the workers' garbage collector (README, "The web workers' garbage collector")."""

import gc
import os
import re
import shlex
import weakref
from types import SimpleNamespace

import pytest
from gunicorn.app.wsgiapp import WSGIApplication

from .conftest import BASE_DIR
from .test_deployment import procfile

CONFIG = "config/gunicorn.py"


def _shell_defaults(command: str) -> str:
    """The command as the shell runs it when none of its variables is set (`${PORT:-8000}` is 8000)."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", command)


@pytest.fixture
def python_gc():
    """Python's collector as the test found it, whatever a hook did to it."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def _loaded_configuration(monkeypatch, command: str):
    """gunicorn's configuration for `command` (a shell command line starting with gunicorn), read by
    gunicorn's own parser from the repository's root, as the web container runs it."""
    argv = shlex.split(_shell_defaults(command))
    assert argv[0] == "gunicorn"
    monkeypatch.chdir(BASE_DIR)
    monkeypatch.setattr("sys.argv", argv)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    return WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg


def test_the_production_web_command_loads_the_configuration_file_and_its_hooks(monkeypatch):
    cfg = _loaded_configuration(monkeypatch, procfile("Procfile")["web"])
    assert cfg.settings["config"].value == CONFIG
    assert cfg.worker_class_str == "sync" and not cfg.preload_app
    # The workers' heartbeat files on a memory filesystem where there is one, not in the container's /tmp.
    assert cfg.worker_tmp_dir == ("/dev/shm" if os.path.isdir("/dev/shm") else None)
    for hook in ("post_worker_init", "when_ready"):
        code = getattr(cfg, hook).__code__
        assert code.co_filename == str(BASE_DIR / CONFIG), hook


def test_every_production_start_of_gunicorn_passes_the_configuration_file():
    web = procfile("Procfile")["web"]
    assert web.startswith(f"gunicorn --config {CONFIG} config.wsgi:application ")
    # docker-compose.yml runs the Procfile's commands exactly (test_deployment); the image's default command too.
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert f'CMD ["sh", "-c", "exec {web}"]' in dockerfile
    # The mixed load measures what production runs.
    scale_mixed = (BASE_DIR / "benchmarks" / "scale_mixed.py").read_text()
    assert '"--config", str(ROOT / "config" / "gunicorn.py")' in scale_mixed


def test_a_worker_frees_the_start_ups_cyclic_garbage_freezes_the_rest_and_collects_young_objects_less_often(
        monkeypatch, python_gc):
    cfg = _loaded_configuration(monkeypatch, procfile("Procfile")["web"])

    class Loaded:
        pass

    loaded, garbage = Loaded(), Loaded()
    garbage.itself = garbage  # a reference cycle: only the collector frees it
    freed = weakref.ref(garbage)
    del garbage
    gc.unfreeze()
    cfg.post_worker_init(SimpleNamespace())
    assert freed() is None, "cyclic garbage of the start-up was frozen instead of freed"
    assert gc.get_freeze_count() > 0
    # Frozen: in none of the generations a collection walks.
    assert not any(obj is loaded for generation in range(3) for obj in gc.get_objects(generation))
    assert gc.get_threshold() == (10_000, 10, 10)


@pytest.mark.parametrize("preload", [False, True])
def test_the_master_freezes_only_what_it_loaded_itself_with_preload(monkeypatch, python_gc, preload):
    cfg = _loaded_configuration(monkeypatch, procfile("Procfile")["web"])
    gc.unfreeze()
    thresholds = gc.get_threshold()
    cfg.when_ready(SimpleNamespace(cfg=SimpleNamespace(preload_app=preload)))
    assert (gc.get_freeze_count() > 0) is preload
    assert (gc.get_threshold() == (10_000, 10, 10)) if preload else (gc.get_threshold() == thresholds)
