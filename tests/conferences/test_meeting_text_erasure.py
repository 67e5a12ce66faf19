"""The reasons typed about a case meeting (why it was cancelled, why its minutes were corrected) may name a
survivor of any case on its agenda: they are sealed with the meeting's own key, which erasing any of those
cases destroys, and they never reach the append-only audit trail (audit findings F2)."""

import datetime

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.models import AuditEvent
from cases.erasure import anonymise_case, anonymised_reapply
from cases.models import Case, CaseKey
from conferences.models import CaseMeeting, MeetingMinutes
from conferences.services import (
    contribution_add,
    decision_record,
    meeting_cancel,
    meeting_case_add,
    meeting_hold,
    minutes_correct,
    minutes_sign,
    plan_item_add,
)
from conferences.triggers import minutes_lock_install, minutes_lock_remove
from encryption import crypto
from tests.cases.conftest import case_build, shared_case, time_limits  # noqa: F401
from tests.cases.test_no_plaintext import _all_text_in_database
from tests.conferences.conftest import access_of, meeting_build

NAME = "Nguyễn Thị Hoa"  # the survivor of tests.cases.conftest.SURVIVOR
OTHER_NAME = "Trần Thị Mai"  # named in a reason about the meeting's other case


@pytest.fixture(autouse=True)
def _ledger(settings, tmp_path):
    settings.ERASURE_LEDGER_FILE = tmp_path / "erasures.jsonl"


def _held_signed_corrected(world, case, reason: str) -> CaseMeeting:
    """A meeting about `case`, held, its minutes decided and signed, then corrected with `reason`."""
    held = meeting_build(world, case, invite_health=False)
    chair = world.lead_supervisor
    meeting_hold(access=access_of(chair, held.meeting), actor=chair, held_on=timezone.localdate())
    decision_record(access=access_of(chair, held.meeting), actor=chair, meeting_case_id=held.row.pk,
                    text="Lập kế hoạch an toàn.")
    minutes_sign(access=access_of(chair, held.meeting), actor=chair)
    minutes_correct(access=access_of(chair, held.meeting), actor=chair, reason=reason)
    return held.meeting


def _reasons(meeting: CaseMeeting) -> tuple[str, list[str]]:
    """The meeting's reasons as the ORM reads them now (no key remembered from before)."""
    crypto.key_cache_clear()
    meeting = CaseMeeting.objects.get(pk=meeting.pk)
    return meeting.cancelled_reason, [m.correction_reason for m in MeetingMinutes.objects.filter(meeting=meeting)]


def test_meeting_text_naming_her_is_gone_after_erasure(world, shared_case):  # noqa: F811
    """The auditor's case: a correction and a cancellation naming her, then her case erased."""
    case = shared_case.case
    corrected = _held_signed_corrected(world, case, f"Ghi nhầm tên: chị {NAME}, không phải chị Lan")
    other = meeting_build(world, case, invite_health=False)
    meeting_cancel(access=access_of(world.lead_supervisor, other.meeting), actor=world.lead_supervisor,
                   reason=f"Chị {NAME} đã chuyển vào nhà tạm lánh")
    assert _reasons(corrected)[1] == ["", f"Ghi nhầm tên: chị {NAME}, không phải chị Lan"]
    assert _reasons(other.meeting)[0] == f"Chị {NAME} đã chuyển vào nhà tạm lánh"
    sealed = [(t, c, v) for t, c, v in _all_text_in_database() if c in ("cancelled_reason", "correction_reason") and v]

    anonymise_case(case, actor=world.lead_supervisor, reason="subject_request:1")

    leaks = sorted({(table, column) for table, column, value in _all_text_in_database() if NAME in value})
    assert leaks == [], f"her name outlives the erasure in plaintext: {leaks}"
    assert _reasons(corrected) == ("", ["", ""]) and _reasons(other.meeting) == ("", [])
    # What a backup taken before holds of the reasons opens with no key the database still yields.
    ring = [Fernet(k.encode()) for k in settings.FIELD_ENCRYPTION_KEYS]
    keys = ring + [Fernet(row.wrapped_key.encode()) for row in CaseKey.objects.exclude(wrapped_key="")]
    assert len(sealed) == 2 and all(crypto.is_sealed(v) for _t, _c, v in sealed)
    for _table, _column, value in sealed:
        for key in keys:
            with pytest.raises(InvalidToken):
                key.decrypt(value[len(crypto.SEALED_PREFIX) + crypto.KID_LENGTH + 1:].encode())


