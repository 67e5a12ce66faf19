"""The supervisor's "cases handed on more than N times" list read from supervision.models.CaseHandoffs (rows
kept by database triggers) gives exactly what the list's former query gave, counted from the handoffs
themselves (`counted` below, that query as it was): on a world changed step by step through the services
(send, view, accept, decline, withdraw, complete, send on) and behind their back (queryset updates, rows
written and deleted directly, a case deleted), for every agency and every threshold that shows a row."""

from django.db import connection
from django.db.models import Count, OuterRef, Q
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from cases.models import Case
from cases.selectors import case_seen_by_agency
from handoffs.models import Handoff, HandoffStatus
from handoffs.services import handoff_accept, handoff_complete, handoff_withdraw
from supervision.models import CaseHandoffs
from supervision.selectors import cases_handed_on, cases_handed_on_rows
from tests.supervision.conftest import OVERRIDE, REGISTER_ONCE, copied_then_deleted, declined_then_sent_again, send

pytestmark = REGISTER_ONCE


def counted(*, agency: Agency, more_than: int):
    """The list as it was computed before CaseHandoffs: the handoffs of every case the agency sent or
    received a handoff of, counted (supervision.selectors before issue 15's supervisor step)."""
    sent = Handoff.objects.filter(from_agency=agency).order_by().values("case_id")
    received = Handoff.objects.filter(to_agency=agency).order_by().values("case_id")
    often = (
        Handoff.objects.filter(case_id__in=sent.union(received)).exclude(status=HandoffStatus.WITHDRAWN)
        .order_by().values("case_id").annotate(n=Count("id")).filter(n__gt=more_than).values("case_id")
    )
    return (
        Case.objects.filter(pk__in=often)
        .annotate(handoff_count=Count("handoffs", filter=~Q(handoffs__status=HandoffStatus.WITHDRAWN)))
        .filter(handoff_count__gt=more_than)
        .select_related("lead_agency")
        .order_by("-handoff_count", "number")
    )


def _listed(qs) -> list[tuple]:
    return [(c.pk, c.number, c.handoff_count, c.lead_agency.name) for c in qs]


def assert_same() -> int:
    """Every agency's list, for every threshold up to the most handed-on case, equals the counted answer
    among the cases the agency sees now (the list asks the access rows at its read: an agency that lost a
    case no longer finds it there); the table holds a row for exactly the (case, agency that sent or
    received a handoff of it) pairs with the case's handoffs not withdrawn. Returns how many rows were
    compared."""
    compared = 0
    most = max([0, *(c.handoff_count for a in Agency.objects.all() for c in counted(agency=a, more_than=-1))])
    for agency in Agency.objects.order_by("pk"):
        for more_than in range(0, most + 2):
            expected = _listed(counted(agency=agency, more_than=more_than).filter(
                case_seen_by_agency(case_id=OuterRef("pk"), agency_id=agency.pk)))
            assert _listed(cases_handed_on(agency=agency, more_than=more_than)) == expected, (agency, more_than)
            assert cases_handed_on_rows(agency=agency, more_than=more_than) == [
                (pk, number, n, lead) for pk, number, n, lead in expected]
            compared += len(expected)
    pairs = {(h.case_id, a) for h in Handoff.objects.all() for a in (h.from_agency_id, h.to_agency_id)}
    live = dict(Handoff.objects.exclude(status=HandoffStatus.WITHDRAWN).order_by().values("case_id")
                .annotate(n=Count("id")).values_list("case_id", "n"))
    assert {(r.case_id, r.agency_id): r.handoffs for r in CaseHandoffs.objects.all()} == {
        pair: live.get(pair[0], 0) for pair in pairs}
    return compared


def test_the_rows_give_what_the_count_gave_as_the_world_changes(world, register, social):
    r = register
    social_agency, social_responder, _supervisor = social
    assert assert_same() > 0

    # One case handed on again and again: sent, declined, sent on, viewed, accepted, completed.
    case, first, second = declined_then_sent_again(world, assert_same)
    third = send(world, case, to_agency=social_agency, categories=["contact"], **OVERRIDE)
    assert_same()
    handoff_accept(user=world.receiving_responder, handoff_id=second.pk)
    assert_same()
    handoff_withdraw(user=world.lead_responder, handoff_id=third.pk, reason="Gửi nhầm đơn vị.")
    assert_same()
    assert [c.pk for c in cases_handed_on(agency=world.police, more_than=1)] == [case.pk]
    handoff_complete(user=world.receiving_responder, handoff_id=second.pk, outcome="Đã khám và điều trị.")
    fourth = send(world, case, to_agency=social_agency, categories=["contact"], **OVERRIDE)
    handoff_accept(user=social_responder, handoff_id=fourth.pk)
    assert_same()
    assert [c.handoff_count for c in cases_handed_on(agency=social_agency, more_than=2)] == [3]

    # Behind the services' back: a status changed, a handoff moved to another case and agencies, rows
    # written and deleted directly, a case deleted with its handoffs.
    Handoff.objects.filter(pk=r.h5.pk).update(status=HandoffStatus.SENT)
    assert_same()
    Handoff.objects.filter(pk=fourth.pk).update(status=HandoffStatus.WITHDRAWN)
    assert_same()
    Handoff.objects.filter(pk=second.pk).update(case=r.h1.case)
    assert_same()
    Handoff.objects.filter(pk=r.h1.pk).update(to_agency=social_agency)
    assert_same()
    Handoff.objects.filter(pk=r.h4.pk).update(from_agency=social_agency, to_agency=world.health)
    assert_same()
    copied_then_deleted(first, third, assert_same)
    deleted = r.h2.case_id
    Case.objects.filter(pk=deleted).delete()
    assert not CaseHandoffs.objects.filter(case_id=deleted).exists()
    assert_same()
    Handoff.objects.all().delete()
    assert not CaseHandoffs.objects.exists()
    assert_same()


def test_the_page_list_is_one_query_of_the_agencys_rows(world, register):
    with CaptureQueriesContext(connection) as queries:
        rows = cases_handed_on_rows(agency=world.police, more_than=0)
    assert len(queries) == 1
    assert "supervision_casehandoffs" in queries[0]["sql"]
    assert "cases_handoff\"" not in queries[0]["sql"]
    assert rows == _listed(counted(agency=world.police, more_than=0))
    assert len(rows) == 4  # case 5's only handoff was withdrawn
