"""Issue 12, part 2: crypto-shredding. Each case's text is sealed with a key of its own; erasing the
case destroys that key, so that no copy (the database, a backup taken before) opens again, while
the structured facts keep every monthly report count."""


import contextlib
import io

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation

from audit.models import AuditEvent
from cases.erasure import anonymise_case, case_is_anonymised
from cases.models import Case, CaseKey, Survivor
from encryption import crypto
from handoffs.models import Handoff
from reports.indicators import month_drafts
from tests.support.killed import Killed, killed_at_call

from .conftest import SURVIVOR, case_build
from .test_no_plaintext import PREFIX, _all_text_in_database, everything_written  # noqa: F401


@pytest.fixture(autouse=True)
def _ledger(settings, tmp_path):
    settings.ERASURE_LEDGER_FILE = tmp_path / "erasures.jsonl"


def _ring() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in settings.FIELD_ENCRYPTION_KEYS])


def _sealed_values(kid: str) -> list[tuple[str, str, str]]:
    return [(t, c, v) for t, c, v in _all_text_in_database() if v.startswith(f"{crypto.SEALED_PREFIX}{kid}")]


def _openable(value: str, keys: list[Fernet]) -> str | None:
    token = value[len(crypto.SEALED_PREFIX) + crypto.KID_LENGTH + 1:] if crypto.is_sealed(value) else value
    for key in keys:
        try:
            return key.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            continue
    return None


def test_erasure_leaves_no_decryptable_trace(everything_written, world, api, web):  # noqa: F811
    case = everything_written
    kid = CaseKey.objects.get(pk=case.data_key_id).kid
    backup = _sealed_values(kid)  # what a backup taken now holds of the case
    assert len(backup) >= 20 and all(PREFIX not in v for _t, _c, v in backup)
    # Before the erasure the case key opens them.
    assert any(PREFIX in (_openable(v, [crypto.case_key(kid)]) or "") for _t, _c, v in backup)

    other = case_build(world)
    anonymise_case(case, actor=world.lead_supervisor, reason="subject_request:1")
    crypto.key_cache_clear()
    assert Survivor.objects.get(pk=other.survivor_id).full_name == SURVIVOR["full_name"]

    assert CaseKey.objects.get(kid=kid).wrapped_key == "" and CaseKey.objects.get(kid=kid).destroyed_at
    # Every key the database can still yield: the key ring itself, and every case key it unwraps.
    keys = [Fernet(k.encode()) for k in settings.FIELD_ENCRYPTION_KEYS]
    everything = _all_text_in_database()
    for _table, _column, value in everything:
        opened = _openable(value, keys)
        if opened is not None:
            assert PREFIX not in opened
            with contextlib.suppress(ValueError):
                keys.append(Fernet(opened.encode()))  # an unwrapped case key of another case
    assert len(keys) > len(settings.FIELD_ENCRYPTION_KEYS)  # the other cases' keys were tried too
    for _table, _column, value in backup + everything:
        opened = _openable(value, keys)
        assert opened is None or PREFIX not in opened, value
    assert not any(PREFIX in v for _t, _c, v in everything)
    # What stays is sealed under the destroyed key: values a constraint requires, and the decisions of signed
    # minutes, which the database refuses to change (conferences.triggers).
    assert _sealed_values(kid) == [] or all(c in ("decline_reason", "override_reason", "reason", "comment", "purpose")
                                            or (t, c) == ("conferences_minutesdecision", "text")
                                            for t, c, _v in _sealed_values(kid))

    # Read through the ORM, everything is blank; the facts are kept.
    case = Case.objects.select_related("survivor").get(pk=case.pk)
    assert case_is_anonymised(case)
    survivor = case.survivor
    assert (survivor.full_name, survivor.phone, survivor.address, survivor.phone_hash, survivor.ethnicity) == (
        "", "", "", "", "")
    assert survivor.sex == "female" and survivor.birth_year
    assert {h.decline_reason for h in Handoff.objects.filter(case=case)} <= {""}
    assert case.incidents.count() == 1

    # The audit trail says what happened and holds no text.
    event = AuditEvent.objects.filter(case_id=case.pk).latest("seq")
    assert (event.action, event.reason, event.target, event.details["reason"], event.details["data_keys"]) == (
        "case.anonymised", "", f"case:{case.pk}", "subject_request:1", [kid])

    # Pages and the API show the case as anonymised, without errors.
    response = api(world.lead_responder).get(f"/api/cases/{case.pk}/")
    assert response.status_code == 200 and response.json()["anonymised_at"]
    assert response.json()["survivor"]["full_name"] == ""
    assert api(world.lead_responder).get(f"/api/cases/{case.pk}/timeline/").status_code == 200
    page = web(world.lead_responder).get(f"/cases/{case.pk}/")
    assert page.status_code == 200 and 'data-testid="case-anonymised"' in page.content.decode()
    for handoff in Handoff.objects.filter(case=case):
        assert web(world.lead_responder).get(f"/handoffs/{handoff.pk}/").status_code in (200, 404)
    assert web(world.lead_supervisor).get("/supervision/").status_code == 200
    assert web(world.lead_responder).get("/cases/").status_code == 200

    # Idempotent: a second run changes nothing and records nothing.
    count = AuditEvent.objects.count()
    anonymise_case(case, actor=None, reason="retention")
    assert AuditEvent.objects.count() == count