def test_erasing_any_case_on_the_agenda_shreds_the_meetings_reasons(world, shared_case):  # noqa: F811
    """The reason names whom it names: erasing the other case on the agenda shreds it too, and a meeting
    without that case keeps its reason."""
    second = case_build(world)
    meeting = _held_signed_corrected(world, shared_case.case, f"Bổ sung ý kiến về chị {OTHER_NAME}")
    both = meeting_build(world, shared_case.case, invite_health=False)
    meeting_case_add(access=access_of(world.lead_supervisor, both.meeting), actor=world.lead_supervisor,
                     case_id=second.pk)
    meeting_cancel(access=access_of(world.lead_supervisor, both.meeting), actor=world.lead_supervisor,
                   reason=f"Chị {OTHER_NAME} đã chuyển đi tỉnh khác")

    anonymise_case(second, actor=None, reason="retention")

    assert _reasons(both.meeting)[0] == ""
    assert not any(OTHER_NAME in v for _t, _c, v in _all_text_in_database())
    # The first meeting had only her case on its agenda: its reason is still read.
    assert _reasons(meeting)[1][-1] == f"Bổ sung ý kiến về chị {OTHER_NAME}"
    assert Case.objects.get(pk=shared_case.case.pk).anonymised_at is None


def test_nothing_typed_later_about_a_meeting_with_an_erased_case_is_kept(world, shared_case):  # noqa: F811
    scheduled = meeting_build(world, shared_case.case, invite_health=False)
    anonymise_case(shared_case.case, actor=None, reason="retention")
    meeting_cancel(access=access_of(world.lead_supervisor, scheduled.meeting), actor=world.lead_supervisor,
                   reason=f"Chị {NAME} không đến được")
    assert CaseMeeting.objects.get(pk=scheduled.meeting.pk).status == "cancelled"
    assert _reasons(scheduled.meeting)[0] == ""
    assert not any(NAME in v for _t, _c, v in _all_text_in_database())


def test_signed_minutes_still_refuse_every_change(world, shared_case):  # noqa: F811
    """The reasons are shredded by their key, not by rewriting the minutes: the lock is whole."""
    meeting = _held_signed_corrected(world, shared_case.case, f"Sửa tên chị {NAME}")
    minutes_sign(access=access_of(world.lead_supervisor, meeting), actor=world.lead_supervisor)
    anonymise_case(shared_case.case, actor=None, reason="retention")
    for version in MeetingMinutes.objects.filter(meeting=meeting):
        with pytest.raises(IntegrityError), transaction.atomic():
            MeetingMinutes.objects.filter(pk=version.pk).update(correction_reason="")


def test_a_restored_backup_has_the_meetings_reasons_shredded_again(world, shared_case):  # noqa: F811
    meeting = _held_signed_corrected(world, shared_case.case, f"Sửa tên chị {NAME}")
    with connection.cursor() as cursor:  # the keys as a backup taken now holds them
        cursor.execute("SELECT id, wrapped_key FROM cases_casekey")
        keys = cursor.fetchall()
    anonymise_case(shared_case.case, actor=None, reason="retention")
    assert _reasons(meeting)[1][-1] == ""
    # The restore of a backup taken before the erasure: the case and every key as they were.
    with connection.cursor() as cursor:
        for key_id, wrapped in keys:
            cursor.execute("UPDATE cases_casekey SET wrapped_key = %s, destroyed_at = NULL WHERE id = %s",
                           [wrapped, key_id])
    Case.objects.filter(pk=shared_case.case.pk).update(anonymised_at=None)
    assert _reasons(meeting)[1][-1] == f"Sửa tên chị {NAME}"
    anonymised_reapply()
    assert _reasons(meeting)[1][-1] == ""
    assert CaseKey.objects.get(pk=CaseMeeting.objects.get(pk=meeting.pk).data_key_id).wrapped_key == ""


