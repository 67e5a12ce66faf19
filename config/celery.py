"""The one Celery app. Everything it needs comes from Django settings (CELERY_* names)."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_process_init
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# Every filesystem:// URL (the embedded broker's) in every process that loads this app (web, worker, beat,
# commands) goes through the transport that writes each message whole (config/filesystem_broker.py);
# set before any connection is made, as kombu resolves the name when it first builds one.
TRANSPORT_ALIASES["filesystem"] = "config.filesystem_broker:Transport"

app = Celery("hopluc")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs) -> None:
    """Create the embedded broker's folders the first time any process (web, worker, beat) uses Celery.

    Not at import: this module is imported while Django is still loading its settings.
    """
    from django.conf import settings

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True)
    (settings.CELERY_FS_DIR / "results").mkdir(parents=True, exist_ok=True)


app.autodiscover_tasks()
app.autodiscover_tasks(["config"])


@worker_process_init.connect
def _leave_worker_process_group(**kwargs) -> None:
    """Put each prefork child in its own process group.

    Supervisors such as honcho stop a process by signalling its whole group. A pool child killed
    that way can die holding the pool's queue lock, and the parent then hangs at exit instead of
    finishing its warm shutdown. Outside the group, children are stopped by their parent, and the
    parent-death signal Celery sets still ends them if the parent is killed.
    """
    os.setpgid(0, 0)
