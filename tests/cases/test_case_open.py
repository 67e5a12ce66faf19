"""case_open: one transaction for survivor, first incident and initial consent; numbering; every
validation error writes nothing."""

import datetime
import re
import threading

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.utils import timezone

from agencies.models import Commune, Sector
from agencies.services import agency_create, membership_add
from audit.models import AuditEvent
from cases.models import CaseEvent, CaseNumberSequence, Consent, Incident
from config.exceptions import NotFound
from encryption.crypto import phone_search_hash
from tests.cases.services_helpers import (
    access_for,
    answers,
    consent_data,
    incident_data,
    open_case,
    refer,
    row_counts,
    survivor_data,
)
from tests.conftest import make_user


def test_open_writes_survivor_incident_consent_permissions_timeline_and_audit(world, today):
    case = open_case(world, consent=consent_data(world), risk_level="high")

    assert case.number == f"HN-{today.year}-000001"
    assert case.lead_agency == world.police and case.responsible == world.lead_responder
    assert case.province == world.hanoi and case.status == "open" and case.risk_level == "high"
    survivor = case.survivor
    assert re.fullmatch(r"NC-[A-Z2-7]{6}", survivor.pseudonym)
    survivor.refresh_from_db()
    assert survivor.full_name == "Trần Thị Mai" and survivor.phone == "0912 345 678"
    assert survivor.phone_hash == phone_search_hash("0912345678")
    incident = Incident.objects.get(case=case)
    assert incident.gbv_type == "physical_assault" and incident.reporting_delay == "0-3"
    assert incident.recorded_by == world.lead_responder and incident.recorded_by_agency == world.police
    assert list(incident.tech_form_rows.values_list("form", flat=True)) == ["harassment"]
    consent = Consent.objects.get(case=case)
    assert consent.granted_categories == ["medical"] and consent.refused_categories == ["identity"]
    assert consent.recorded_by == world.lead_responder and not consent.needs_review

    lead = access_for(world.lead_responder, case)
    assert lead.agency == world.police and lead.can("close_case") and lead.sees("identity")
    with pytest.raises(NotFound):  # consent alone shares nothing: an accepted handoff does
        access_for(world.receiving_responder, case)
    with pytest.raises(NotFound):
        access_for(world.outsider_responder, case)

    assert set(CaseEvent.objects.filter(case=case).values_list("type", flat=True)) == {
        "opened", "incident_recorded", "consent_recorded"}
    events = list(AuditEvent.objects.filter(case_id=case.pk).order_by("seq"))
    assert [e.action for e in events] == ["create", "share"]
    assert events[0].categories == ["contact", "identity"] and events[0].agency_id == world.police.pk
    assert events[1].categories == ["medical"]
    assert "Trần" not in str(events[0].details)

    refer(world, case)
    receiving = access_for(world.receiving_responder, case)
    assert receiving.categories == {"medical"} and receiving.rights == {"view_case", "log_action"}


def test_open_without_consent_shares_with_nobody(world):
    case = open_case(world)
    assert not Consent.objects.filter(case=case).exists()
    with pytest.raises(NotFound):
        access_for(world.receiving_responder, case)
    assert AuditEvent.objects.filter(case_id=case.pk).count() == 1


def test_age_instead_of_birth_year_is_stored_as_an_estimated_birth_year(world, today):
    case = open_case(world, survivor=survivor_data(birth_year=None, age=15))
    assert case.survivor.birth_year_estimated and case.survivor.age_on(today) == 15 and case.survivor.is_child


def test_pseudonyms_are_unique(world):
    pseudonyms = {open_case(world).survivor.pseudonym for _ in range(5)}
    assert len(pseudonyms) == 5


