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
    second = checkpoint_chain.apply().get()  # chains what is waiting, then anchors the head
    head.refresh_from_db()

    lines = [json.loads(line) for line in (tmp_path / "off-site" / CHECKPOINT_FILE).read_text().splitlines()]
    assert [(line["seq"], line["hash"]) for line in lines] == [(1, first["hash"]), (2, head.hash)]
    assert {k: lines[1][k] for k in second} == second
    assert lines[1]["at"] >= lines[0]["at"]
    # Numbered, chained to the one before, signed, and saying why it was written.
    assert [line["n"] for line in lines] == [1, 2] and first["n"] == 1 and second["n"] == 2
    assert lines[0]["prev"] == "" and lines[1]["prev"] == lines[0]["sig"]
    assert {line["why"] for line in lines} == {"schedule"} and all(len(line["sig"]) == 64 for line in lines)


def test_empty_chain_writes_nothing(db, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    assert checkpoint_chain.apply().get() is None
    assert not (tmp_path / CHECKPOINT_FILE).exists()


def test_checkpoint_is_scheduled_every_five_minutes_by_default_and_registered():
    schedule_entries = django_settings.CELERY_BEAT_SCHEDULE.values()
    entry = next(e for e in schedule_entries if e["task"] == "audit.tasks.checkpoint_chain")
    assert entry["schedule"] == django_settings.AUDIT_ANCHOR_INTERVAL_SECONDS == 300
    assert django_settings.AUDIT_ANCHOR_MAX_AGE_SECONDS == 900
    assert "audit.tasks.checkpoint_chain" in app.tasks


def test_default_folder_is_under_var_dir():
    assert django_settings.AUDIT_CHECKPOINT_DIR == django_settings.VAR_DIR / "audit-checkpoints"
