"""Handoff pages: the lists, a handoff with its timeline and the buttons of the viewer's side, the
two-step send form (consent decides the categories), send on, and a responder's case deadlines.
Refusals of every page by role are in test_permission_matrix.py; here, what each page does."""

import datetime
import re

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import connection
from django.utils import timezone

from agencies.acting import acting_for
from agencies.services import membership_add
from audit.models import AuditEvent
from cases.selectors import case_get_for_user
from handoffs.models import Handoff
from handoffs.services import handoff_accept, handoff_decline
from handoffs.views import PER_PAGE
from notifications.models import Deadline
from tests.cases.services_helpers import handoff_send_through_edge
from tests.handoffs.conftest import consented_case
from tests.support.chain_cost import get_within_budget
from tests.support.pages import form_tokens

pytestmark = pytest.mark.usefixtures("time_limits")


def send(world, case, **overrides):
    data = {"kind": "referral", "to_agency": world.health, "services": ["medical_care"], "urgency": "urgent",
            "categories": ["medical"], "message": "Đề nghị khám và điều trị."}
    data.update(overrides)
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk, require="manage_sharing")
    return handoff_send_through_edge(access=lead, actor=world.lead_responder, data=data)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _testids(html: str) -> set[str]:
    return set(re.findall(r'data-testid="([^"]+)"', html))


def _form(html: str, testid: str) -> str:
    match = re.search(rf'<form[^>]*data-testid="{testid}".*?</form>', html, re.S)
    assert match, f"no form {testid}"
    return match.group(0)


# --- Lists ---------------------------------------------------------------------------------------


def test_incoming_and_outgoing_lists_show_status_urgency_due_time_and_overdue(world, case, web):
    waiting = send(world, case)
    late = send(world, case, to_agency=world.school, categories=["education"], urgency="emergency")
    Handoff.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=5))

    school_page = web(world.outsider_responder).get("/handoffs/incoming/").content.decode()
    assert case.number in school_page and f'handoff-link-{late.pk}"' in school_page
    assert 'class="overdue"' in school_page and 'data-testid="overdue"' in school_page
    health_page = web(world.receiving_supervisor).get("/handoffs/incoming/").content.decode()
    assert f'handoff-link-{waiting.pk}"' in health_page and f'handoff-link-{late.pk}"' not in health_page
    assert "overdue" not in health_page
    assert timezone.localtime(waiting.due_at).strftime("%H:%M %d/%m/%Y") in health_page

    outgoing = web(world.lead_supervisor).get("/handoffs/outgoing/").content.decode()
    assert f'handoff-link-{waiting.pk}"' in outgoing and f'handoff-link-{late.pk}"' in outgoing
    assert case.number not in web(world.lead_responder).get("/handoffs/incoming/").content.decode()


def test_the_list_filters_by_status_and_refuses_an_unknown_one(world, case, web):
    handoff = send(world, case)
    client = web(world.receiving_responder)
    assert f'handoff-link-{handoff.pk}"' in client.get("/handoffs/incoming/?status=sent").content.decode()
    assert f'handoff-link-{handoff.pk}"' not in client.get("/handoffs/incoming/?status=accepted").content.decode()
    response = client.get("/handoffs/incoming/?status=lost")
    assert response.status_code == 400 and "errorlist" in response.content.decode()


def test_a_person_of_two_agencies_lists_the_handoffs_of_both_pages_and_statuses_apart(world, case, web):
    to_health = send(world, case)
    to_school = send(world, case, to_agency=world.school, categories=["education"])
    membership_add(user=world.receiving_responder, agency=world.school, role="responder")
    with acting_for(world.health.pk):
        handoff_accept(user=world.receiving_responder, handoff_id=to_health.pk)
    client = web(world.receiving_responder)

    def links(url: str) -> list[str]:
        return re.findall(r'data-testid="handoff-link-(\d+)"', client.get(url).content.decode())

    assert links("/handoffs/incoming/") == [str(to_school.pk), str(to_health.pk)]
    assert links("/handoffs/incoming/?status=sent") == [str(to_school.pk)]
    assert links("/handoffs/incoming/?status=accepted") == [str(to_health.pk)]
    page = client.get("/handoffs/incoming/").content.decode()
    assert f'href="/handoffs/{to_school.pk}/"' in page and "Đã chấp nhận" in page
    for number in range(PER_PAGE):
        send(world, consented_case(world), message=f"Lần {number}")
    first, second = links("/handoffs/incoming/"), links("/handoffs/incoming/?page=2")
    assert len(first) == PER_PAGE and second == [str(to_school.pk), str(to_health.pk)]
    assert "Trang 1/2" in client.get("/handoffs/incoming/").content.decode()