MARK = "QZMEET-Nguyễn"


def test_no_meeting_write_puts_typed_text_in_the_audit_trail(world, shared_case):  # noqa: F811
    """Every write of the case-meeting app with typed text, a marker in each: the audit trail records what
    was done, never what was typed."""
    chair = world.lead_supervisor
    held = meeting_build(world, shared_case.case)
    meeting_hold(access=access_of(chair, held.meeting), actor=chair, held_on=timezone.localdate())
    contribution_add(access=access_of(chair, held.meeting), actor=chair, meeting_case_id=held.row.pk,
                     category="general", text=f"{MARK} contribution")
    decision_record(access=access_of(chair, held.meeting), actor=chair, meeting_case_id=held.row.pk,
                    text=f"{MARK} decision")
    plan_item_add(access=access_of(chair, held.meeting), actor=chair, meeting_case_id=held.row.pk,
                  action=f"{MARK} action", owner_agency_id=shared_case.case.lead_agency_id, owner_user=None,
                  due_at=timezone.now() + datetime.timedelta(days=3))
    minutes_sign(access=access_of(chair, held.meeting), actor=chair)
    minutes_correct(access=access_of(chair, held.meeting), actor=chair, reason=f"{MARK} correction")
    other = meeting_build(world, shared_case.case, invite_health=False)
    meeting_cancel(access=access_of(chair, other.meeting), actor=chair, reason=f"{MARK} cancelled")

    events = list(AuditEvent.objects.values_list("action", "target", "reason", "details"))
    assert any(target.startswith("meeting_minutes:") and details.get("corrects") == 1
               for _a, target, _r, details in events), "the correction is recorded"
    assert [e for e in events if MARK in repr(e) or e[2]] == []
    assert not any(MARK in v for _t, _c, v in _all_text_in_database())


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_reasons_written_in_plaintext(world, time_limits):  # noqa: F811
    """conferences 0003: reasons an older version wrote in plaintext, signed minutes' too, are sealed with the
    meeting's key, or blanked where a case on the agenda was already erased; the minutes are locked again."""
    kept_case, erased_case = case_build(world), case_build(world)
    kept = _held_signed_corrected(world, kept_case, "Sửa tên")
    erased = _held_signed_corrected(world, erased_case, "Sửa tên")
    for meeting in (kept, erased):
        minutes_sign(access=access_of(world.lead_supervisor, meeting), actor=world.lead_supervisor)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        MigrationExecutor(connection).migrate([("conferences", "0002_minutes_lock")])
        minutes_lock_remove(connection)
        with connection.cursor() as cursor:  # as the older version wrote them
            cursor.execute("UPDATE conferences_casemeeting SET cancelled_reason = %s WHERE id = %s",
                           [f"Chị {NAME} đã chuyển đi", kept.pk])
            cursor.execute("UPDATE conferences_meetingminutes SET correction_reason = %s WHERE version = 2",
                           [f"Ghi nhầm tên chị {NAME}"])
        minutes_lock_install(connection)
        Case.objects.filter(pk=erased_case.pk).update(anonymised_at=timezone.now())
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert not any(NAME in v for _t, _c, v in _all_text_in_database())
    assert _reasons(kept) == (f"Chị {NAME} đã chuyển đi", ["", f"Ghi nhầm tên chị {NAME}"])
    assert _reasons(erased) == ("", ["", ""])
    assert CaseKey.objects.get(pk=CaseMeeting.objects.get(pk=erased.pk).data_key_id).destroyed_at is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        MeetingMinutes.objects.filter(meeting=kept, version=2).update(correction_reason="")
