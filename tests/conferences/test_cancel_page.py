"""The coordinator cancels a scheduled meeting from its page, with the reason. The reason is sealed with
the meeting's key and shown again only to those who run the meeting: the coordinating agency's supervisors
and the chair. Nobody else is offered the form or may send it, and a reason the server refuses comes back
with what was typed."""

import html
import uuid

import pytest

from audit.models import AuditEvent
from conferences.models import CaseMeeting, MeetingStatus
from conferences.services import CANCEL_REASON_LIMIT
from tests.conferences.test_permissions import REFUSED_READERS
from tests.support.pages import form_tokens, sent_twice

REASON = "Chị Lan chuyển về nhà mẹ đẻ, chưa liên lạc được."


def _url(met) -> str:
    return f"/meetings/{met.meeting.pk}/cancel/"


def _page(client, met) -> str:
    return html.unescape(client.get(f"/meetings/{met.meeting.pk}/").content.decode())


def test_the_coordinator_cancels_from_the_page_once_and_reads_why(world, met, web):
    client = web(world.lead_supervisor)
    page = _page(client, met)
    assert 'data-testid="cancel-form"' in page
    first, again = sent_twice(client, AuditEvent, _url(met),
                              {"reason": REASON, "sending_token": form_tokens(page)[_url(met)]}, written=1)
    assert first["Location"] == f"/meetings/{met.meeting.pk}/"
    meeting = CaseMeeting.objects.get(pk=met.meeting.pk)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.cancelled_reason == REASON
    page = _page(client, met)
    assert 'data-testid="cancel-form"' not in page  # a cancelled meeting is not cancelled again
    assert REASON in page
    # Neither the coordinating agency's responders nor the invited hospital are told why.
    assert REASON not in _page(web(world.lead_responder), met)
    invited = _page(web(world.receiving_supervisor), met)
    assert "Cancelled" in invited or "Đã hủy" in invited
    assert REASON not in invited


@pytest.mark.parametrize("who", ["lead_responder", "receiving_supervisor", "receiving_responder"])
def test_a_meeting_is_cancelled_by_its_coordinating_supervisor_only(world, met, web, who):
    client = web(getattr(world, who))
    assert 'data-testid="cancel-form"' not in _page(client, met)
    response = client.post(_url(met), {"reason": REASON, "sending_token": str(uuid.uuid4())})
    assert response.status_code in (302, 403), response.status_code
    assert CaseMeeting.objects.get(pk=met.meeting.pk).status == MeetingStatus.SCHEDULED


@pytest.mark.parametrize("who", REFUSED_READERS)
def test_no_part_in_the_meeting_no_cancelling(world, met, web, who):
    response = web(getattr(world, who)).post(_url(met), {"reason": REASON, "sending_token": str(uuid.uuid4())})
    assert response.status_code in (403, 404), response.status_code
    assert CaseMeeting.objects.get(pk=met.meeting.pk).status == MeetingStatus.SCHEDULED


def test_anonymous_is_sent_to_sign_in(met, web):
    response = web().post(_url(met), {"reason": REASON, "sending_token": str(uuid.uuid4())})
    assert response.status_code == 302 and "/login" in response["Location"]
    assert CaseMeeting.objects.get(pk=met.meeting.pk).status == MeetingStatus.SCHEDULED


@pytest.mark.parametrize("reason, error", [("   ", "This field may not be blank."),
                                           ("x" * (CANCEL_REASON_LIMIT + 1),
                                            f"no more than {CANCEL_REASON_LIMIT} characters")])
def test_a_refused_reason_comes_back_with_what_was_typed(world, met, web, reason, error):
    client = web(world.lead_supervisor)
    token = form_tokens(_page(client, met))[_url(met)]
    response = client.post(_url(met), {"reason": reason, "sending_token": token}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert error in page
    assert f'value="{reason}"' in page and 'id="cancel-reason-errors"' in page
    assert form_tokens(page)[_url(met)] == token  # freed by the refusal, it sends the corrected form
    assert CaseMeeting.objects.get(pk=met.meeting.pk).status == MeetingStatus.SCHEDULED
