"""A meeting form the server refuses keeps what was typed: the meeting page is drawn again with the form
as sent, its error beside it and a 400 (cases.pages.change_posted_once's shown_again), never emptied
behind a flash; its token, freed by the refusal, sends the corrected form once. The page's text boxes
stop at the server's limits (maxlength) before anything is sent."""

import datetime
import html
import re
import uuid

from django.contrib.messages import get_messages
from django.utils import timezone

from conferences.models import ActionPlanItem, Contribution, MeetingMinutes, MinutesDecision
from conferences.serializers import (
    ContributionInputSerializer,
    DecisionInputSerializer,
    MinutesCorrectInputSerializer,
    PlanItemInputSerializer,
)
from conferences.services import REASON_LIMIT, TEXT_LIMIT, meeting_hold, minutes_sign
from tests.conferences.conftest import access_of
from tests.support.pages import form_tokens, sent_twice

PASTED = "Bà Mai kể lại toàn bộ sự việc. " * 140  # 4,340 characters, pasted from notes


def _page(client, met) -> str:
    return client.get(f"/meetings/{met.meeting.pk}/").content.decode()


def _held(world, met, *, signed=False) -> None:
    chair = world.lead_supervisor
    meeting_hold(access=access_of(chair, met.meeting), actor=chair, held_on=timezone.localdate())
    if signed:
        minutes_sign(access=access_of(chair, met.meeting), actor=chair)


def _shown_again(response, typed: str) -> str:
    page = html.unescape(response.content.decode())
    assert response.status_code == 400, response.status_code
    assert typed.strip() in page, "what was typed is gone from the page"
    return page


def _later(days=1) -> str:
    return (timezone.localtime() + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def test_a_contribution_refused_for_its_length_is_shown_again_with_what_was_typed(world, met, web):
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/contribute/"
    token = form_tokens(_page(client, met))[url]
    sent = {"meeting_case_id": met.row.pk, "agency_id": world.police.pk, "category": "police_legal", "text": PASTED,
            "sending_token": token}
    response = client.post(url, sent, HTTP_ACCEPT_LANGUAGE="en")
    page = _shown_again(response, PASTED)
    assert "no more than 4000 characters" in page
    assert '<option value="police_legal" selected>' in page  # the choices sent, kept too
    assert Contribution.objects.count() == 0
    assert form_tokens(page)[url] == token  # freed by the refusal, it sends the corrected form
    sent_twice(client, Contribution, url, {**sent, "text": PASTED[:TEXT_LIMIT].strip()}, written=1)


def test_a_contribution_refused_by_the_service_keeps_what_was_typed(world, met, web):
    # The chair types for the health agency, which may not see the police's category of the case.
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/contribute/"
    typed = "Bệnh viện đề nghị lệnh cấm tiếp xúc."
    response = client.post(url, {"meeting_case_id": met.row.pk, "agency_id": world.health.pk,
                                 "category": "police_legal", "text": typed,
                                 "sending_token": form_tokens(_page(client, met))[url]}, HTTP_ACCEPT_LANGUAGE="en")
    page = _shown_again(response, typed)
    assert re.search(r"</select></label><ul class=\"errorlist\"><li>This agency may not see this category", page)
    assert Contribution.objects.count() == 0


def test_a_plan_item_refused_keeps_its_action_and_choices(world, met, web):
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/plan/"
    token = form_tokens(_page(client, met))[url]
    sent = {"meeting_case_id": met.row.pk, "action": "Gọi lại cho bà Lan về lịch tái khám.",
            "owner_agency_id": world.health.pk, "due_at": _later(days=-1), "sending_token": token}
    page = _shown_again(client.post(url, sent, HTTP_ACCEPT_LANGUAGE="en"), sent["action"])
    assert "Choose a time in the future." in page and f'value="{sent["due_at"]}"' in page
    assert f'<option value="{world.health.pk}" selected>' in page
    assert ActionPlanItem.objects.count() == 0
    sent_twice(client, ActionPlanItem, url, {**sent, "due_at": _later()}, written=1)


def test_a_decision_refused_for_its_length_keeps_what_was_typed(world, met, web):
    _held(world, met)
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/decide/"
    token = form_tokens(_page(client, met))[url]
    sent = {"meeting_case_id": met.row.pk, "text": PASTED, "sending_token": token}
    _shown_again(client.post(url, sent), PASTED)
    assert MinutesDecision.objects.count() == 0
    sent_twice(client, MinutesDecision, url, {**sent, "text": "Cấp lệnh cấm tiếp xúc."}, written=1)


def test_a_correction_reason_refused_for_its_length_keeps_what_was_typed(world, met, web):
    _held(world, met, signed=True)
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/correct/"
    token = form_tokens(_page(client, met))[url]
    reason = "Sai tên người tham dự; " * 14  # 322 characters
    _shown_again(client.post(url, {"reason": reason, "sending_token": token}), reason)
    assert MeetingMinutes.objects.count() == 1
    sent_twice(client, MeetingMinutes, url, {"reason": "Sai tên người tham dự.", "sending_token": token}, written=1)


def test_a_refused_form_the_page_no_longer_draws_shows_what_was_typed_at_the_top(world, met, web):
    # A decision typed on the draft minutes, sent after the chair signed them in another tab.
    _held(world, met)
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/decide/"
    token = form_tokens(_page(client, met))[url]
    minutes_sign(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor)
    typed = "Chuyển bà Lan đến nhà tạm lánh."
    page = _shown_again(client.post(url, {"meeting_case_id": met.row.pk, "text": typed, "sending_token": token},
                                    HTTP_ACCEPT_LANGUAGE="en"), typed)
    assert 'data-testid="refused"' in page and "The minutes are signed" in page
    assert url not in form_tokens(page) and MinutesDecision.objects.count() == 0


def test_a_refused_choice_is_still_flashed_over_the_page(world, met, web):
    # Nothing typed to keep (a button, a list's choice): POST, redirect, GET as before.
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/agenda/"
    response = client.post(url, {"case_id": met.case.pk, "sending_token": str(uuid.uuid4())},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == f"/meetings/{met.meeting.pk}/"
    assert "already on the agenda" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_the_meeting_page_stops_typed_text_at_the_servers_limits(world, met, web):
    client = web(world.lead_supervisor)
    assert TEXT_LIMIT == ContributionInputSerializer().fields["text"].max_length \
        == DecisionInputSerializer().fields["text"].max_length == PlanItemInputSerializer().fields["action"].max_length
    assert MinutesCorrectInputSerializer().fields["reason"].max_length == REASON_LIMIT
    page = _page(client, met)
    assert f'name="text" rows="2" required maxlength="{TEXT_LIMIT}"' in page  # the contribution
    assert f'name="action" required maxlength="{TEXT_LIMIT}"' in page
    _held(world, met)
    assert re.search(rf'<textarea name="text" rows="2" required maxlength="{TEXT_LIMIT}" aria-label="[^"]+"'
                     r' data-testid="decision-text"', _page(client, met))
    minutes_sign(access=access_of(world.lead_supervisor, met.meeting), actor=world.lead_supervisor)
    assert f'name="reason" required maxlength="{REASON_LIMIT}"' in _page(client, met)
