"""The permission matrix of every case-meeting URL, API and pages: an agency not invited sees no
meeting (404), an invited agency sees only the cases and categories consent gives it, a ministry
analyst, a system administrator, an agency admin and anonymous are refused, and only the
coordinator and the chair run the meeting."""

import datetime

import pytest
from django.utils import timezone

from cases.models import CaseAccessRow
from conferences.models import ActionPlanItem, Contribution, MinutesDecision
from conferences.services import contribution_add, plan_item_add

from .conftest import access_of

pytestmark = pytest.mark.django_db

REFUSED_READERS = ("outsider_supervisor", "outsider_responder", "analyst", "province_analyst", "sysadmin",
                   "lead_admin")


@pytest.fixture
def plan(world, met):
    chair = access_of(world.lead_supervisor, met.meeting)
    contribution_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, category="police_legal",
                     text="Lệnh cấm tiếp xúc.")
    contribution_add(access=access_of(world.receiving_responder, met.meeting), actor=world.receiving_responder,
                     meeting_case_id=met.row.pk, category="medical", text="Đã khám.")
    item = plan_item_add(access=chair, actor=world.lead_supervisor, meeting_case_id=met.row.pk, action="Gọi lại.",
                         owner_agency_id=world.health.pk, owner_user=None,
                         due_at=timezone.now() + datetime.timedelta(days=1))
    return item


def _get_urls(met, item):
    m = met.meeting.pk
    return [f"/api/meetings/{m}/", f"/meetings/{m}/", f"/api/meetings/{m}/invitable/", f"/meetings/plan/{item.pk}/"]


def _post_urls(met, item):
    m = met.meeting.pk
    return [
        (f"/api/meetings/{m}/agenda/", {"case_id": met.case.pk}),
        (f"/api/meetings/{m}/invitations/", {"agency_id": 1}),
        (f"/api/meetings/{m}/cancel/", {"reason": "x"}),
        (f"/api/meetings/{m}/attendance/", {"attended": {"1": True}}),
        (f"/api/meetings/{m}/contributions/", {"meeting_case_id": met.row.pk, "category": "general", "text": "x"}),
        (f"/api/meetings/{m}/held/", {"held_on": "2026-01-01"}),
        (f"/api/meetings/{m}/decisions/", {"meeting_case_id": met.row.pk, "text": "x"}),
        (f"/api/meetings/{m}/minutes/sign/", {}),
        (f"/api/meetings/{m}/minutes/corrections/", {"reason": "x"}),
        (f"/api/meetings/{m}/plan-items/", {"meeting_case_id": met.row.pk, "action": "x", "owner_agency_id": 1,
                                            "due_at": "2030-01-01T00:00:00Z"}),
        (f"/api/plan-items/{item.pk}/finish/", {"status": "done"}),
    ]


@pytest.mark.parametrize("who", REFUSED_READERS)
def test_no_part_in_the_meeting_no_meeting(world, met, plan, api, web, who):
    user = getattr(world, who)
    for url in _get_urls(met, plan):
        client = web(user) if not url.startswith("/api/") else api(user)
        assert client.get(url).status_code in (403, 404), url
    for url, body in _post_urls(met, plan):
        assert api(user).post(url, body, format="json").status_code in (403, 404), url
    for url in ("/meetings/", "/api/meetings/", "/api/plan-items/"):
        response = (web if url == "/meetings/" else api)(user).get(url)
        assert response.status_code in (200, 403)
        assert f"/meetings/{met.meeting.pk}/" not in response.content.decode()
        assert "Gọi lại." not in response.content.decode()
    if who == "outsider_supervisor":
        # A supervisor coordinates for their own agency: their list, without this case.
        response = api(user).get("/api/meetings/awaiting/")
        assert response.status_code == 200 and met.case.number not in response.content.decode()
    else:
        assert api(user).get("/api/meetings/awaiting/").status_code == 403
        assert api(user).post("/api/meetings/", {}, format="json").status_code == 403
    assert api(user).get(f"/api/cases/{met.case.pk}/plan-items/").status_code in (403, 404)
    assert web(user).get(f"/cases/{met.case.pk}/").status_code in (403, 404)


def test_anonymous_is_refused_everywhere(met, plan, api, web):
    for url in _get_urls(met, plan) + ["/api/meetings/", "/api/meetings/awaiting/", "/api/plan-items/",
                                        f"/api/cases/{met.case.pk}/plan-items/"]:
        response = (api() if url.startswith("/api/") else web()).get(url)
        assert response.status_code in (302, 401, 403), url
    assert web().get("/meetings/").status_code == 302
    for url, body in _post_urls(met, plan):
        assert api().post(url, body, format="json").status_code in (401, 403), url


