"""Encryption at rest, phone search through the keyed hash, and key rotation."""

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from audit.models import AuditEvent
from cases import key_rotation
from cases.erasure import anonymise_case
from cases.models import Action, CaseKey, Survivor
from cases.serializers import PhoneSearchInputSerializer
from cases.services import action_log, survivor_find_by_phone
from encryption import crypto
from tests.cases.services_helpers import access_for, consent_data, open_case, refer, survivor_data, through_edge
from tests.support.killed import Killed, killed_at_call

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
SURVIVOR_COLUMNS = ("full_name", "phone", "address", "guardian_name", "guardian_phone")


def _raw_row(table: str, pk: int, columns) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return dict(zip(columns, cursor.fetchone(), strict=True))


def test_the_database_row_holds_no_plaintext_name_phone_or_action_text(world):
    case = open_case(world, survivor=survivor_data(guardian_name="Nguyễn Văn Hùng", guardian_phone="0987 654 321"))
    action = action_log(access=access_for(world.lead_responder, case), actor=world.lead_responder,
                        data={"type": "medical_care", "text": "Vết bầm tím ở cánh tay"})
    row = _raw_row("cases_survivor", case.survivor_id, (*SURVIVOR_COLUMNS, "phone_hash"))
    stored = " ".join(str(value) for value in row.values())
    for plaintext in ("Trần", "Mai", "0912", "345 678", "912345678", "Hàng Bạc", "Hùng", "0987", "654 321"):
        assert plaintext not in stored
    kid = CaseKey.objects.get(pk=case.data_key_id).kid
    for column in SURVIVOR_COLUMNS:
        assert row[column].startswith(f"ck1.{kid}.gAAAA")  # a Fernet token under the case's own key
    assert len(row["phone_hash"]) == 64
    action_row = _raw_row("cases_action", action.pk, ("text",))
    assert "bầm" not in action_row["text"] and action_row["text"].startswith(f"ck1.{kid}.gAAAA")


@pytest.mark.parametrize("typed", ["0912345678", "+84 912 345 678", "84912345678", "0912.345.678", "(091) 2345-678"])
def test_phone_search_finds_the_survivor_however_the_number_is_written(world, typed):
    case = open_case(world)
    open_case(world, survivor=survivor_data(phone="0912 345 679"))
    assert survivor_find_by_phone(user=world.lead_responder, phone=typed) == [case]


def test_phone_search_needs_the_contact_category(world):
    medical_only = open_case(world, consent=consent_data(world))
    with_contact = open_case(world, consent=consent_data(world, granted_categories=["medical", "contact"]))
    refer(world, medical_only)
    refer(world, with_contact, categories=["medical", "contact"])
    assert survivor_find_by_phone(user=world.receiving_responder, phone="0912345678") == [with_contact]
    assert survivor_find_by_phone(user=world.outsider_responder, phone="0912345678") == []
    assert survivor_find_by_phone(user=world.analyst, phone="0912345678") == []
    assert set(survivor_find_by_phone(user=world.lead_responder, phone="0912345678")) == {medical_only, with_contact}


def test_phone_search_is_audited_without_the_number(world):
    case = open_case(world)
    before = AuditEvent.objects.count()
    survivor_find_by_phone(user=world.lead_responder, phone="0912 345 678")
    survivor_find_by_phone(user=world.outsider_responder, phone="0912 345 678")
    events = list(AuditEvent.objects.order_by("seq"))[before:]
    assert [(e.action, e.details, e.categories) for e in events] == [
        ("search", {"case_ids": [case.pk]}, ["contact"]), ("search", {"case_ids": []}, ["contact"])]
    assert "345" not in str([e.details for e in events]) + "".join(e.target for e in events)


@pytest.mark.parametrize("phone", ["", "   ", "abc", "12", None, 912345678])
def test_phone_search_refuses_what_is_not_a_phone_number(world, phone):
    with pytest.raises(ValidationError) as excinfo:
        survivor_find_by_phone(user=world.lead_responder,
                               **through_edge(PhoneSearchInputSerializer, {"phone": phone}))
    assert "phone" in excinfo.value.message_dict


def _token_keys(token: str) -> set[str]:
    keys = set()
    for name, key in (("old", OLD_KEY), ("new", NEW_KEY)):
        try:
            Fernet(key.encode()).decrypt(token.encode())
            keys.add(name)
        except InvalidToken:
            pass
    return keys


def _rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out)
    return out.getvalue()