def test_permissions_are_unchanged_by_the_erasure(world, api, time_limits):
    case = case_build(world)
    anonymise_case(case, actor=None, reason="retention")
    assert api(world.lead_responder).get(f"/api/cases/{case.pk}/").status_code == 200
    for outsider in (world.outsider_responder, world.receiving_responder, world.analyst):
        assert api(outsider).get(f"/api/cases/{case.pk}/").status_code in (403, 404)
    assert api(None).get(f"/api/cases/{case.pk}/").status_code in (401, 403)


def test_the_reason_is_a_code_never_free_text(world, time_limits):
    case = case_build(world)
    for bad in ("Người bị hại yêu cầu xóa", "", "x" * 101, None):
        with pytest.raises(ValueError):
            anonymise_case(case, actor=None, reason=bad)
    case.refresh_from_db()
    assert not case_is_anonymised(case)
    assert Survivor.objects.get(pk=case.survivor_id).full_name == SURVIVOR["full_name"]


def test_erasure_keeps_the_monthly_report_counts(world, time_limits):
    cases = [case_build(world) for _ in range(3)]
    period = timezone.localdate().replace(day=1)

    def counts():
        _month, drafts = month_drafts(period)
        return {(d.key, d.scope): d.cells for scope_drafts in drafts.values() for d in scope_drafts}

    before = counts()
    assert before[("new_cases", None)] != [[0] * len(row) for row in before[("new_cases", None)]]
    anonymise_case(cases[0], actor=None, reason="retention")
    assert counts() == before


def test_one_case_key_does_not_open_another_case(world, time_limits):
    first, second = case_build(world), case_build(world)
    assert first.data_key_id != second.data_key_id
    assert first.data_key_id == first.survivor.data_key_id
    anonymise_case(first, actor=None, reason="retention")
    crypto.key_cache_clear()
    assert Survivor.objects.get(pk=second.survivor_id).full_name == SURVIVOR["full_name"]


def test_a_backup_restored_after_an_erasure_is_shredded_again(world, time_limits):
    case = case_build(world)
    row = CaseKey.objects.get(pk=case.data_key_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT wrapped_key FROM cases_casekey WHERE id = %s", [row.pk])
        wrapped = cursor.fetchone()[0]
    anonymise_case(case, actor=None, reason="retention")
    # The restore of a backup taken before: the key and the text are back, the ledger (kept outside
    # the database) remembers the erasure.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_casekey SET wrapped_key = %s, destroyed_at = NULL WHERE id = %s",
                       [wrapped, row.pk])
    Case.objects.filter(pk=case.pk).update(anonymised_at=None)
    crypto.key_cache_clear()
    erasures = AuditEvent.objects.filter(action="case.anonymised", case_id=case.pk)
    assert erasures.count() == 1
    call_command("reapply_erasures")
    crypto.key_cache_clear()
    assert CaseKey.objects.get(pk=row.pk).wrapped_key == ""
    assert Case.objects.get(pk=case.pk).anonymised_at is not None
    # The restored case's text was blanked and its key destroyed again: a change of case data, audited.
    again = erasures.order_by("-seq").first()
    assert erasures.count() == 2 and again.actor_id is None
    assert again.details == {"reason": "backup_restored", "data_keys": [row.kid]}
    assert again.request_id.startswith("command:reapply_erasures:")
    call_command("reapply_erasures")
    assert erasures.count() == 2  # nothing restored any more: nothing changed, nothing recorded