# --- One handoff ---------------------------------------------------------------------------------


def test_the_receiver_sees_accept_and_decline_and_its_first_look_is_recorded(world, case, web):
    handoff = send(world, case)
    sender_page = web(world.lead_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    handoff.refresh_from_db()
    assert handoff.viewed_at is None, "the sender's look is not the receiver's"
    assert {"withdraw-form", "withdraw"} <= _testids(sender_page)
    assert not {"accept", "decline-form", "complete-form"} & _testids(sender_page)

    response = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/")
    page = response.content.decode()
    handoff.refresh_from_db()
    assert handoff.viewed_by == world.receiving_responder
    assert {"accept", "decline-form", "due-at", "handoff-message"} <= _testids(page)
    assert not {"withdraw-form", "open-case", "complete-form"} & _testids(page)
    assert "Đề nghị khám và điều trị." in page
    assert re.findall(r'<li data-type="([^"]+)"', page) == ["handoff_sent", "handoff_viewed"]
    assert AuditEvent.objects.filter(target=f"handoff:{handoff.pk}", action="view").count() == 2


def test_accepting_from_the_page_opens_the_case_and_tells_the_sender(world, case, web):
    handoff = send(world, case)
    client = web(world.receiving_responder)
    response = client.post(f"/handoffs/{handoff.pk}/accept/")
    assert response.status_code == 302 and response["Location"] == f"/handoffs/{handoff.pk}/"
    assert _messages(response)
    handoff.refresh_from_db()
    assert handoff.status == "accepted"
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).categories == {"medical"}
    page = client.get(f"/handoffs/{handoff.pk}/").content.decode()
    assert {"open-case", "complete-form"} <= _testids(page) and "accept" not in _testids(page)
    assert re.findall(r'<li data-type="([^"]+)"', page) == ["handoff_sent", "handoff_viewed", "handoff_accepted"]
    # Accepting twice is refused with a message, not an error page.
    again = client.post(f"/handoffs/{handoff.pk}/accept/")
    assert again.status_code == 302 and _messages(again)