def test_numbers_are_sequential_per_province_and_year(world, today):
    hue_police = agency_create(name="Công an phường Thuận Hóa", sector=Sector.POLICE, province=world.hue)
    hue_user = make_user("hue_responder")
    membership_add(user=hue_user, agency=hue_police, role="responder")
    numbers = [open_case(world).number for _ in range(3)]
    hue = open_case(world, actor=hue_user, agency=hue_police, incident=incident_data(world, province=world.hue))
    last_year = open_case(world, opened_at=timezone.now() - datetime.timedelta(days=400),
                          incident=incident_data(world, occurred_on=None, reported_on=today - datetime.timedelta(
                              days=401)))
    assert numbers == [f"HN-{today.year}-00000{i}" for i in (1, 2, 3)]
    assert hue.number == f"HUE-{today.year}-000001"
    opened_year = timezone.localdate(timezone.now() - datetime.timedelta(days=400)).year
    assert last_year.number == f"HN-{opened_year}-000001"
    assert open_case(world).number == f"HN-{today.year}-000004"


def test_a_failed_open_gives_its_number_back(world, today):
    open_case(world)
    with pytest.raises(ValidationError):
        open_case(world, risk_level="extreme")
    assert open_case(world).number == f"HN-{today.year}-000002"


@pytest.mark.parametrize("who", ["lead_admin", "outsider_responder", "receiving_responder", "analyst", "sysadmin"])
def test_only_a_responder_or_supervisor_of_the_agency_opens_a_case_for_it(world, who):
    before = row_counts()
    with pytest.raises(PermissionDenied):
        open_case(world, actor=getattr(world, who))
    assert row_counts() == before


def test_anonymous_and_deactivated_users_open_nothing(world):
    with pytest.raises(PermissionDenied):
        open_case(world, actor=AnonymousUser())
    world.lead_responder.is_active = False
    world.lead_responder.save()
    with pytest.raises(PermissionDenied):
        open_case(world)


def test_a_supervisor_may_open_but_not_for_an_inactive_agency(world):
    assert open_case(world, actor=world.lead_supervisor).responsible == world.lead_supervisor
    world.police.active = False
    world.police.save()
    with pytest.raises(PermissionDenied):
        open_case(world)


def _commune(world, code, *, province=None, valid_from="2025-07-01", valid_to=None):
    return Commune.objects.create(code=code, name=f"Phường {code}", province=province or world.hanoi,
                                  valid_from=valid_from, valid_to=valid_to)


def test_commune_of_the_province_valid_on_the_report_date_is_accepted_by_code_or_instance(world):
    commune = _commune(world, "00004")
    case = open_case(world, incident=incident_data(world, commune="00004"))
    assert Incident.objects.get(case=case).commune == commune
    case = open_case(world, incident=incident_data(world, commune=commune, province="01"))
    assert Incident.objects.get(case=case).commune == commune


def test_a_renamed_commune_code_resolves_to_the_unit_valid_on_the_date(world, today):
    _commune(world, "00007", valid_from="2025-07-01", valid_to=today - datetime.timedelta(days=10))
    newer = _commune(world, "00007", valid_from=today - datetime.timedelta(days=10))
    case = open_case(world, incident=incident_data(world, commune="00007"))
    assert Incident.objects.get(case=case).commune == newer


LONG = "x" * 201