@pytest.mark.parametrize("torn", ['{"at": "2026-12-01T02:0', "\x00" * 37])
def test_an_erasure_written_after_a_torn_ledger_line_is_applied_again(world, time_limits, torn):
    """The machine went down in the middle of writing a ledger line (its start, or a block of NULs, is all
    that reached the disk); the next erasure's line is written after it. After restoring a backup taken
    before that next erasure (so the audit trail does not hold it either), the ledger still says it."""
    from cases.erasure import _ledger_append

    case = case_build(world)
    kid = CaseKey.objects.get(pk=case.data_key_id).kid
    with open(settings.ERASURE_LEDGER_FILE, "w", encoding="utf-8") as ledger:
        ledger.write(torn)
    # The erasure of `case` as the ledger keeps it; the restored database has not seen it.
    _ledger_append({"case_id": case.pk, "data_keys": [kid], "at": timezone.now().isoformat()})
    call_command("reapply_erasures", stdout=io.StringIO(), stderr=io.StringIO())
    crypto.key_cache_clear()
    assert CaseKey.objects.get(pk=case.data_key_id).wrapped_key == ""
    assert case_is_anonymised(Case.objects.get(pk=case.pk))
    assert Survivor.objects.get(pk=case.survivor_id).full_name == ""


def test_ledger_lines_that_record_no_erasure_are_counted_and_the_others_applied(world, time_limits):
    from cases.erasure import _ledger_append

    case = case_build(world)
    kid = CaseKey.objects.get(pk=case.data_key_id).kid
    with open(settings.ERASURE_LEDGER_FILE, "w", encoding="utf-8") as ledger:
        ledger.write('[1, 2]\n{"case_id": "x", "data_keys": "abc"}\n{"case_id": 1\n\n')
    _ledger_append({"case_id": case.pk, "data_keys": [kid], "at": timezone.now().isoformat()})
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("reapply_erasures", stdout=out, stderr=err)
    assert "3 line(s) of the erasure ledger record no erasure" in err.getvalue()
    assert out.getvalue().startswith("1 case data key(s) destroyed again")
    assert CaseKey.objects.get(pk=case.data_key_id).wrapped_key == ""


def test_reapplying_cut_short_changes_nothing_and_a_second_run_finishes(world, time_limits, monkeypatch):
    from cases import erasure

    cases = [case_build(world) for _ in range(3)]
    wrapped = {}
    for case in cases:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wrapped_key FROM cases_casekey WHERE id = %s", [case.data_key_id])
            wrapped[case.pk] = cursor.fetchone()[0]
        anonymise_case(case, actor=None, reason="retention")
    for case in cases:  # the restore of a backup taken before the three erasures
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_casekey SET wrapped_key = %s, destroyed_at = NULL WHERE id = %s",
                           [wrapped[case.pk], case.data_key_id])
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(anonymised_at=None)
    with killed_at_call(monkeypatch, erasure, "_erase", calls=2), pytest.raises(Killed):
        call_command("reapply_erasures", stdout=io.StringIO())
    assert not Case.objects.filter(pk__in=[c.pk for c in cases], anonymised_at__isnull=False).exists()
    assert not CaseKey.objects.filter(pk__in=[c.data_key_id for c in cases], destroyed_at__isnull=False).exists()
    call_command("reapply_erasures", stdout=io.StringIO())
    assert Case.objects.filter(pk__in=[c.pk for c in cases], anonymised_at__isnull=False).count() == 3
    assert set(CaseKey.objects.filter(pk__in=[c.data_key_id for c in cases]).values_list("wrapped_key", flat=True)) \
        == {""}


def test_a_ledger_that_cannot_be_read_stops_the_command_before_it_changes_anything(world, time_limits, settings,
                                                                                   tmp_path):
    from django.core.management import CommandError

    case = case_build(world)
    anonymise_case(case, actor=None, reason="retention")
    CaseKey.objects.filter(pk=case.data_key_id).update(destroyed_at=None)  # restored: the audit trail says erased
    settings.ERASURE_LEDGER_FILE = tmp_path  # a directory: the operator's wrong path
    with pytest.raises(CommandError, match="erasure ledger cannot be read"), translation.override("en"):
        call_command("reapply_erasures", stdout=io.StringIO())
    assert CaseKey.objects.get(pk=case.data_key_id).destroyed_at is None