def test_declining_needs_a_reason_shown_inline_and_then_the_sender_may_send_on(world, case, web):
    handoff = send(world, case)
    client = web(world.receiving_responder)
    response = client.post(f"/handoffs/{handoff.pk}/decline/", {"decline-reason": "   "})
    assert response.status_code == 400
    assert "errorlist" in _form(response.content.decode(), "decline-form")
    handoff.refresh_from_db()
    assert handoff.status == "sent"

    response = client.post(f"/handoffs/{handoff.pk}/decline/", {"decline-reason": "Hết giường bệnh"})
    assert response.status_code == 302 and response["Location"] == f"/handoffs/{handoff.pk}/"
    handoff.refresh_from_db()
    assert (handoff.status, handoff.decline_reason) == ("declined", "Hết giường bệnh")
    sender_page = web(world.lead_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    assert "send-on" in _testids(sender_page) and "Hết giường bệnh" in sender_page
    assert "send-on" not in _testids(client.get(f"/handoffs/{handoff.pk}/").content.decode())


def test_a_decline_shown_again_with_its_errors_keeps_its_token_and_sent_twice_declines_once(world, case, web):
    """The decline form shown again with its errors keeps its token (the page's other forms get new ones);
    the corrected form sent twice declines once, and the second is told so, not refused by the state."""
    handoff = send(world, case)
    client = web(world.receiving_responder)
    url = f"/handoffs/{handoff.pk}/decline/"
    token = form_tokens(client.get(f"/handoffs/{handoff.pk}/").content.decode())[url]
    shown = client.post(url, {"decline-reason": "   ", "sending_token": token})
    assert shown.status_code == 400 and form_tokens(shown.content.decode())[url] == token
    data = {"decline-reason": "Hết giường bệnh", "sending_token": token}
    first = client.post(url, data)
    written = AuditEvent.objects.count()
    again = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert AuditEvent.objects.count() == written and Handoff.objects.get(pk=handoff.pk).status == "declined"
    told = {m.level: str(m) for m in get_messages(again.wsgi_request)}
    assert messages.ERROR not in told and "already been sent" in told[messages.INFO]


def test_withdrawing_and_completing_from_the_pages(world, case, web):
    first = send(world, case)
    response = web(world.lead_supervisor).post(f"/handoffs/{first.pk}/withdraw/", {"withdraw-reason": ""})
    assert response.status_code == 400
    response = web(world.lead_supervisor).post(f"/handoffs/{first.pk}/withdraw/",
                                               {"withdraw-reason": "Đã chuyển nơi khác"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == "withdrawn"

    second = send(world, case)
    handoff_accept(user=world.receiving_supervisor, handoff_id=second.pk)
    client = web(world.receiving_responder)
    assert client.post(f"/handoffs/{second.pk}/complete/", {"complete-outcome": ""}).status_code == 400
    response = client.post(f"/handoffs/{second.pk}/complete/", {"complete-outcome": "Đã khám, ổn định"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.status, second.outcome) == ("completed", "Đã khám, ổn định")
    assert case_get_for_user(user=world.receiving_responder, case_id=case.pk).categories == frozenset()


def test_the_wrong_side_is_refused_before_its_input_is_read(world, case, web):
    handoff = send(world, case)
    for url in ("decline", "complete", "accept"):
        assert web(world.lead_responder).post(f"/handoffs/{handoff.pk}/{url}/", {}).status_code == 403
        assert web(world.outsider_responder).post(f"/handoffs/{handoff.pk}/{url}/", {}).status_code == 404
    assert web(world.receiving_responder).post(f"/handoffs/{handoff.pk}/withdraw/", {}).status_code == 403
    assert web(world.lead_responder).get("/handoffs/999999/").status_code == 404
    handoff.refresh_from_db()
    assert handoff.status == "sent"


# --- Sending -------------------------------------------------------------------------------------


def test_step_one_groups_agencies_by_province_and_sector_and_marks_consent(world, case, web):
    response = web(world.lead_responder).get(f"/handoffs/new/{case.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and "agency-form" in _testids(page)
    groups = re.findall(r'<optgroup label="([^"]+)"', page)
    # The case's province first; the sending agency is not offered.
    assert groups[0].startswith(world.hanoi.name) and any(g.startswith(world.hue.name) for g in groups)
    assert f'value="{world.police.pk}"' not in page
    health_option = re.search(rf'<option value="{world.health.pk}">([^<]+)</option>', page).group(1)
    assert world.health.name in health_option and health_option != world.health.name  # "(consent recorded)"

    bad = web(world.lead_responder).get(f"/handoffs/new/{case.pk}/?to_agency=999999")
    assert bad.status_code == 400 and "errorlist" in bad.content.decode()


def test_step_two_offers_only_consented_categories_and_the_rest_behind_the_override(world, case, web):
    page = web(world.lead_responder).get(f"/handoffs/new/{case.pk}/?to_agency={world.health.pk}").content.decode()
    form = _form(page, "handoff-form")
    assert re.findall(r'name="categories" value="(\w+)"[^>]*checked', form) == ["medical"]
    assert set(re.findall(r'name="categories" value="(\w+)"', form)) == {"medical"}
    beyond = set(re.findall(r'name="override_categories" value="(\w+)"', form))
    assert "identity" not in beyond and {"contact", "education", "psychosocial", "police_legal"} <= beyond
    assert "refused" in _testids(page)


def test_sending_from_the_page_redirects_to_the_new_handoff(world, case, web):
    url = f"/handoffs/new/{case.pk}/"
    form = {"to_agency": str(world.health.pk), "kind": "referral", "services": ["medical_care", "forensic_exam"],
            "urgency": "urgent", "categories": ["medical"], "message": "Khám gấp trong ngày."}
    # Beyond consent without the override: refused next to the categories, nothing written.
    response = web(world.lead_responder).post(url, {**form, "override_categories": ["contact"]})
    assert response.status_code == 400 and Handoff.objects.count() == 0
    assert "errorlist" in re.search(r'data-field="categories".*?</div>', response.content.decode(), re.S).group(0)

    response = web(world.lead_responder).post(url, form)
    handoff = Handoff.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/handoffs/{handoff.pk}/"
    assert (handoff.to_agency, handoff.services, handoff.categories) == (world.health, ["medical_care",
                                                                                        "forensic_exam"], ["medical"])
    assert Deadline.objects.filter(subject=f"handoff:{handoff.pk}", closed_at__isnull=True).count() == 1
    assert any(world.health.name in m for m in _messages(response))


def test_an_override_with_a_reason_shares_beyond_consent_but_never_what_was_refused(world, case, web):
    url = f"/handoffs/new/{case.pk}/"
    form = {"to_agency": str(world.health.pk), "kind": "referral", "services": ["medical_care"],
            "urgency": "emergency", "categories": ["medical"], "override_categories": ["contact"],
            "emergency_override": "on", "override_reason": ""}
    response = web(world.lead_responder).post(url, form)
    assert response.status_code == 400 and Handoff.objects.count() == 0
    response = web(world.lead_responder).post(url, {**form, "override_categories": ["identity"],
                                                    "override_reason": "Nguy hiểm đến tính mạng"})
    assert response.status_code == 400 and Handoff.objects.count() == 0
    response = web(world.lead_responder).post(url, {**form, "override_reason": "Nguy hiểm đến tính mạng"})
    assert response.status_code == 302
    assert Handoff.objects.get().categories == ["contact", "medical"]


def test_sending_on_after_a_decline_fills_in_what_was_asked(world, case, web):
    declined = send(world, case, services=["medical_care", "counselling"], message="Cần tư vấn tâm lý.")
    handoff_decline(user=world.receiving_responder, handoff_id=declined.pk, reason="Không có chuyên khoa")
    url = f"/handoffs/new/{case.pk}/?forwarded_from={declined.pk}&to_agency={world.school.pk}"
    page = web(world.lead_responder).get(url).content.decode()
    form = _form(page, "handoff-form")
    assert f'name="forwarded_from" value="{declined.pk}"' in form
    assert set(re.findall(r'name="services" value="(\w+)"[^>]*checked', form)) == {"medical_care", "counselling"}
    assert "Cần tư vấn tâm lý." in form
    # Something that is not an id is ignored, as a handoff that is not a declined one of this case (a 500 for "²").
    for odd in ("²", "abc", "99999999999999999999"):
        page = web(world.lead_responder).get(f"/handoffs/new/{case.pk}/?forwarded_from={odd}")
        assert page.status_code == 200 and 'name="forwarded_from"' not in _form(page.content.decode(), "agency-form")
    response = web(world.lead_responder).post(f"/handoffs/new/{case.pk}/", {
        "to_agency": str(world.school.pk), "forwarded_from": str(declined.pk), "kind": "referral",
        "services": ["counselling"], "urgency": "urgent", "categories": ["education"]})
    assert response.status_code == 302
    assert Handoff.objects.get(to_agency=world.school).forwarded_from == declined


def test_only_the_lead_sends(world, case, web):
    handoff = send(world, case)
    handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    assert web(world.receiving_responder).get(f"/handoffs/new/{case.pk}/").status_code == 403
    assert web(world.outsider_responder).get(f"/handoffs/new/{case.pk}/").status_code == 404


# --- The case page and its deadlines -------------------------------------------------------------


def test_the_case_page_lists_its_handoffs_and_open_deadlines_with_their_buttons(world, case, web):
    handoff = send(world, case)
    lead_page = web(world.lead_responder).get(f"/cases/{case.pk}/").content.decode()
    assert {"send-handoff-link", "set-deadline", "case-handoffs", "case-deadlines"} <= _testids(lead_page)
    assert f"/handoffs/{handoff.pk}/" in lead_page
    # The response deadline of a handoff the lead sent is on its case page; it is closed by the answer only.
    deadline = Deadline.objects.get(subject=f"handoff:{handoff.pk}")
    assert f"deadline-{deadline.pk}" in _testids(lead_page) and f"deadline-done-{deadline.pk}" not in lead_page

    handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    health_page = web(world.receiving_responder).get(f"/cases/{case.pk}/").content.decode()
    assert "send-handoff-link" not in _testids(health_page) and "set-deadline" in _testids(health_page)


def test_a_responder_sets_a_follow_up_from_the_page_and_marks_it_done(world, case, web):
    client = web(world.lead_responder)
    url = f"/cases/{case.pk}/deadlines/new/"
    assert client.get(url).status_code == 200
    past = (timezone.localtime() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"kind": "follow_up", "due_at": past})
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    assert client.post(url, {"kind": "follow_up", "due_at": "tomorrow"}).status_code == 400
    due = (timezone.localtime() + datetime.timedelta(days=2)).replace(second=0, microsecond=0)
    response = client.post(url, {"kind": "follow_up", "due_at": due.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    deadline = Deadline.objects.get(kind="follow_up")
    assert (deadline.due_at, deadline.owner_user, deadline.owner_agency) == (due, world.lead_responder, world.police)

    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"deadline-done-{deadline.pk}" in _testids(page)
    response = client.post(f"/cases/{case.pk}/deadlines/{deadline.pk}/done/")
    assert response.status_code == 302
    deadline.refresh_from_db()
    assert deadline.stage == "closed"
    assert f"deadline-{deadline.pk}" not in _testids(client.get(f"/cases/{case.pk}/").content.decode())
    again = client.post(f"/cases/{case.pk}/deadlines/{deadline.pk}/done/")
    assert again.status_code == 302 and _messages(again)


def test_the_responder_home_shows_what_waits_for_an_answer_most_pressing_first(world, case, web):
    later = send(world, case)
    sooner = send(world, case, to_agency=world.school, categories=["education"])
    membership_add(user=world.receiving_responder, agency=world.school, role="responder")
    Handoff.objects.filter(pk=sooner.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    page = web(world.receiving_responder).get("/work/").content.decode()
    links = re.findall(r'data-testid="handoff-link-(\d+)"', page)
    assert links == [str(sooner.pk), str(later.pk)] and 'data-testid="overdue"' in page
    assert {"all-incoming", "all-outgoing"} <= _testids(page)
    with acting_for(world.health.pk):
        handoff_accept(user=world.receiving_responder, handoff_id=later.pk)
    page = web(world.receiving_responder).get("/work/").content.decode()
    assert re.findall(r'data-testid="handoff-link-(\d+)"', page) == [str(sooner.pk)]
    assert "no-handoffs" in _testids(web(world.lead_responder).get("/work/").content.decode())


# --- Query budgets -------------------------------------------------------------------------------

# Data statements of a session's later request (tests.support.chain_cost; BEGIN and COMMIT apart). A
# list of one status: the session with its person (one statement since issue 15's frame work), the user's
# agencies, the count, the page of cards (their case and agencies
# joined) and the base page's unread notifications, however many handoffs (issue 15: 7 statements
# before, the agencies read twice). A list of every status, on PostgreSQL, reads the agencies, the
# count and the page of a person of one agency in one statement (issue 15: 6 before).
# On PostgreSQL a page's GET reads the header's unread count with the session (one statement less).
LIST_PAGE_BUDGET = {"postgresql": 4, "sqlite": 5}
UNFILTERED_LIST_PAGE_BUDGET = {"postgresql": 2, "sqlite": 5}
# A handoff's page for its sender: the session with its person, the handoff (joined) with the user's
# agencies, its audit event and the timeline (the unread notifications come with the session); on SQLite the
# user's agencies are a statement of their own and the event is chained in the request (the chain's head and
# the event's UPDATE). Its waiting receiver also reads the triage (consents, the case with its survivor, the
# incidents and their forms). Only the receiver's first look is a transaction (its UPDATE with the audit
# event) on PostgreSQL: any later read's event is an INSERT committed on its own (issue 15: 7 statements and
# a transaction before), then sent with the timeline's SELECT (audit.carried: 4 -> 3).
DETAIL_PAGE_BUDGET = {"postgresql": 3, "sqlite": 8}
READ_TRANSACTIONS = {"postgresql": 0, "sqlite": 1}
FIRST_LOOK_STATEMENTS = {"postgresql": 2, "sqlite": 1}
TRIAGE_STATEMENTS = 4


@pytest.mark.django_db(transaction=True)
def test_the_lists_cost_the_same_for_2_and_25_handoffs(world, web, settings):
    # Sending 25 handoffs may take over a minute on a loaded machine: no session renewal (one UPDATE
    # more) may fall between the two measures.
    settings.SESSION_RENEW_SECONDS = 1200
    receiver, sender = web(world.receiving_responder), web(world.lead_supervisor)
    unfiltered, filtered = UNFILTERED_LIST_PAGE_BUDGET[connection.vendor], LIST_PAGE_BUDGET[connection.vendor]
    urls = ((receiver, "/handoffs/incoming/", unfiltered), (receiver, "/handoffs/incoming/?status=sent",
                                                            filtered),
            (sender, "/handoffs/outgoing/", unfiltered),
            (sender, "/handoffs/outgoing/?status=sent&page=2", filtered))

    def measure() -> list[int]:
        return [get_within_budget(client, url, budget, 0)[0] for client, url, budget in urls]

    # The budgets are a session's later requests: its first reads the person apart (accounts.session_store).
    receiver.get("/cases/"), sender.get("/cases/")

    for _ in range(2):
        send(world, consented_case(world))
    small = measure()
    for _ in range(23):
        send(world, consented_case(world))
    assert measure() == small == [budget for _client, _url, budget in urls], connection.vendor


@pytest.mark.django_db(transaction=True)
def test_the_handoff_page_keeps_its_budget_however_long_its_story(world, web):
    budget, transactions = DETAIL_PAGE_BUDGET[connection.vendor], READ_TRANSACTIONS[connection.vendor]
    case = consented_case(world)
    handoff = send(world, case)
    sender, receiver = web(world.lead_responder), web(world.receiving_responder)
    url = f"/handoffs/{handoff.pk}/"
    # The budgets are a session's later requests: its first reads the person apart (accounts.session_store).
    sender.get("/cases/"), receiver.get("/cases/")
    # The receiver's first look is also recorded, in a transaction with its audit event: the UPDATE, and on
    # PostgreSQL the event's own INSERT (a later read's goes with the timeline's SELECT, audit.carried).
    get_within_budget(receiver, url, budget + TRIAGE_STATEMENTS + FIRST_LOOK_STATEMENTS[connection.vendor], 1)
    assert (get_within_budget(receiver, url, budget + TRIAGE_STATEMENTS, transactions)[0]
            == budget + TRIAGE_STATEMENTS)
    before = get_within_budget(sender, url, budget, transactions)[0]
    handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason="Hết giường")
    second = send(world, case, forwarded_from=handoff.pk)
    handoff_accept(user=world.receiving_responder, handoff_id=second.pk)
    assert get_within_budget(sender, url, budget, transactions)[0] == before == budget
    assert get_within_budget(receiver, url, budget, 1)[0] == budget


@pytest.mark.parametrize("status", ["", "status=sent&"])
def test_the_lists_pager_counts_up_to_a_bound_and_says_more_than(world, web, monkeypatch, status):
    """The handoff lists count up to config.pages.count_bound: past it the pager says "more than" the pages
    it knows and links the page after; the last page is counted exactly; the cards are the whole list's."""
    monkeypatch.setattr("config.pages.COUNT_BOUND", 0)
    monkeypatch.setattr("handoffs.views.PER_PAGE", 1)
    sent = [send(world, consented_case(world), message=f"Lần {number}") for number in range(3)]
    client = web(world.receiving_responder)

    def page(number: int) -> tuple[list[str], str]:
        html = client.get(f"/handoffs/incoming/?{status}page={number}").content.decode()
        return (re.findall(r'data-testid="handoff-link-(\d+)"', html),
                re.findall(r'<nav class="pager".*?</nav>', html, re.S)[0])

    pages = [page(number) for number in (1, 2, 3)]
    assert [links for links, _pager in pages] == [[str(handoff.pk)] for handoff in reversed(sent)]
    # Bound: the page's cards and one more.
    assert "Trang 1/hơn 1" in pages[0][1] and "page=2" in pages[0][1]
    assert "Trang 2/hơn 2" in pages[1][1] and "page=3" in pages[1][1]
    assert "Trang 3/3" in pages[2][1] and 'rel="next"' not in pages[2][1]
