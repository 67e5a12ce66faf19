"""The supervisor's "cases without action" list read from supervision.models.CaseActivity (rows kept by
database triggers) gives exactly what the list's former query gave, read from the cases, actions and
handoffs themselves (`scanned` below, that query as it was): on a world changed step by step through
the services and behind their back (queryset updates, deletes, rows written directly), for every agency
and for windows on both sides of each clock."""

import datetime

from django.db import connection
from django.db.models import DateTimeField, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from cases.models import Action, Case, CaseStatus, Consent
from cases.selectors import case_seen_by_agency
from cases.services import case_change_status, consent_withdraw
from handoffs.models import Handoff, HandoffStatus
from handoffs.services import handoff_accept, handoff_complete
from supervision.models import CaseActivity
from supervision.selectors import cases_without_action, cases_without_action_rows
from tests.cases.services_helpers import access_for, consent_data, open_case
from tests.supervision.conftest import DAY, HOUR, REGISTER_ONCE, act, send, set_times

pytestmark = REGISTER_ONCE

FAR = datetime.timedelta(days=3650)


def scanned(*, agency: Agency, since: datetime.datetime):
    """The list as it was computed before CaseActivity: every case the agency leads or holds an accepted
    handoff of, its actions and acceptances probed (supervision.selectors before issue 15's last step)."""
    accepted = Handoff.objects.filter(case_id=OuterRef("pk"), to_agency=agency, status=HandoffStatus.ACCEPTED)
    last_action = (Action.objects.filter(case_id=OuterRef("pk"), agency=agency).order_by("-occurred_at")
                   .values("occurred_at")[:1])
    joined = accepted.filter(responded_at__isnull=False).order_by("-responded_at").values("responded_at")[:1]
    led = Case.objects.filter(lead_agency=agency).exclude(status=CaseStatus.CLOSED).order_by().values("pk")
    taken_on = Handoff.objects.filter(to_agency=agency, status=HandoffStatus.ACCEPTED).order_by().values("case_id")
    actions = Action.objects.filter(case_id=OuterRef("pk"), agency=agency)
    acceptances = accepted.filter(responded_at__isnull=False)
    quiet = (
        ~Exists(actions.filter(occurred_at__gte=since)) & ~Exists(acceptances.filter(responded_at__gte=since))
        & (Q(created_at__lt=since) | (Exists(actions) & Exists(acceptances)))
    )
    return (
        Case.objects.filter(pk__in=led.union(taken_on)).exclude(status=CaseStatus.CLOSED).filter(quiet)
        .annotate(
            last_action_at=Subquery(last_action, output_field=DateTimeField()),
            last_activity_at=Greatest(
                Coalesce(Subquery(last_action, output_field=DateTimeField()), F("created_at")),
                Coalesce(Subquery(joined, output_field=DateTimeField()), F("created_at")),
            ),
        )
        .order_by("last_activity_at", "id")
    )


def _listed(qs) -> list[tuple]:
    return [(c.pk, c.number, c.last_activity_at, c.last_action_at) for c in qs]


def _instants(now: datetime.datetime) -> list[datetime.datetime]:
    """Windows ending at every clock of the world as the scan computes them (an activity exactly at
    `since` is not idle), just after each, and a few round ones."""
    clocks = {c.last_activity_at for agency in Agency.objects.all() for c in scanned(agency=agency, since=now + FAR)}
    edges = {at + delta for at in clocks for delta in (datetime.timedelta(0), datetime.timedelta(microseconds=1))}
    return sorted(edges | {now - 30 * DAY, now - 5 * DAY, now, now + FAR})


def seen(qs, *, agency: Agency, at: datetime.datetime):
    """The cases of `qs` the agency sees at `at`: the list asks the access rows at its read (a case the agency
    lost keeps its row in the table, kept by the handoffs alone, but leaves the list)."""
    return qs.filter(case_seen_by_agency(case_id=OuterRef("pk"), agency_id=agency.pk, now=at))


def assert_same(now: datetime.datetime) -> int:
    """Every agency's list, for every window, equals the scanned answer among the cases the agency sees at
    the read; the table holds a row for exactly the (open case, agency working on it) pairs. Returns how many
    rows were compared."""
    compared = 0
    instants = _instants(now)
    for agency in Agency.objects.order_by("pk"):
        for since in instants:
            expected = _listed(seen(scanned(agency=agency, since=since), agency=agency, at=since + DAY))
            assert _listed(cases_without_action(agency=agency, days=1, now=since + DAY)) == expected, (agency, since)
            compared += len(expected)
        everything = scanned(agency=agency, since=now + FAR)
        assert set(CaseActivity.objects.filter(agency=agency).values_list("case_id", flat=True)) == {
            c.pk for c in everything}, agency
    return compared


