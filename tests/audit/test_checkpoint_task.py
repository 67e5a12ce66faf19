import json

from django.conf import settings as django_settings

from audit.checkpoints import CHECKPOINT_FILE
from audit.services import audit_record
from audit.tasks import checkpoint_chain
from config.celery import app


def test_task_appends_the_head_as_a_json_line(db, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "off-site"
    audit_record(actor=None, action="view")
    first = checkpoint_chain.apply().get()
    head = audit_record(actor=None, action="export")
    second = checkpoint_chain.apply().get()

    lines = [json.loads(line) for line in (tmp_path / "off-site" / CHECKPOINT_FILE).read_text().splitlines()]
    assert [(line["seq"], line["hash"]) for line in lines] == [(1, first["hash"]), (2, head.hash)]
    assert lines[1] == second
    assert lines[1]["at"] >= lines[0]["at"]


def test_empty_chain_writes_nothing(db, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    assert checkpoint_chain.apply().get() is None
    assert not (tmp_path / CHECKPOINT_FILE).exists()


def test_checkpoint_is_scheduled_daily_and_registered():
    schedule_entries = django_settings.CELERY_BEAT_SCHEDULE.values()
    entry = next(e for e in schedule_entries if e["task"] == "audit.tasks.checkpoint_chain")
    schedule = entry["schedule"]
    assert schedule.minute == {15} and schedule.hour == {0}
    assert len(schedule.day_of_month) == 31 and len(schedule.day_of_week) == 7
    assert "audit.tasks.checkpoint_chain" in app.tasks


def test_default_folder_is_under_var_dir():
    assert django_settings.AUDIT_CHECKPOINT_DIR == django_settings.VAR_DIR / "audit-checkpoints"