def _database_rows() -> dict[tuple[str, str, object], dict[str, object]]:
    """Every row of every table with a one-column primary key, as a backup holds it (not the append-only
    audit trail, which a restore cannot rewrite here), without generated columns."""
    from django.apps import apps
    from django.db.models import GeneratedField

    rows = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if not meta.managed or meta.proxy or getattr(meta.pk, "column", None) is None \
                    or meta.db_table.startswith("audit_"):
                continue
            generated = {f.column for f in meta.concrete_fields if isinstance(f, GeneratedField)}
            cursor.execute(f"SELECT * FROM {quote(meta.db_table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                values = {c: v for c, v in zip(columns, row, strict=True) if c not in generated}
                rows[(meta.db_table, meta.pk.column, values[meta.pk.column])] = values
    return rows


def _restore(rows: dict[tuple[str, str, object], dict[str, object]]) -> None:
    """Put back every value of `rows` that changed since (what restoring the backup does to them)."""
    quote = connection.ops.quote_name
    now = _database_rows()
    with connection.cursor() as cursor:
        for (table, pk, key), values in rows.items():
            changed = {c: v for c, v in values.items() if now[(table, pk, key)][c] != v}
            if changed:
                cursor.execute(f"UPDATE {quote(table)} SET {', '.join(f'{quote(c)} = %s' for c in changed)} "  # noqa: S608
                               f"WHERE {quote(pk)} = %s", [*changed.values(), key])


# Columns that hold when the erasure ran: set again when it runs again.
_ERASED_AT = {"anonymised_at", "updated_at", "destroyed_at", "case_updated_at"}


def test_a_restored_backup_is_erased_again_exactly_as_the_erasure_did(everything_written, world):  # noqa: F811
    """After the restore of a backup taken before an erasure, reapply_erasures leaves the rows as the erasure
    left them: no sealed text, no phone search hash, no decline reason key, no content hash, no key."""
    case = everything_written
    backup = _database_rows()
    anonymise_case(case, actor=None, reason="retention")
    erased = _database_rows()
    survivor = Survivor.objects.get(pk=case.survivor_id)
    assert backup[("cases_survivor", "id", survivor.pk)]["phone_hash"] and survivor.phone_hash == ""
    assert Handoff.objects.filter(case=case, status="declined").exclude(decline_reason_key=None).count() == 0
    assert backup != erased

    _restore(backup)
    crypto.key_cache_clear()
    assert Survivor.objects.get(pk=case.survivor_id).full_name  # the restore brought the identity back
    call_command("reapply_erasures")
    crypto.key_cache_clear()

    again = _database_rows()
    assert again.keys() == erased.keys()
    differ = {(table, column) for row, values in erased.items() for column, value in values.items()
              if again[row][column] != value and column not in _ERASED_AT for table in [row[0]]}
    assert differ == set()
    survivor = Survivor.objects.get(pk=case.survivor_id)
    assert (survivor.full_name, survivor.phone, survivor.address, survivor.phone_hash) == ("", "", "", "")
    assert not Handoff.objects.filter(case=case).exclude(decline_reason_key=None).exists()
    assert set(case.takedown_requests.values_list("content_reference_hash", flat=True)) == {""}
    assert not CaseKey.objects.filter(pk=case.data_key_id).exclude(wrapped_key="").exists()


def test_sealing_leaves_a_value_changed_meanwhile_alone(world, time_limits, monkeypatch):
    """The command runs on a live installation: a name a responder corrects between the command's read and
    its write is kept, not overwritten by the old name sealed."""
    from cases import sealing

    case = case_build(world)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_survivor SET full_name = %s WHERE id = %s",
                       [crypto.encrypt("Trần Thị Cũ"), case.survivor_id])
    real_open = sealing._open_legacy

    def open_while_the_name_is_corrected(value):
        survivor = Survivor.objects.get(pk=case.survivor_id)
        survivor.full_name = "Trần Thị Mới"
        survivor.save(update_fields=["full_name"])
        return real_open(value)

    monkeypatch.setattr(sealing, "_open_legacy", open_while_the_name_is_corrected)
    call_command("seal_case_data", stdout=io.StringIO())
    crypto.key_cache_clear()
    assert Survivor.objects.get(pk=case.survivor_id).full_name == "Trần Thị Mới"