def test_the_rows_give_what_the_scan_gave_as_the_world_changes(world, register, social):
    r = register
    social_agency, social_responder, _supervisor = social
    assert assert_same(r.now) > 0

    # Actions by other agencies do not move an agency's clock; a backdated action before the opening
    # stands in for nothing while the case has no acceptance of the agency.
    Action.objects.create(case=r.h2.case, actor=world.receiving_responder, agency=world.health, type="contact",
                          occurred_at=r.now - HOUR)
    Action.objects.create(case=r.h2.case, actor=world.lead_responder, agency=world.police, type="contact",
                          occurred_at=r.t0 - 40 * DAY)
    assert_same(r.now)

    # A case shared later: police sends case 2 to the social centre, which accepts it (and acts) afterwards.
    consent_case = open_case(world, consent=consent_data(world, receiving_agency=social_agency,
                                                         granted_categories=["contact"]))
    later = send(world, consent_case, to_agency=social_agency, categories=["contact"], urgency="standard")
    handoff_accept(user=social_responder, handoff_id=later.pk)
    set_times(later, sent_at=r.t0 + 3 * DAY, responded_at=r.t0 + 4 * DAY)
    Case.objects.filter(pk=consent_case.pk).update(created_at=r.t0 + 3 * DAY - HOUR)
    assert_same(r.now)
    act(social_responder, consent_case, at=r.t0 + 5 * DAY)
    assert_same(r.now)

    # Consent withdrawn on the shared case, through the service.
    consent = Consent.objects.filter(case=consent_case, receiving_agency=social_agency).first()
    if consent is not None:
        consent_withdraw(access=access_for(world.lead_responder, consent_case, "manage_sharing"),
                         actor=world.lead_responder, consent_id=consent.pk, reason="Nạn nhân rút lại đồng ý.")
    assert_same(r.now)

    # The accepted handoff completed: the social centre no longer works on the case.
    if Handoff.objects.get(pk=later.pk).status == HandoffStatus.ACCEPTED:
        handoff_complete(user=social_responder, handoff_id=later.pk, outcome="Đã hỗ trợ xong.")
    assert_same(r.now)

    # Closed through the service, opened again behind its back; its lead changed; its opening moved.
    case_change_status(access=access_for(world.lead_responder, r.h2.case), actor=world.lead_responder,
                       status=CaseStatus.CLOSED, close_reason="Đã hoàn tất hỗ trợ.")
    assert_same(r.now)
    Case.objects.filter(pk=r.h2.case_id).update(status=CaseStatus.REOPENED)
    Case.objects.filter(pk=r.h5.case_id).update(lead_agency=world.health)
    Case.objects.filter(pk=r.h4.case_id).update(created_at=r.now - HOUR)
    assert_same(r.now)

    # Actions moved in time and to another agency, and deleted.
    first = Action.objects.filter(case=r.h1.case, agency=world.police).order_by("pk").first()
    Action.objects.filter(pk=first.pk).update(occurred_at=r.now - 2 * DAY)
    assert_same(r.now)
    Action.objects.filter(pk=first.pk).update(agency=world.health)
    assert_same(r.now)
    Action.objects.filter(case=r.h4.case, agency=world.police).delete()
    assert_same(r.now)

    # An acceptance moved, a handoff handed to another agency, an accepted handoff deleted, a case deleted.
    set_times(r.h4, responded_at=r.now - 3 * DAY)
    assert_same(r.now)
    Handoff.objects.filter(pk=r.h4.pk).update(to_agency=social_agency)
    assert_same(r.now)
    Handoff.objects.filter(pk=r.h4.pk).delete()
    assert_same(r.now)
    deleted = r.h3.case_id
    Case.objects.filter(pk=deleted).delete()
    assert not CaseActivity.objects.filter(case_id=deleted).exists()
    assert_same(r.now)


def test_a_fresh_action_through_the_service_resets_the_clock_in_the_same_transaction(world, register):
    r = register
    assert r.h5.case_id in {c.pk for c in cases_without_action(agency=world.police, days=5, now=r.now)}
    act(world.lead_responder, r.h5.case, at=r.now - HOUR)
    row = CaseActivity.objects.get(case_id=r.h5.case_id, agency=world.police)
    assert row.last_action_at == row.activity_at == r.now - HOUR
    assert r.h5.case_id not in {c.pk for c in cases_without_action(agency=world.police, days=5, now=r.now)}


def test_the_page_list_is_one_query_of_the_agencys_rows(world, register):
    r = register
    with CaptureQueriesContext(connection) as queries:
        rows = cases_without_action_rows(agency=world.police, days=5, now=r.now)
    assert len(queries) == 1
    assert "supervision_caseactivity" in queries[0]["sql"]
    assert rows == [(c.pk, c.number, c.last_activity_at) for c in scanned(agency=world.police, since=r.now - 5 * DAY)]
    assert len(rows) == 4
