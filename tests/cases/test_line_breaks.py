"""A text box's maxlength counts a line break as one character, but the browser sends it as CR LF, two.
A note typed up to the box's limit, with line breaks, must be kept as typed, not refused as too long:
the pages' text boxes (config.forms.TypedTextField), the meeting page's own boxes and the API
(config.api.TextField) all count a line break once, and store it as "\\n"."""

from cases.models import Action
from cases.serializers import TEXT_LIMITS
from conferences.models import Contribution
from conferences.services import TEXT_LIMIT
from tests.conferences.conftest import met  # noqa: F401 (fixture)
from tests.support.pages import form_tokens


def _typed(limit: int) -> tuple[str, str]:
    """A note exactly `limit` characters long as the box counts it (one per line break), and as the
    browser sends it (CR LF)."""
    line = "Chị kể lại sự việc, đã được khám và tư vấn."
    lines = [line] * (limit // (len(line) + 1))
    typed = "\n".join(lines)
    typed += "x" * (limit - len(typed))
    return typed, typed.replace("\n", "\r\n")


def test_an_action_typed_to_the_limit_with_line_breaks_is_kept(world, shared_case, web):
    typed, sent = _typed(TEXT_LIMITS["text"])
    assert len(sent) > TEXT_LIMITS["text"]
    response = web(world.receiving_responder).post(f"/cases/{shared_case.case.pk}/actions/new/",
                                                   {"type": "note", "category": "medical", "text": sent})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Action.objects.latest("id").text == typed


def test_a_contribution_typed_to_the_limit_with_line_breaks_is_kept(world, met, web):  # noqa: F811
    typed, sent = _typed(TEXT_LIMIT)
    client = web(world.lead_supervisor)
    url = f"/meetings/{met.meeting.pk}/contribute/"
    token = form_tokens(client.get(f"/meetings/{met.meeting.pk}/").content.decode())[url]
    response = client.post(url, {"meeting_case_id": met.row.pk, "category": "police_legal", "text": sent,
                                 "sending_token": token})
    assert response.status_code == 302, response.status_code
    assert Contribution.objects.get().text == typed


def test_the_api_counts_a_line_break_once_too(world, shared_case, api):
    typed, sent = _typed(TEXT_LIMITS["text"])
    response = api(world.receiving_responder).post(f"/api/cases/{shared_case.case.pk}/actions/",
                                                   {"type": "note", "category": "medical", "text": sent},
                                                   format="json")
    assert response.status_code == 201, response.json()
    assert Action.objects.latest("id").text == typed


def test_past_the_limit_as_the_box_counts_it_is_still_refused(world, shared_case, web):
    typed, sent = _typed(TEXT_LIMITS["text"] + 1)
    response = web(world.receiving_responder).post(f"/cases/{shared_case.case.pk}/actions/new/",
                                                   {"type": "note", "category": "medical", "text": sent})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Action.objects.filter(text=typed).exists()