def _bad_inputs(world):
    """(description, case_open overrides, the error key expected). Today is read here, not at import:
    a run that crosses midnight in Viet Nam would otherwise call today "the future"."""
    today = timezone.localdate()
    year = today.year
    future = today + datetime.timedelta(days=1)
    hue_commune = _commune(world, "46001", province=world.hue)
    ended = _commune(world, "00009", valid_to=today - datetime.timedelta(days=30))
    inactive = agency_create(name="Phòng khám đã đóng", sector=Sector.HEALTH, province=world.hanoi, active=False)
    return [
        ("birth year too early", {"survivor": survivor_data(birth_year=1800)}, "survivor.birth_year"),
        ("birth year in the future", {"survivor": survivor_data(birth_year=year + 1)}, "survivor.birth_year"),
        ("birth year not a number", {"survivor": survivor_data(birth_year="nineteen")}, "survivor.birth_year"),
        ("birth year is a boolean", {"survivor": survivor_data(birth_year=True)}, "survivor.birth_year"),
        ("age and birth year", {"survivor": survivor_data(age=20)}, "survivor.age"),
        ("age out of range", {"survivor": survivor_data(birth_year=None, age=130)}, "survivor.age"),
        ("unknown sex", {"survivor": survivor_data(sex="x")}, "survivor.sex"),
        ("phone with words", {"survivor": survivor_data(phone="call me maybe")}, "survivor.phone"),
        ("phone too short", {"survivor": survivor_data(phone="123")}, "survivor.phone"),
        ("name too long", {"survivor": survivor_data(full_name=LONG)}, "survivor.full_name"),
        ("name not text", {"survivor": survivor_data(full_name=42)}, "survivor.full_name"),
        ("NUL in address", {"survivor": survivor_data(address="a\x00b")}, "survivor.address"),
        ("unknown survivor field", {"survivor": survivor_data(nickname="Mai")}, "survivor.nickname"),
        ("survivor not an object", {"survivor": ["Mai"]}, "survivor.non_field_errors"),
        ("incident in the future", {"incident": incident_data(world, occurred_on=future, reported_on=future)},
         "incident.occurred_on"),
        ("reported in the future", {"incident": incident_data(world, reported_on=future)}, "incident.reported_on"),
        ("happened after reported", {"incident": incident_data(
            world, occurred_on=today, reported_on=today - datetime.timedelta(days=1))}, "incident.occurred_on"),
        ("not a date", {"incident": incident_data(world, occurred_on="2026-13-45")}, "incident.occurred_on"),
        ("a datetime for a date", {"incident": incident_data(world, occurred_on=timezone.now())},
         "incident.occurred_on"),
        ("before the survivor was born", {"survivor": survivor_data(birth_year=year - 1), "incident": incident_data(
            world, occurred_on=datetime.date(year - 2, 1, 1))}, "incident.occurred_on"),
        ("no province", {"incident": incident_data(world, province=None)}, "incident.province"),
        ("unknown province code", {"incident": incident_data(world, province="99")}, "incident.province"),
        ("commune of another province", {"incident": incident_data(world, commune=hue_commune)}, "incident.commune"),
        ("commune code of another province", {"incident": incident_data(world, commune="46001")},
         "incident.commune"),
        ("commune no longer valid", {"incident": incident_data(world, commune=ended)}, "incident.commune"),
        ("unknown commune", {"incident": incident_data(world, commune="77777")}, "incident.commune"),
        ("no classification answers", {"incident": {
            k: v for k, v in incident_data(world).items() if k != "answers"}}, "incident.answers"),
        ("an answer missing", {"incident": incident_data(world, answers={"penetration": False})},
         "incident.answers.sexual_contact"),
        ("answers not an object", {"incident": incident_data(world, answers=[True])}, "incident.answers"),
        ("unknown tech form", {"incident": incident_data(world, tech_forms=["selfie"])}, "incident.tech_forms.0"),
        ("tech forms as a string", {"incident": incident_data(world, tech_forms="ncii")}, "incident.tech_forms"),
        ("unknown relationship", {"incident": incident_data(world, perpetrator_relationship="neighbour")},
         "incident.perpetrator_relationship"),
        ("unknown incident field", {"incident": incident_data(world, gbv_type="rape")}, "incident.gbv_type"),
        ("unknown risk level", {"risk_level": "extreme"}, "risk_level"),
        ("statistics consent not a boolean", {"statistics_consent": "yes"}, "statistics_consent"),
        ("opened in the future", {"opened_at": timezone.now() + datetime.timedelta(hours=2)}, "opened_at"),
        ("opened before reported", {"opened_at": timezone.now() - datetime.timedelta(days=3)},
         "incident.reported_on"),
        ("consent to agency and sector", {"consent": consent_data(world, receiving_sector="health")},
         "consent.receiving_agency"),
        ("consent to nobody", {"consent": consent_data(world, receiving_agency=None)}, "consent.receiving_agency"),
        ("consent to the lead agency", {"consent": consent_data(world, receiving_agency=world.police)},
         "consent.receiving_agency"),
        ("consent to an inactive agency", {"consent": consent_data(world, receiving_agency=inactive)},
         "consent.receiving_agency"),
        ("consent to an unknown agency id", {"consent": consent_data(world, receiving_agency=987654)},
         "consent.receiving_agency"),
        ("unknown sector", {"consent": consent_data(world, receiving_agency=None, receiving_sector="army")},
         "consent.receiving_sector"),
        ("general is not a consent category", {"consent": consent_data(world, granted_categories=["general"])},
         "consent.granted_categories.0"),
        ("unknown category", {"consent": consent_data(world, granted_categories=["dna"])},
         "consent.granted_categories.0"),
        ("granted and refused", {"consent": consent_data(world, granted_categories=["medical", "identity"])},
         "consent.refused_categories"),
        ("no category at all", {"consent": consent_data(world, granted_categories=[], refused_categories=[])},
         "consent.granted_categories"),
        ("no purpose", {"consent": consent_data(world, purpose="  ")}, "consent.purpose"),
        ("purpose too long", {"consent": consent_data(world, purpose="p" * 301)}, "consent.purpose"),
        ("unknown giver", {"consent": consent_data(world, given_by="neighbour")}, "consent.given_by"),
        ("expiry in the past", {"consent": consent_data(
            world, expires_at=timezone.now() - datetime.timedelta(minutes=1))}, "consent.expires_at"),
        ("expiry not a datetime", {"consent": consent_data(world, expires_at="tomorrow")}, "consent.expires_at"),
        ("override without reason", {"consent": consent_data(world, emergency_override=True)},
         "consent.override_reason"),
        ("reason without override", {"consent": consent_data(world, override_reason="Khẩn cấp")},
         "consent.override_reason"),
        ("override not a boolean", {"consent": consent_data(world, emergency_override="on")},
         "consent.emergency_override"),
        ("unknown consent field", {"consent": consent_data(world, scope="all")}, "consent.scope"),
    ]


