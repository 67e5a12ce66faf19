"""Every publication of monthly reports anchors the audit chain head (README, "Audit anchor")."""

import json

from audit.checkpoints import CHECKPOINT_FILE
from audit.models import AuditEvent
from audit.services import audit_record
from reports.services import monthly_reports_build

from .conftest import OCTOBER, TODAY


def test_publication_writes_a_signed_anchor_of_the_head(
    october, settings, tmp_path, django_capture_on_commit_callbacks,
):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    audit_record(actor=None, action="view")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
    assert outcome.created
    [anchor] = [json.loads(line) for line in (tmp_path / CHECKPOINT_FILE).read_text().splitlines()]
    # The anchor chained what was waiting, then named the head of the chain (its position).
    head = AuditEvent.objects.order_by("-position").first()
    assert AuditEvent.objects.filter(position__isnull=True).count() == 0
    assert (anchor["why"], anchor["seq"], anchor["hash"]) == ("report", head.position, head.hash)


def test_a_failing_anchor_does_not_stop_the_publication(
    october, settings, tmp_path, django_capture_on_commit_callbacks,
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings.AUDIT_CHECKPOINT_DIR = blocker
    audit_record(actor=None, action="view")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
    assert outcome.created and outcome.created[0].pk
