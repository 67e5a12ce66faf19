import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("hopluc")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _configure_transport() -> None:
    from django.conf import settings

    visibility = {"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT}
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder"):
            Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]).mkdir(parents=True, exist_ok=True)
        (settings.CELERY_FS_DIR / "results").mkdir(parents=True, exist_ok=True)
    else:
        app.conf.broker_transport_options = visibility
        app.conf.result_backend_transport_options = visibility


_configure_transport()
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])