def test_every_bad_input_is_a_field_error_and_writes_nothing(world):
    open_case(world)  # the sequence row exists: its counter must not move either
    for description, overrides, key in _bad_inputs(world):
        before = row_counts()
        with pytest.raises(ValidationError) as excinfo:
            open_case(world, **overrides)
        assert key in excinfo.value.message_dict, (description, excinfo.value.message_dict)
        assert row_counts() == before, description
    assert CaseNumberSequence.objects.get().last == 1


def test_all_messages_of_one_request_come_together(world):
    with pytest.raises(ValidationError) as excinfo:
        open_case(world, risk_level="x", survivor=survivor_data(sex="x"),
                  incident=incident_data(world, tech_forms=["x"]), consent=consent_data(world, purpose=""))
    assert {"risk_level", "survivor.sex", "incident.tech_forms.0", "consent.purpose"} <= set(
        excinfo.value.message_dict)


def test_messages_are_translated(world):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        open_case(world, survivor=survivor_data(birth_year=1800))
    assert "Enter a number from" in excinfo.value.message_dict["survivor.birth_year"][0]


def test_an_earlier_question_decides_the_incident_type(world):
    case = open_case(world, incident=incident_data(world, answers=answers(penetration=True, physical_assault=True)))
    assert Incident.objects.get(case=case).gbv_type == "rape"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite serializes writes")
def test_concurrent_opens_never_share_a_number(transactional_db, world, today):
    threads_count, per_thread = 4, 5
    barrier = threading.Barrier(threads_count)
    numbers: list[str] = []
    failures: list[BaseException] = []

    def work():
        try:
            barrier.wait()
            for _ in range(per_thread):
                numbers.append(open_case(world).number)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert sorted(numbers) == [f"HN-{today.year}-{i:06d}" for i in range(1, threads_count * per_thread + 1)]
    assert CaseNumberSequence.objects.get(province=world.hanoi, year=today.year).last == threads_count * per_thread
