"""`manage.py seed_scale` (issue 15, part 1): a small world written in bulk passes the invariants a
world built through the services passes. Its permission rows are those the sharing service writes
and what the independent oracle of tests/permissions says; the monthly indicators count what was
seeded; the audit chain verifies; handoffs, deadlines and the timeline agree; sealed text opens."""

import datetime
from collections import Counter, defaultdict

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from agencies.models import Agency, Membership, Role
from audit.chain import chain_walk, events_in_order
from audit.models import AuditEvent
from cases.models import Case, CaseAccessRow, CaseEvent, CaseEventType, Consent
from cases.selectors import case_list_visible_to
from cases.sharing import case_permissions_sync
from handoffs.models import Handoff, HandoffKind, HandoffStatus
from notifications.models import Deadline
from permissions.access import VIEW_BIT, codenames_from_masks
from reports.indicators import month_drafts
from scale.seed import seed_scale
from tests.permissions.test_oracle import ALL, CATEGORIES, OCase, OConsent, OHandoff, Seen, agency_sees

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 3, 0, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def small_world(django_db_setup, django_db_blocker):
    """Seeded once per module (per xdist worker), inside a transaction held open around the module's
    tests and rolled back after the last one. Each test still runs in its own transaction (a savepoint
    in this one: pytest-django's `db`), rolled back after it, so every test starts from the world as
    seeded, whatever an earlier one wrote. Tests of this module that need an empty database live in
    test_seed_scale_arguments.py: here the world is there from the first test that asks for it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            report = seed_scale(cases=300, provinces=2, agencies_per_province=8, responders_per_agency=2, seed=7,
                                now=NOW)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield report
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def _rows(case_id: int) -> set[tuple]:
    return set(CaseAccessRow.objects.filter(case_id=case_id).values_list(
        "agency_id", "user_id", "valid_from", "valid_until", "rights", "categories", "case_updated_at"))


def test_the_world_has_every_state(small_world):
    assert small_world.cases == Case.objects.count() == 300
    assert set(Handoff.objects.values_list("status", flat=True)) == set(HandoffStatus.values)
    assert set(Handoff.objects.values_list("kind", flat=True)) == set(HandoffKind.values)
    assert set(Deadline.objects.values_list("stage", flat=True)) >= {Deadline.Stage.CLOSED, Deadline.Stage.ESCALATED}
    assert set(Deadline.objects.values_list("kind", flat=True)) >= {Deadline.Kind.HANDOFF_RESPONSE,
                                                                   Deadline.Kind.LEGAL_LIMIT}
    assert set(Case.objects.values_list("status", flat=True)) >= {"open", "active", "closed"}
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    # People of two agencies.
    assert Membership.objects.values("user").annotate(n=Count("id")).filter(
        n__gt=1).exists()


def test_permission_rows_are_those_the_sharing_service_writes(small_world):
    with time_machine.travel(NOW, tick=False):
        for case in Case.objects.select_related("lead_agency").order_by("pk"):
            seeded = _rows(case.pk)
            case_permissions_sync(case=case)
            assert _rows(case.pk) == seeded, case.number


def test_permission_rows_say_what_the_oracle_says(small_world):
    sectors = dict(Agency.objects.values_list("pk", "sector"))
    held: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for case_id, agency_id, rights, categories, valid_from, valid_until in CaseAccessRow.objects.filter(
            agency__isnull=False).values_list("case_id", "agency_id", "rights", "categories", "valid_from",
                                              "valid_until"):
        if (valid_from is None or valid_from <= NOW) and (valid_until is None or valid_until > NOW):
            held[case_id][agency_id] |= codenames_from_masks(rights, categories)
    consents = defaultdict(list)
    for c in Consent.objects.all():
        consents[c.case_id].append(OConsent(c.receiving_agency_id, c.receiving_sector, frozenset(c.granted_categories),
                                            frozenset(c.refused_categories), c.expires_at, c.withdrawn_at is not None))
    handoffs = defaultdict(list)
    for h in Handoff.objects.order_by("sent_at", "pk"):
        handoffs[h.case_id].append(OHandoff(h.kind, h.from_agency_id, h.to_agency_id, frozenset(h.categories),
                                             h.status, h.emergency_override))
    checked = 0
    for case_id, lead in Case.objects.values_list("pk", "lead_agency_id"):
        case = OCase(case_id, lead, tuple(consents[case_id]), tuple(handoffs[case_id]), ())
        for agency_id in sectors:
            expected = agency_sees(case, agency_id, sectors, NOW)
            codenames = held[case_id].get(agency_id, set())
            got = None if not codenames else Seen(
                frozenset(c for c in codenames if c.removeprefix("view_") not in ALL),
                frozenset(c.removeprefix("view_") for c in codenames if c.removeprefix("view_") in CATEGORIES))
            assert got == expected, (case_id, agency_id)
            checked += 1
    assert checked == 300 * len(sectors)


def test_the_case_list_shows_what_the_rows_grant(small_world):
    user_model = get_user_model()
    with time_machine.travel(NOW, tick=False):
        for username in ("s{}.responder1", "s{}.supervisor"):
            for membership in Membership.objects.filter(role=Role.RESPONDER).order_by("agency_id")[:3]:
                user = user_model.objects.get(username=username.format(membership.agency_id))
                agencies = set(Membership.objects.filter(user=user, role__in=("responder", "supervisor"))
                               .values_list("agency_id", flat=True))
                expected = {case_id for case_id, rights, valid_from, valid_until in CaseAccessRow.objects.filter(
                    agency_id__in=agencies).values_list("case_id", "rights", "valid_from", "valid_until")
                    if rights & VIEW_BIT and (valid_from is None or valid_from <= NOW)
                    and (valid_until is None or valid_until > NOW)}
                assert set(case_list_visible_to(user=user).values_list("pk", flat=True)) == expected


def test_monthly_indicators_count_what_was_seeded(small_world):
    period = datetime.date(2026, 10, 1)
    _, drafts = month_drafts(period)
    start = datetime.datetime(2026, 9, 30, 17, 0, tzinfo=datetime.UTC)  # 1 October, Viet Nam time
    end = datetime.datetime(2026, 10, 31, 17, 0, tzinfo=datetime.UTC)
    new = Case.objects.filter(statistics_consent=True, created_at__gte=start, created_at__lt=end).count()
    closed = Case.objects.filter(statistics_consent=True, closed_at__gte=start, closed_at__lt=end).count()
    assert new > 0
    tables = {d.key: d for d in drafts[None]}
    assert sum(map(sum, tables["new_cases"].cells)) == new
    assert sum(map(sum, tables["cases_closed"].cells)) == closed


def test_the_audit_chain_verifies(small_world):
    assert not AuditEvent.objects.filter(position__isnull=True).exists()
    report = chain_walk(events_in_order())
    assert report.intact, report.breaks
    assert report.events == AuditEvent.objects.count() >= 300
    assert AuditEvent.objects.filter(action="create", target__startswith="case:").count() == 300


def test_handoffs_deadlines_and_timeline_agree(small_world):
    deadlines = {d.subject: d for d in Deadline.objects.filter(kind=Deadline.Kind.HANDOFF_RESPONSE)}
    events = Counter(CaseEvent.objects.values_list("type", flat=True))
    for handoff in Handoff.objects.select_related("case"):
        deadline = deadlines[f"handoff:{handoff.pk}"]
        assert deadline.due_at == handoff.due_at and deadline.owner_agency_id == handoff.to_agency_id
        assert (deadline.closed_at is None) == (handoff.status == HandoffStatus.SENT), handoff
        if handoff.status == HandoffStatus.DECLINED:
            assert handoff.decline_reason and deadline.closed_reason == "declined"
        if handoff.status in (HandoffStatus.ACCEPTED, HandoffStatus.COMPLETED):
            assert deadline.closed_reason == "accepted" and handoff.responded_at is not None
    for deadline in Deadline.objects.filter(closed_at__isnull=True):
        assert deadline.stage != Deadline.Stage.CLOSED
        fire = {"pending": deadline.remind_at, "reminded": deadline.due_at, "overdue": deadline.escalate_at,
                "escalated": None}[deadline.stage]
        assert deadline.next_fire_at == fire
    for transfer in Handoff.objects.filter(kind=HandoffKind.TRANSFER, status=HandoffStatus.ACCEPTED):
        assert transfer.case.lead_agency_id == transfer.to_agency_id
    assert events[CaseEventType.HANDOFF_SENT] == Handoff.objects.count()
    assert events[CaseEventType.OPENED] == 300
    assert events[CaseEventType.HANDOFF_DECLINED] == Handoff.objects.filter(status=HandoffStatus.DECLINED).count()
    last_activity = {c.pk: c.updated_at for c in Case.objects.all()}
    assert all(at <= last_activity[case_id] for case_id, at in CaseEvent.objects.exclude(
        type__in=[CaseEventType.DEADLINE_OVERDUE, CaseEventType.DEADLINE_ESCALATED]).values_list("case_id", "at"))


def test_pages_open_the_sealed_text(small_world, api):
    case = Case.objects.filter(survivor__full_name__gt="").select_related("lead_agency").first()
    user = get_user_model().objects.get(
        username=f"s{case.lead_agency_id}.responder1")
    response = api(user).get(f"/api/cases/{case.pk}/", HTTP_X_ACTING_AGENCY=str(case.lead_agency_id))
    assert response.status_code == 200, response.content
    name = response.json()["survivor"].get("full_name")
    assert name and not name.startswith("ck1.")


def test_growing_the_world_adds_cases_without_new_agencies(small_world):
    again = seed_scale(cases=20, provinces=2, agencies_per_province=8, responders_per_agency=2, seed=8, now=NOW)
    assert again.agencies == 0 and again.users == 0
    assert Case.objects.count() == 320
    assert len(set(Case.objects.values_list("number", flat=True))) == 320


def test_now_is_not_in_the_future_of_the_seeded_rows(small_world):
    assert Case.objects.filter(created_at__gt=NOW).count() == 0
    assert Case.objects.filter(updated_at__gt=NOW).count() == 0
    assert timezone.is_aware(Case.objects.first().created_at)


def test_the_idle_clocks_are_those_of_the_seeded_actions_and_handoffs(small_world):
    """seed_scale's COPY goes through the triggers that keep supervision.CaseActivity: one row for exactly
    each open case and agency working on it, with the clocks the supervisor's former scan computes, and
    every agency's idle list the same as that scan's."""
    from supervision.models import CaseActivity
    from supervision.selectors import cases_without_action
    from tests.supervision.test_case_activity import FAR, scanned, seen

    rows = {(case_id, agency_id): at for case_id, agency_id, at in CaseActivity.objects.values_list(
        "case_id", "agency_id", "activity_at")}
    expected = {(c.pk, agency.pk): c.last_activity_at for agency in Agency.objects.all()
                for c in scanned(agency=agency, since=NOW + FAR)}
    assert rows == expected
    # Handed-on cases have rows of agencies other than the lead; closed cases have none.
    assert any(Case.objects.get(pk=case_id).lead_agency_id != agency_id for case_id, agency_id in rows)
    assert not CaseActivity.objects.filter(case__status="closed").exists()
    for agency in Agency.objects.filter(pk__in={agency_id for _case, agency_id in rows}):
        for days in (1, 14, 90):
            assert [(c.pk, c.last_activity_at) for c in cases_without_action(agency=agency, days=days, now=NOW)] == [
                (c.pk, c.last_activity_at)
                for c in seen(scanned(agency=agency, since=NOW - datetime.timedelta(days=days)), agency=agency, at=NOW)]


def test_the_handed_on_counts_are_those_of_the_seeded_handoffs(small_world):
    """seed_scale's COPY goes through the triggers that keep supervision.CaseHandoffs: one row for exactly
    each case and agency that sent or received a handoff of it, with the case's handoffs not withdrawn, and
    every agency's handed-on list the same as the former count's."""
    from tests.supervision.test_case_handoffs import assert_same

    assert assert_same() > 0


def test_the_register_figures_are_those_of_the_seeded_handoffs(small_world):
    """seed_scale's COPY goes through the triggers that keep supervision.AgencyHandoffFigures and
    HandoffFirstAction (one statement per batch): every agency's unfiltered register figures equal the live
    aggregate's, now and a month later."""
    from tests.supervision.test_register_figures import assert_same

    assert assert_same(now=NOW) > 0
    assert assert_same(now=NOW + datetime.timedelta(days=30)) > 0


def test_the_decline_reason_keys_are_those_the_decline_service_writes(small_world):
    """Every seeded handoff's reason key is the key of its reason (none without one), as handoff_decline writes
    it, and every agency's decline reasons, counted by the keys, are those read from the reasons."""
    from encryption.crypto import reason_key
    from tests.supervision.test_decline_reasons import assert_same

    handoffs = list(Handoff.objects.select_related("case__data_key"))
    assert all(h.decline_reason_key == reason_key(h.decline_reason) for h in handoffs)
    assert sum(1 for h in handoffs if h.decline_reason_key) == Handoff.objects.filter(
        status=HandoffStatus.DECLINED).count() > 0
    assert assert_same(now=NOW) > 0