def test_rotation_moves_every_value_to_the_new_key(world):
    """The key ring wraps the case keys: rotating re-wraps them, the values sealed with them stay."""
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        cases = [open_case(world) for _ in range(3)]
        action = action_log(access=access_for(world.lead_responder, cases[0]), actor=world.lead_responder,
                            data={"type": "note", "text": "Ghi chú bí mật"})
    survivor_ids = [c.survivor_id for c in cases]
    key_ids = [c.data_key_id for c in cases]
    assert _token_keys(_raw_row("cases_casekey", key_ids[0], ("wrapped_key",))["wrapped_key"]) == {"old"}
    sealed = {pk: _raw_row("cases_survivor", pk, ("full_name", "phone", "address")) for pk in survivor_ids}

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        with pytest.raises(CommandError, match="still encrypted under an older key"):
            _rotate("--check")
        output = _rotate("--batch-size", "2")
        assert "cases.CaseKey.wrapped_key: 3 rotated, 0 already under the newest key, 0 empty" in output
        assert "cases.Survivor.full_name: 0 rotated, 3 already under the newest key, 0 empty" in output
        assert "cases.Survivor.guardian_name: 0 rotated, 0 already under the newest key, 3 empty" in output
        assert "cases.Action.text: 0 rotated, 1 already" in output
        again = _rotate()
        assert "cases.CaseKey.wrapped_key: 0 rotated, 3 already under the newest key" in again
        assert "0 values rotated" in again
        _rotate("--check")

    for pk in key_ids:
        assert _token_keys(_raw_row("cases_casekey", pk, ("wrapped_key",))["wrapped_key"]) == {"new"}
    for pk in survivor_ids:
        assert _raw_row("cases_survivor", pk, ("full_name", "phone", "address")) == sealed[pk]
    crypto.key_cache_clear()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        survivor = Survivor.objects.get(pk=survivor_ids[2])
        assert (survivor.full_name, survivor.phone) == ("Trần Thị Mai", "0912 345 678")
        assert Action.objects.get(pk=action.pk).text == "Ghi chú bí mật"


def test_rotation_refuses_a_value_no_key_opens(world):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        case = open_case(world)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(CommandError) as excinfo:
        _rotate()
    assert f"cases.CaseKey.wrapped_key of row {case.data_key_id} cannot be decrypted" in str(excinfo.value)
    assert "Trần" not in str(excinfo.value)


def test_rotation_refuses_a_bad_batch_size_or_key(world):
    with pytest.raises(CommandError):
        _rotate("--batch-size", "0")
    with override_settings(FIELD_ENCRYPTION_KEYS=["not-a-key"]), pytest.raises(CommandError):
        _rotate()


def test_a_rotation_cut_short_loses_nothing_and_a_second_run_finishes_it(world, monkeypatch):
    """Each batch commits on its own. Killed half-way, every value still opens with the key ring as it is
    (new key first, old key kept), --check says what is left, and running it again finishes."""
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        cases = [open_case(world) for _ in range(4)]
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        with killed_at_call(monkeypatch, key_rotation.crypto, "rotate", calls=2), pytest.raises(Killed):
            _rotate("--batch-size", "1")
        wrapped = [_raw_row("cases_casekey", c.data_key_id, ("wrapped_key",))["wrapped_key"] for c in cases]
        assert [_token_keys(w) for w in wrapped] == [{"new"}, {"new"}, {"old"}, {"old"}]
        crypto.key_cache_clear()
        assert all(Survivor.objects.get(pk=c.survivor_id).full_name == "Trần Thị Mai" for c in cases)
        with pytest.raises(CommandError, match="2 values are still encrypted under an older key"):
            _rotate("--check")
        assert "cases.CaseKey.wrapped_key: 2 rotated, 2 already under the newest key" in _rotate("--batch-size", "1")
        _rotate("--check")
    crypto.key_cache_clear()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert all(Survivor.objects.get(pk=c.survivor_id).full_name == "Trần Thị Mai" for c in cases)


@pytest.mark.parametrize("command", ["rotate_encryption_keys", "seal_case_data"])
@pytest.mark.parametrize("size", ["0", "-5", "9223372036854775808", "99999999999999999999"])
def test_a_batch_size_out_of_range_is_refused_before_anything_is_read(world, command, size, django_assert_num_queries):
    """Not silently taken as 1 (seal_case_data did), nor sent to the database as a LIMIT beyond its integers
    (an OverflowError or a DataError's traceback)."""
    with django_assert_num_queries(0), pytest.raises(CommandError, match="--batch-size"):
        call_command(command, "--batch-size", size, stdout=io.StringIO())


def test_rotation_leaves_a_value_changed_meanwhile_alone(world, monkeypatch):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        case = open_case(world)
    real_rotate = key_rotation.crypto.rotate

    def rotate_while_the_case_is_erased(token):
        # The case is anonymised (its key destroyed) between the read and the write: the rotation
        # must not bring the key back.
        anonymise_case(case, actor=None, reason="retention")
        return real_rotate(token)

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        monkeypatch.setattr(key_rotation.crypto, "rotate", rotate_while_the_case_is_erased)
        _rotate()
        assert _raw_row("cases_casekey", case.data_key_id, ("wrapped_key",))["wrapped_key"] == ""
        crypto.key_cache_clear()
        assert Survivor.objects.get(pk=case.survivor_id).full_name == ""