def test_an_invited_agency_sees_only_what_consent_gives_it(world, met, plan, api):
    body = api(world.receiving_responder).get(f"/api/meetings/{met.meeting.pk}/").json()
    assert [row["categories"] for row in body["agenda"]] == [["general", "medical"]]
    assert {c["category"] for c in body["contributions"]} == {"medical"}
    assert "Lệnh cấm tiếp xúc." not in str(body)
    police = api(world.lead_responder).get(f"/api/meetings/{met.meeting.pk}/").json()
    assert {c["category"] for c in police["contributions"]} == {"medical", "police_legal"}
    assert Contribution.objects.count() == 2


def test_only_the_coordinator_and_chair_run_the_meeting(world, met, plan, api):
    m = met.meeting.pk
    for user in (world.lead_responder, world.receiving_supervisor, world.receiving_responder):
        client = api(user)
        assert client.get(f"/api/meetings/{m}/invitable/").status_code == 403
        for url, body in _post_urls(met, plan)[:-1]:
            if url.endswith("/contributions/"):
                continue
            assert client.post(url, body, format="json").status_code == 403, (user, url)
    # An invited agency adds its own contribution, in a category it may see.
    client = api(world.receiving_responder)
    url = f"/api/meetings/{m}/contributions/"
    assert client.post(url, {"meeting_case_id": met.row.pk, "category": "medical", "text": "Tái khám."},
                       format="json").status_code == 201
    response = client.post(url, {"meeting_case_id": met.row.pk, "category": "psychosocial", "text": "x"},
                           format="json")
    assert response.status_code == 400 and "category" in response.json()


def test_plan_item_done_by_the_owner_agency_only(world, met, plan, api):
    url = f"/api/plan-items/{plan.pk}/finish/"
    assert api(world.lead_responder).post(url, {"status": "done"}, format="json").status_code == 403
    assert api(world.receiving_responder).post(url, {"status": "maybe"}, format="json").status_code == 400
    response = api(world.receiving_responder).post(url, {"status": "done"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "done"
    assert ActionPlanItem.objects.get().status == "done"


def test_api_meeting_flow_and_bad_input(world, met, api):
    client = api(world.lead_supervisor)
    m = met.meeting.pk
    response = client.post("/api/meetings/", {"scheduled_for": "nope", "chair": world.receiving_supervisor.pk},
                           format="json")
    assert response.status_code == 400 and {"scheduled_for", "chair"} <= set(response.json())
    assert client.post(f"/api/meetings/{m}/held/", {"held_on": timezone.localdate().isoformat()},
                       format="json").status_code == 200
    assert client.post(f"/api/meetings/{m}/decisions/", {"meeting_case_id": met.row.pk, "text": "Quyết định."},
                       format="json").status_code == 200
    assert client.post(f"/api/meetings/{m}/minutes/sign/", {}, format="json").status_code == 200
    response = client.post(f"/api/meetings/{m}/decisions/", {"meeting_case_id": met.row.pk, "text": "Sửa."},
                           format="json")
    assert response.status_code == 409 and "minutes" in response.json()  # signed: MINUTES_MACHINE
    assert client.post(f"/api/meetings/{m}/minutes/corrections/", {"reason": "Sai tên."},
                       format="json").status_code == 201
    assert MinutesDecision.objects.filter(minutes__meeting=met.meeting).count() == 2
    assert client.post(f"/api/meetings/{m}/unknown/", {}, format="json").status_code == 404


def test_list_and_detail_query_budgets(world, met, plan, api, django_assert_max_num_queries):
    client = api(world.lead_supervisor)
    client.get(f"/api/meetings/{met.meeting.pk}/")
    with django_assert_max_num_queries(30):
        assert client.get(f"/api/meetings/{met.meeting.pk}/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/api/meetings/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/api/plan-items/").status_code == 200
    # The chair's meeting page; SQLite chains the view's audit event inside the request (42 there).
    with django_assert_max_num_queries(42):
        assert client.get(f"/meetings/{met.meeting.pk}/").status_code == 200


def test_an_owner_agency_that_lost_the_case_no_longer_sees_its_plan_item(world, met, plan, api, client):
    """The plan item's action is case content: once health may no longer see the case (its access rows
    gone, as a withdrawal or an ended handoff leaves them), the item leaves its list and its page and
    API answer 404, like the case itself."""
    health = api(world.receiving_responder)
    assert [row["id"] for row in health.get("/api/plan-items/").json()] == [plan.pk]
    CaseAccessRow.objects.filter(case=met.case, agency=world.health).delete()
    assert health.get("/api/plan-items/").json() == []
    assert health.post(f"/api/plan-items/{plan.pk}/finish/", {"status": "done"}, format="json").status_code == 404
    client.force_login(world.receiving_responder)
    assert client.get(f"/meetings/plan/{plan.pk}/").status_code == 404
    # The coordinating agency, which still leads the case, keeps it.
    client.force_login(world.lead_supervisor)
    assert client.get(f"/meetings/plan/{plan.pk}/").status_code == 200
