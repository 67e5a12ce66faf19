"""The meeting pages write once however often a form is sent (cases.pages.change_posted_once): a double
tap on a slow connection schedules one meeting, adds one contribution, one plan item."""

import datetime

from django.contrib.messages import get_messages
from django.utils import timezone

from conferences.models import ActionPlanItem, CaseMeeting, Contribution
from tests.support.pages import form_tokens, sent_twice


def _meeting_page_tokens(client, met) -> dict[str, str]:
    return form_tokens(client.get(f"/meetings/{met.meeting.pk}/").content.decode())


def test_each_form_of_the_meeting_page_has_its_own_token(world, met, web):
    tokens = _meeting_page_tokens(web(world.lead_supervisor), met)
    operations = {action.rsplit("/", 2)[-2] for action in tokens}
    assert {"attendance", "contribute", "plan", "hold"} <= operations
    assert len(set(tokens.values())) == len(tokens)


def test_a_meeting_scheduled_twice_is_one_meeting(world, web):
    client = web(world.lead_supervisor)
    token = form_tokens(client.get("/meetings/").content.decode())["/meetings/schedule/"]
    data = {"scheduled_for": (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "mode": "call", "place": "", "chair": str(world.lead_supervisor.pk), "sending_token": token}
    first, again = sent_twice(client, CaseMeeting, "/meetings/schedule/", data, written=1)
    meeting = CaseMeeting.objects.latest("pk")
    assert first["Location"] == again["Location"] == f"/meetings/{meeting.pk}/"
    assert "already been sent" in " ".join(str(m) for m in get_messages(again.wsgi_request))


def test_a_contribution_and_a_plan_item_sent_twice_are_written_once(world, met, web):
    client = web(world.lead_supervisor)
    tokens = _meeting_page_tokens(client, met)
    m = met.meeting.pk
    sent_twice(client, Contribution, f"/meetings/{m}/contribute/", {
        "meeting_case_id": met.row.pk, "category": "police_legal", "text": "Lệnh cấm tiếp xúc.",
        "sending_token": tokens[f"/meetings/{m}/contribute/"]}, written=1)
    sent_twice(client, ActionPlanItem, f"/meetings/{m}/plan/", {
        "meeting_case_id": met.row.pk, "action": "Gọi lại.", "owner_agency_id": world.health.pk,
        "due_at": (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "sending_token": tokens[f"/meetings/{m}/plan/"]}, written=1)


def test_a_refused_operation_frees_its_token_for_the_corrected_form(world, met, web):
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/contribute/"
    token = _meeting_page_tokens(client, met)[url]
    refused = {"meeting_case_id": met.row.pk, "category": "police_legal", "text": "", "sending_token": token}
    for _time in range(2):  # refused twice, shown again each time with its own token
        response = client.post(url, refused)
        assert response.status_code == 400 and Contribution.objects.count() == 0
        assert form_tokens(response.content.decode())[url] == token
    sent_twice(client, Contribution, url, {**refused, "text": "Đã gọi."}, written=1)


def test_another_persons_token_writes_nothing(world, met, web):
    url = f"/meetings/{met.meeting.pk}/contribute/"
    data = {"meeting_case_id": met.row.pk, "category": "police_legal", "text": "Lệnh cấm tiếp xúc."}
    chair = web(world.lead_supervisor)
    token = _meeting_page_tokens(chair, met)[url]
    assert chair.post(url, {**data, "sending_token": token}).status_code == 302
    before = Contribution.objects.count()
    other = web(world.receiving_responder)
    response = other.post(url, {**data, "category": "medical", "sending_token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409 and Contribution.objects.count() == before
    page = response.content.decode()
    # Shown again with what was typed and a new token, to be sent again by choice.
    assert "can no longer be sent" in page and "Lệnh cấm tiếp xúc." in page
    assert form_tokens(page)[url] != token