def test_sealing_cut_short_loses_nothing_and_a_second_run_finishes(world, time_limits, monkeypatch):
    from cases import sealing

    cases = [case_build(world) for _ in range(4)]
    for n, case in enumerate(cases):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_survivor SET full_name = %s WHERE id = %s",
                           [crypto.encrypt(f"Tên cũ {n}"), case.survivor_id])
    with killed_at_call(monkeypatch, sealing, "_open_legacy", calls=2), pytest.raises(Killed):
        call_command("seal_case_data", "--batch-size", "1", stdout=io.StringIO())
    crypto.key_cache_clear()
    names = [Survivor.objects.get(pk=c.survivor_id).full_name for c in cases]
    assert names == [f"Tên cũ {n}" for n in range(4)]  # sealed or not yet, every name opens
    out = io.StringIO()
    call_command("seal_case_data", stdout=out)
    assert "cases.Survivor.full_name: 2 sealed" in out.getvalue()
    crypto.key_cache_clear()
    assert [Survivor.objects.get(pk=c.survivor_id).full_name for c in cases] == names


def test_a_list_opens_every_case_key_in_one_query(world, time_limits, django_assert_num_queries):
    for _ in range(5):
        case_build(world)
    crypto.key_cache_clear()
    survivors = list(Survivor.objects.all())
    with django_assert_num_queries(1):
        names = [s.full_name for s in survivors]
    assert names == [SURVIVOR["full_name"]] * 5
    with django_assert_num_queries(0):
        assert [s.phone for s in survivors] == [SURVIVOR["phone"]] * 5


def test_rotating_the_key_ring_rewraps_the_case_keys(world, time_limits, settings):
    from cases.key_rotation import encrypted_values_rotate

    case = case_build(world)
    old = list(settings.FIELD_ENCRYPTION_KEYS)
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, *old]
    counts = {c.label: c for c in encrypted_values_rotate()}
    assert counts["cases.CaseKey.wrapped_key"].rotated >= 1
    assert counts["cases.Survivor.full_name"].rotated == 0  # sealed with the case key: untouched
    settings.FIELD_ENCRYPTION_KEYS = [new]
    crypto.key_cache_clear()
    assert Survivor.objects.get(pk=case.survivor_id).full_name == SURVIVOR["full_name"]
    assert encrypted_values_rotate(check_only=True) and all(
        c.rotated == 0 for c in encrypted_values_rotate(check_only=True))
    # Without the new key, nothing opens: the case keys are under it now.
    settings.FIELD_ENCRYPTION_KEYS = old
    crypto.key_cache_clear()
    with pytest.raises(Exception, match="cannot be decrypted"):
        Survivor.objects.get(pk=case.survivor_id).full_name  # noqa: B018


def test_existing_rows_are_sealed_by_the_command(world, time_limits):
    case = case_build(world)
    legacy_name = crypto.encrypt("Trần Thị Cũ")  # identity under the key ring, as before issue 12
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_survivor SET full_name = %s, ethnicity = %s, data_key_id = NULL WHERE id = %s",
                       [legacy_name, "Tày", case.survivor_id])
        cursor.execute("UPDATE cases_case SET data_key_id = NULL WHERE id = %s", [case.pk])
    Handoff.objects.filter(case=case).delete()
    call_command("seal_case_data")
    case = Case.objects.select_related("survivor").get(pk=case.pk)
    assert case.data_key_id and case.data_key_id == case.survivor.data_key_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name, ethnicity FROM cases_survivor WHERE id = %s", [case.survivor_id])
        raw = cursor.fetchone()
    kid = CaseKey.objects.get(pk=case.data_key_id).kid
    assert all(value.startswith(f"ck1.{kid}.") for value in raw)
    crypto.key_cache_clear()
    survivor = Survivor.objects.get(pk=case.survivor_id)
    assert (survivor.full_name, survivor.ethnicity) == ("Trần Thị Cũ", "Tày")
    # Again: nothing left to do.
    call_command("seal_case_data")
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name FROM cases_survivor WHERE id = %s", [case.survivor_id])
        assert cursor.fetchone()[0] == raw[0]
