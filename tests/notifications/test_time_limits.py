"""Time limits are data with their legal source, loaded by migration and overridable by settings."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from notifications.calendar import limit_parse, time_limit_effective
from notifications.checks import notification_settings_check
from notifications.models import LegalTimeLimit
from notifications.services import deadline_create, handoff_response_rule_code

# Every row of DESIGN.md's "Time limits the system encodes" table.
DESIGN_TABLE = [
    ("child_serious_risk_intervention", 12, "hours", "Decree 56/2017/ND-CP Art. 26"),
    ("child_support_plan", 5, "working_days", "Decree 56/2017/ND-CP Art. 28"),
    ("dv_contact_ban_decision", 12, "hours", "Law 13/2022/QH15 Art. 25"),
    ("dv_contact_ban_duration", 3, "days", "Law 13/2022/QH15 Art. 25"),
    ("court_contact_ban_duration", 4, "months", "Law 13/2022/QH15 Art. 26"),
    ("platform_takedown_authority_request", 24, "hours", "Decree 147/2024/ND-CP"),
    ("platform_takedown_user_complaint", 48, "hours", "Decree 147/2024/ND-CP"),
    ("personal_data_breach_notification", 72, "hours", "Decree 13/2023/ND-CP Art. 23; Law 91/2025/QH15"),
    ("data_subject_request_acknowledge", 2, "working_days", "Decree 356/2025/ND-CP"),
    ("data_subject_request_complete", 15, "days", "Decree 356/2025/ND-CP"),
    ("handoff_response_emergency", 1, "hours", "Service standard"),
    ("handoff_response_urgent", 12, "hours", "Service standard"),
    ("handoff_response_standard", 3, "working_days", "Service standard"),
]


def test_the_data_migration_loaded_every_row_of_the_design_table(db):
    stored = {row.code: row for row in LegalTimeLimit.objects.all()}
    for code, amount, unit, source in DESIGN_TABLE:
        row = stored[code]
        assert (row.amount, row.unit) == (amount, unit), code
        assert row.source.startswith(source), code
        assert row.description
    assert set(stored) == {code for code, *_ in DESIGN_TABLE}


def test_load_time_limits_restores_edited_rows_and_is_idempotent(db, capsys):
    LegalTimeLimit.objects.filter(code="child_support_plan").update(amount=50)
    LegalTimeLimit.objects.filter(code="handoff_response_urgent").delete()
    with translation.override("en"):
        call_command("load_time_limits")
        assert "1 created, 1 updated, 11 unchanged" in capsys.readouterr().out
        call_command("load_time_limits")
        assert "0 created, 0 updated, 13 unchanged" in capsys.readouterr().out
    assert LegalTimeLimit.objects.get(code="child_support_plan").amount == 5


@pytest.mark.parametrize(
    "content",
    [
        "- code: x\n  description: d\n  limit_type: respond_within\n  amount: 0\n  unit: hours\n  source: s\n",
        "- code: x\n  description: d\n  limit_type: respond_within\n  amount: 1\n  unit: weeks\n  source: s\n",
        "- code: x\n  description: d\n  amount: 1\n  unit: hours\n  source: s\n",
        "not: a list\n",
        "- [unclosed\n",
    ],
    ids=["zero", "unit", "missing-field", "not-a-list", "yaml"],
)
def test_load_time_limits_refuses_a_bad_file_and_writes_nothing(db, tmp_path, content):
    path = tmp_path / "limits.yaml"
    path.write_text(content, encoding="utf-8")
    before = list(LegalTimeLimit.objects.order_by("code").values_list("code", "amount"))
    with pytest.raises(CommandError):
        call_command("load_time_limits", "--path", str(path))
    assert list(LegalTimeLimit.objects.order_by("code").values_list("code", "amount")) == before


def test_overrides_from_settings_win(db, settings):
    rule = LegalTimeLimit.objects.get(code="handoff_response_emergency")
    assert time_limit_effective(rule=rule) == limit_parse("1 hours")
    settings.TIME_LIMIT_OVERRIDES = {"handoff_response_emergency": "2 hours"}
    assert time_limit_effective(rule=rule) == limit_parse("2 hours")


def test_drills_may_override_in_minutes_and_seconds(world, settings):
    settings.TIME_LIMIT_OVERRIDES = {"handoff_response_emergency": "3 minutes", "handoff_response_urgent": "90 seconds"}
    assert notification_settings_check(None) == []
    start = timezone.now()
    emergency = deadline_create(kind="handoff_response", subject="handoff:1", owner_agency=world.health,
                                rule="handoff_response_emergency", start=start)
    urgent = deadline_create(kind="handoff_response", subject="handoff:2", owner_agency=world.health,
                             rule="handoff_response_urgent", start=start)
    assert emergency.due_at - start == datetime.timedelta(minutes=3)
    assert urgent.due_at - start == datetime.timedelta(seconds=90)
    assert emergency.remind_at <= emergency.due_at <= emergency.escalate_at


@pytest.mark.parametrize("value", ["two hours", "2", "2 weeks", "0 hours", "-1 hours", "5 minute", "1.5 minutes"])
def test_a_bad_override_is_a_system_check_error(settings, value):
    settings.TIME_LIMIT_OVERRIDES = {"handoff_response_emergency": value}
    assert [error.id for error in notification_settings_check(None)] == ["notifications.E002"]


def test_a_lease_shorter_than_the_delivery_time_limit_is_a_system_check_error(settings):
    settings.NOTIFICATIONS_SEND_LEASE_SECONDS = settings.NOTIFICATIONS_DELIVERY_TIME_LIMIT
    assert [error.id for error in notification_settings_check(None)] == ["notifications.E001"]


def test_handoff_urgency_maps_to_its_rule(db):
    for urgency in ("emergency", "urgent", "standard"):
        assert LegalTimeLimit.objects.filter(code=handoff_response_rule_code(urgency=urgency)).exists()
    with pytest.raises(ValueError):
        handoff_response_rule_code(urgency="whenever")


def test_descriptions_are_shown_through_gettext(db):
    row = LegalTimeLimit.objects.get(code="child_support_plan")
    with translation.override("en"):
        assert row.label == "Child support and intervention plan"


@pytest.mark.django_db(transaction=True)
def test_time_limits_survive_a_flush_without_overwriting_corrections():
    LegalTimeLimit.objects.filter(code="child_support_plan").update(amount=6)
    LegalTimeLimit.objects.filter(code="handoff_response_urgent").delete()
    call_command("migrate", verbosity=0)
    assert LegalTimeLimit.objects.get(code="child_support_plan").amount == 6
    assert LegalTimeLimit.objects.filter(code="handoff_response_urgent").exists()
    call_command("flush", interactive=False, verbosity=0)
    assert LegalTimeLimit.objects.count() == len(DESIGN_TABLE)
