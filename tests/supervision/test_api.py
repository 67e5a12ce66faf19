"""The supervision API: what supervisors get, what everyone else is refused, bad input as 400s."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from supervision.models import BreakGlassReview, HandoffReview
from tests.supervision.conftest import DAY, HOUR, REGISTER_ONCE

pytestmark = REGISTER_ONCE

GETS = [
    "/api/supervision/handoffs/",
    "/api/supervision/handoffs/summary/",
    "/api/supervision/handoffs/{h1}/",
    "/api/supervision/reviews/queue/",
    "/api/supervision/access/",
    "/api/supervision/access/export.csv",
    "/api/supervision/unusual-access/",
    "/api/supervision/dashboard/",
]


def urls(register) -> list[str]:
    return [u.format(h1=register.h1.pk) for u in GETS]


def test_a_supervisor_reads_every_endpoint(world, register, api):
    client = api(world.lead_supervisor)
    for url in urls(register):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["lead_responder", "receiving_responder", "lead_admin", "analyst", "sysadmin", None])
def test_everyone_else_is_refused(world, register, api, who):
    client = api(getattr(world, who) if who else None)
    for url in urls(register):
        assert client.get(url).status_code == 403, (who, url)
    response = client.post("/api/supervision/reviews/", {"subject": "handoff", "id": register.h1.pk,
                                                         "verdict": "fine"}, format="json")
    assert response.status_code == 403
    assert not HandoffReview.objects.exists()


def test_a_supervisor_of_another_agency_is_refused(world, register, api):
    client = api(world.outsider_supervisor)
    for url in urls(register):
        if str(register.h1.pk) in url.split("/"):
            assert client.get(url).status_code == 404, url
        else:
            assert client.get(f"{url}?agency={world.police.pk}").status_code == 403, url
    assert client.get("/api/supervision/handoffs/").json()["results"] == []
    response = client.post("/api/supervision/reviews/", {"subject": "handoff", "id": register.h1.pk,
                                                         "verdict": "fine"}, format="json")
    assert response.status_code == 404
    response = client.post("/api/supervision/reviews/", {"subject": "handoff", "id": register.h1.pk,
                                                         "verdict": "fine", "agency": world.police.pk}, format="json")
    assert response.status_code == 403


def test_register_rows_and_filters(world, register, api):
    client = api(world.lead_supervisor)
    rows = {r["id"]: r for r in client.get("/api/supervision/handoffs/").json()["results"]}
    h1 = rows[register.h1.pk]
    assert (h1["to_view_seconds"], h1["to_answer_seconds"], h1["to_first_action_seconds"],
            h1["to_completion_seconds"], h1["deadline_state"], h1["direction"]) == (
        1800, 7200, 18000, 86400, "met", "sent")
    since = (register.now - 30 * DAY).date().isoformat()
    declined = client.get(f"/api/supervision/handoffs/?since={since}&status=declined&status=sent").json()
    assert {r["id"] for r in declined["results"]} == {register.h2.pk, register.h3.pk}
    overdue = client.get("/api/supervision/handoffs/?overdue=true").json()
    assert [r["id"] for r in overdue["results"]] == [register.h3.pk]
    received = client.get(f"/api/supervision/handoffs/?direction=received&sector=health"
                          f"&counterpart={world.health.pk}&deadline=met").json()
    assert [r["id"] for r in received["results"]] == [register.h4.pk]


@pytest.mark.parametrize("query", ["status=lost", "since=yesterday", "since=2026-02-02&until=2026-02-01",
                                   "deadline=soon", "overdue=maybe", "agency=abc", "counterpart=-3",
                                   "page_size=x&direction=up"])
def test_bad_register_filters_are_400(world, register, api, query):
    assert api(world.lead_supervisor).get(f"/api/supervision/handoffs/?{query}").status_code == 400


def test_summary_figures(world, register, api):
    body = api(world.lead_supervisor).get("/api/supervision/handoffs/summary/?more_than=0&idle_days=5").json()
    assert body["total"] == 5 and body["overdue"] == 1
    assert body["by_deadline"] == {"met": 2, "missed": 2, "open": 0, "void": 1}
    # Answered after 2 h, 20 h and 1 h: 7 h 40 min on average.
    assert body["to_answer"] == {"count": 3, "average_seconds": int((7 * HOUR).total_seconds()) + 40 * 60,
                                 "longest_seconds": 20 * 3600}
    assert body["decline_reasons"] == [{"reason": "Không đủ giường bệnh.", "count": 1}]
    assert {c["id"] for c in body["cases_handed_on"]} == {register.h1.case_id, register.h2.case_id,
                                                          register.h3.case_id, register.h4.case_id}
    assert register.h5.case_id in {c["id"] for c in body["cases_without_action"]}


def test_handoff_detail_has_milestones_and_readers(world, register, api):
    api(world.receiving_responder).get(f"/api/cases/{register.h1.case_id}/")
    body = api(world.lead_supervisor).get(f"/api/supervision/handoffs/{register.h1.pk}/").json()
    assert [m["key"] for m in body["milestones"]] == ["sent", "viewed", "accepted", "first_action", "completed"]
    assert "receiving_responder" in {r["actor"] for r in body["readers"]}
    assert api(world.lead_supervisor).get("/api/supervision/handoffs/999999/").status_code == 404


def test_review_create_and_queue(world, register, break_glass_use, api):
    client = api(world.lead_supervisor)
    queue = client.get("/api/supervision/reviews/queue/").json()
    assert (queue["handoff_count"], queue["break_glass_count"]) == (5, 1)
    assert queue["break_glass"][0]["reason"] == break_glass_use.reason
    due = (timezone.now() + datetime.timedelta(days=2)).isoformat()
    response = client.post("/api/supervision/reviews/", {
        "subject": "handoff", "id": register.h2.pk, "verdict": "follow_up_needed", "follow_up_due": due,
        "comment": "Gọi lại bệnh viện."}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["subject"], body["subject_id"], body["verdict"], body["agency"]["id"]) == (
        "handoff", register.h2.pk, "follow_up_needed", world.police.pk)
    assert body["follow_up_deadline_id"]
    response = client.post("/api/supervision/reviews/", {"subject": "break_glass", "id": break_glass_use.pk,
                                                         "verdict": "fine"}, format="json")
    assert response.status_code == 201 and BreakGlassReview.objects.count() == 1
    queue = client.get("/api/supervision/reviews/queue/").json()
    assert (queue["handoff_count"], queue["break_glass_count"]) == (4, 0)


@pytest.mark.parametrize("payload, field", [
    ({"verdict": "concern"}, "comment"),
    ({"verdict": "follow_up_needed"}, "follow_up_due"),
    ({"verdict": "nice"}, "verdict"),
    ({"verdict": "fine", "colour": "green"}, "colour"),
    ({"verdict": "fine", "subject": "case"}, "subject"),
    ({"verdict": "fine", "id": "one"}, "id"),
    ({"verdict": "fine", "comment": 5}, "comment"),
])
def test_bad_reviews_are_400_with_the_field(world, register, api, payload, field):
    data = {"subject": "handoff", "id": register.h1.pk, **payload}
    response = api(world.lead_supervisor).post("/api/supervision/reviews/", data, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not HandoffReview.objects.exists()


def test_access_log_json_and_csv(world, register, api):
    client = api(world.lead_supervisor)
    api(world.receiving_responder).get(f"/api/cases/{register.h1.case_id}/")
    body = client.get(f"/api/supervision/access/?case={register.h1.case.number}&actor=receiving_responder"
                      "&action=view").json()
    # The handoff read in the fixture, then the case read just now.
    assert [(e["case_number"], e["actor"], e["agency"], e["target"]) for e in body["results"]] == [
        (register.h1.case.number, "receiving_responder", world.health.name, f"case:{register.h1.case_id}"),
        (register.h1.case.number, "receiving_responder", world.health.name, f"handoff:{register.h1.pk}")]
    assert client.get("/api/supervision/access/?case=HUE-2026-999999").status_code == 400
    assert client.get("/api/supervision/access/?category=secret").status_code == 400
    response = client.get("/api/supervision/access/export.csv?action=view")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert b"receiving_responder" in b"".join(response.streaming_content)
    assert AuditEvent.objects.filter(action="export", actor=world.lead_supervisor).count() == 1


def test_unusual_access_and_dashboard(world, register, break_glass_use, api):
    client = api(world.lead_supervisor)
    body = client.get("/api/supervision/unusual-access/?min_cases=1").json()
    assert [u["id"] for u in body["break_glass"]] == [break_glass_use.pk]
    assert client.get("/api/supervision/unusual-access/?since=2026-02-02&until=2026-02-01").status_code == 400
    board = client.get("/api/supervision/dashboard/?weeks=3").json()
    assert board["pending_reviews"]["break_glass"] == 1
    assert all(len(row["weeks"]) == 3 for row in board["compliance"])
    assert client.get("/api/supervision/dashboard/?weeks=0").status_code == 400


def test_register_api_query_budget(world, register, api):
    client = api(world.lead_supervisor)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/supervision/handoffs/").status_code == 200
    assert len(captured.captured_queries) <= 8, [q["sql"] for q in captured.captured_queries]


def test_the_schema_builds_with_every_endpoint(world, api):
    response = api(world.lead_supervisor).get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/supervision/handoffs/", "/api/supervision/reviews/", "/api/supervision/access/export.csv",
                 "/api/supervision/dashboard/", "/api/break-glass/"):
        assert path in paths
