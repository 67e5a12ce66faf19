"""Issue 16, parts 2 and 3: consent recorded inside the send form (several recipients at once, what
was typed kept), the triage facts a receiver sees before accepting (never more than accepting would
show), notifications that say urgency and due time and clear themselves once the handoff is
answered, and the waiting handoffs first on the responder's home, by due time."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from cases.models import Case, Consent, Survivor
from cases.selectors import case_get_for_user
from cases.serializers import ConsentManyInputSerializer
from cases.services import consent_record_many, consent_withdraw
from handoffs.models import Handoff
from handoffs.services import handoff_accept, handoff_decline, handoff_withdraw
from notifications.models import Notification
from tests.cases.conftest import case_build
from tests.cases.services_helpers import consent_record_through_edge, handoff_send_through_edge, through_edge
from tests.support.pages import TOKEN

pytestmark = pytest.mark.usefixtures("time_limits")

MESSAGE = "Nạn nhân cần khám gấp, liên hệ qua cán bộ phụ trách."


def _lead(world, case):
    return case_get_for_user(user=world.lead_responder, case_id=case.pk, require="manage_sharing")


def _consent_for(world, case, agency, categories=("medical",), **extra):
    return consent_record_through_edge(access=_lead(world, case), actor=world.lead_responder, data={
        "receiving_agency": agency.pk, "granted_categories": list(categories), "purpose": "Khám và điều trị",
        "given_by": "survivor", **extra})


def _send(world, case, **overrides):
    data = {"kind": "referral", "to_agency": world.health, "services": ["medical_care"], "urgency": "urgent",
            "categories": ["medical"], "message": MESSAGE}
    data.update(overrides)
    return handoff_send_through_edge(access=_lead(world, case), actor=world.lead_responder, data=data)


def _testids(html: str) -> set[str]:
    return set(re.findall(r'data-testid="([^"]+)"', html))


def _typed(world, **overrides) -> dict:
    """The handoff part of the send form as a responder fills it in before finding consent missing."""
    data = {"to_agency": str(world.health.pk), "kind": "referral", "services": ["medical_care", "counselling"],
            "urgency": "emergency", "message": MESSAGE}
    data.update(overrides)
    return data


def _consent_part(world, **overrides) -> dict:
    data = {"step": "consent", "consent-recipients": [f"agency:{world.health.pk}", "sector:social_work"],
            "consent-granted_categories": ["medical", "psychosocial"], "consent-refused_categories": ["identity"],
            "consent-purpose": "Khám, điều trị và tư vấn tâm lý", "consent-given_by": "survivor"}
    data.update(overrides)
    return data


# --- Part 2: consent inside the referral ---------------------------------------------------------


def test_the_send_form_says_what_consent_allows_for_each_agency(world, web):
    case = case_build(world)
    _consent_for(world, case, world.school, categories=("education",))
    page = web(world.lead_responder).get(f"/handoffs/new/{case.pk}/").content.decode()
    school = re.search(rf'<option value="{world.school.pk}"[^>]*>([^<]+)<', page).group(1)
    health = re.search(rf'<option value="{world.health.pk}"[^>]*>([^<]+)<', page).group(1)
    assert "Giáo dục" in school or "Education" in school
    assert "chưa có" in health or "no consent" in health

    step_two = web(world.lead_responder).get(f"/handoffs/new/{case.pk}/?to_agency={world.health.pk}")
    html = step_two.content.decode()
    assert {"consent-allows", "consent-missing", "consent-inline", "record-consent-inline",
            "override"} <= _testids(html)
    # With no consent at all the recording part is open at once.
    assert re.search(r'<details class="consent-inline" open', html)


def test_the_send_form_sent_twice_records_consent_once_then_sends_one_handoff(world, web):
    """A double tap on each of the form's buttons: the consent recorded inside it once, the handoff sent
    once; the consent spends the form's token, so the handoff goes with the new one the form comes back with."""
    case = case_build(world)
    client = web(world.lead_responder)
    url = f"/handoffs/new/{case.pk}/"
    token = TOKEN.search(client.get(f"{url}?to_agency={world.health.pk}").content.decode()).group(1)
    consent = {**_typed(world), **_consent_part(world), "sending_token": token}
    before = Consent.objects.count()
    first, again = client.post(url, consent), client.post(url, consent, HTTP_ACCEPT_LANGUAGE="en")
    assert first.status_code == again.status_code == 200 and Consent.objects.count() == before + 2
    assert "already been recorded" in again.content.decode()
    token_after = TOKEN.search(again.content.decode()).group(1)
    assert token_after != token and TOKEN.search(first.content.decode()).group(1) != token
    handoff = {**_typed(world), "categories": ["medical"], "sending_token": token_after}
    first, again = client.post(url, handoff), client.post(url, handoff)
    sent = Handoff.objects.get(case=case)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"] == (
        f"/handoffs/{sent.pk}/")


def test_consent_is_recorded_in_the_send_form_for_several_recipients_and_what_was_typed_is_kept(world, web):
    case = case_build(world)
    client = web(world.lead_responder)
    response = client.post(f"/handoffs/new/{case.pk}/", {**_typed(world), **_consent_part(world)})
    assert response.status_code == 200
    html = response.content.decode()
    consents = list(Consent.objects.filter(case=case).order_by("pk"))
    assert [(c.receiving_agency_id, c.receiving_sector) for c in consents] == [
        (world.health.pk, ""), (None, "social_work")]
    assert all(c.granted_categories == ["medical", "psychosocial"] and c.refused_categories == ["identity"]
               and c.recorded_by == world.lead_responder for c in consents)
    assert not Handoff.objects.filter(case=case).exists(), "recording consent does not send the handoff"
    # What was typed is there again, and the newly allowed categories are offered ticked.
    assert MESSAGE in html
    assert re.search(r'name="urgency" value="emergency"[^>]*checked', html)
    assert re.search(r'name="services" value="counselling"[^>]*checked', html)
    assert re.search(r'name="categories" value="medical"[^>]*checked', html)
    assert 'name="categories" value="identity"' not in html
    assert "consent-inline" not in _testids(html) or "consent-missing" in _testids(html)

    sent = client.post(f"/handoffs/new/{case.pk}/", {**_typed(world), "categories": ["medical", "psychosocial"]})
    assert sent.status_code == 302
    handoff = Handoff.objects.get(case=case)
    assert handoff.categories == ["medical", "psychosocial"] and handoff.urgency == "emergency"
    assert not handoff.emergency_override


def test_a_consent_with_errors_is_not_recorded_and_the_typed_handoff_is_kept(world, web):
    case = case_build(world)
    response = web(world.lead_responder).post(f"/handoffs/new/{case.pk}/", {
        **_typed(world), **_consent_part(world, **{"consent-purpose": "", "consent-recipients": []})})
    assert response.status_code == 400
    html = response.content.decode()
    assert MESSAGE in html and "errorlist" in html
    assert re.search(r'<details class="consent-inline" open', html)
    assert not Consent.objects.filter(case=case).exists() and not Handoff.objects.filter(case=case).exists()


def test_recording_for_several_recipients_is_all_or_nothing(world):
    case = case_build(world)
    lead = _lead(world, case)
    consent_record_through_edge(access=lead, actor=world.lead_responder, data={
        "receiving_sector": "social_work", "refused_categories": ["medical"], "purpose": "Từ chối",
        "given_by": "survivor"})
    before = Consent.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        consent_record_many(access=lead, actor=world.lead_responder, **through_edge(ConsentManyInputSerializer, {
            "recipients": [{"receiving_agency": world.health.pk}, {"receiving_sector": "social_work"}],
            "granted_categories": ["medical"], "purpose": "Khám", "given_by": "survivor"}))
    assert "granted_categories" in excinfo.value.message_dict
    assert Consent.objects.count() == before


@pytest.mark.parametrize("recipients", [[], "health", [{"receiving_agency": 999999}], [{"agency": 1}],
                                        [{"receiving_sector": "army"}]])
def test_recording_for_several_recipients_refuses_bad_recipients(world, recipients):
    case = case_build(world)
    with pytest.raises(ValidationError) as excinfo:
        consent_record_many(access=_lead(world, case), actor=world.lead_responder, **through_edge(
            ConsentManyInputSerializer, {"recipients": recipients, "granted_categories": ["medical"], "purpose": "Khám",
                                         "given_by": "survivor"}))
    assert "recipients" in excinfo.value.message_dict
    assert not Consent.objects.filter(case=case).exists()


def test_the_override_is_offered_in_the_same_place_and_sends_with_its_reason(world, web):
    case = case_build(world)
    response = web(world.lead_responder).post(f"/handoffs/new/{case.pk}/", {
        **_typed(world), "emergency_override": "on", "override_categories": ["medical"],
        "override_reason": "Nạn nhân bất tỉnh, cần cấp cứu ngay."})
    assert response.status_code == 302
    handoff = Handoff.objects.get(case=case)
    assert handoff.emergency_override and handoff.categories == ["medical"]


@pytest.mark.parametrize("who", ["receiving_responder", "outsider_responder", "analyst", "lead_admin", None])
def test_the_wrong_person_cannot_record_consent_through_the_send_form(world, web, who):
    case = case_build(world)
    _consent_for(world, case, world.health)
    handoff_accept(user=world.receiving_responder, handoff_id=_send(world, case).pk)
    before = Consent.objects.count()
    user = getattr(world, who) if who else None
    response = web(user).post(f"/handoffs/new/{case.pk}/", {**_typed(world, to_agency=str(world.school.pk)),
                                                              **_consent_part(world)})
    if who is None:
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code in (403, 404)
    assert Consent.objects.count() == before


# --- Part 3: triage ------------------------------------------------------------------------------


def test_the_receiver_sees_the_triage_facts_before_accepting(world, web):
    case = case_build(world, risk_level="severe")
    _consent_for(world, case, world.health)
    handoff = _send(world, case, urgency="emergency")
    response = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/")
    html = response.content.decode()
    assert {"triage", "triage-urgency", "triage-due", "triage-risk", "triage-incident", "triage-child",
            "handoff-message"} <= _testids(html)
    assert "triage-withheld" not in _testids(html)
    risk = re.search(r'data-testid="triage-risk">([^<]+)<', html).group(1)
    assert risk == str(Case.objects.get(pk=case.pk).get_risk_level_display())
    incident = re.search(r'data-testid="triage-incident">([^<]+)<', html).group(1)
    assert incident.strip()
    assert MESSAGE in html
    assert timezone.localtime(handoff.due_at).strftime("%H:%M %d/%m/%Y") in html
    # The identity refused and the data not yet shared stay out of it.
    assert "Nguyễn Thị Hoa" not in html and "0987 654 321" not in html


def test_a_child_is_flagged_in_the_triage(world, web):
    case = case_build(world)
    Survivor.objects.filter(pk=case.survivor_id).update(birth_year=timezone.localdate().year - 10)
    _consent_for(world, case, world.health, given_by="survivor_and_guardian", guardian_relationship="Mẹ")
    handoff = _send(world, case)
    html = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    assert 'class="tag child"' in re.search(r'data-testid="triage-child">(.*?)</dd>', html, re.S).group(1)


def test_the_triage_shows_no_more_than_accepting_would(world, web):
    """Once the consent that the handoff relied on is withdrawn, accepting would open nothing: the
    receiver then sees the handoff (urgency, due time, message) but not the case's facts."""
    case = case_build(world, risk_level="severe")
    consent = _consent_for(world, case, world.health)
    handoff = _send(world, case)
    consent_withdraw(access=_lead(world, case), actor=world.lead_responder, consent_id=consent.pk, reason="")
    html = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    assert {"triage", "triage-urgency", "triage-due", "triage-withheld"} <= _testids(html)
    assert not {"triage-risk", "triage-incident", "triage-child"} & _testids(html)
    severe = str(Case.objects.get(pk=case.pk).get_risk_level_display())
    assert severe not in html


def test_a_referral_asking_for_no_category_shows_no_case_facts(world, web):
    """A referral without categories opens nothing to the receiver under the policy, so it
    previews nothing either."""
    case = case_build(world, risk_level="severe")
    _consent_for(world, case, world.health)
    handoff = _send(world, case, categories=[])
    html = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    assert "triage-withheld" in _testids(html) and "triage-risk" not in _testids(html)


def test_an_override_shows_the_triage_facts(world, web):
    case = case_build(world)
    handoff = _send(world, case, emergency_override=True, override_reason="Nguy hiểm tính mạng.")
    html = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    assert "triage-risk" in _testids(html)


@pytest.mark.parametrize("who", ["outsider_responder", "analyst", "lead_admin", "sysadmin", None])
def test_the_wrong_person_sees_no_triage(world, web, who):
    case = case_build(world, risk_level="severe")
    _consent_for(world, case, world.health)
    handoff = _send(world, case)
    user = getattr(world, who) if who else None
    response = web(user).get(f"/handoffs/{handoff.pk}/")
    if who is None:
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code in (403, 404)
        assert MESSAGE not in response.content.decode()


def test_the_sender_sees_no_triage_block(world, web):
    case = case_build(world)
    _consent_for(world, case, world.health)
    handoff = _send(world, case)
    assert "triage" not in _testids(web(world.lead_responder).get(f"/handoffs/{handoff.pk}/").content.decode())


def test_the_handoff_page_with_triage_keeps_its_query_budget(world, web, django_assert_max_num_queries):
    case = case_build(world)
    _consent_for(world, case, world.health)
    handoff = _send(world, case)
    client = web(world.receiving_responder)
    client.get(f"/handoffs/{handoff.pk}/")
    # Session, user, the user's agencies, the handoff, the audit event (in a savepoint; on SQLite
    # chained at once: two statements more), the timeline, the triage's four reads, the notifications.
    with django_assert_max_num_queries({"postgresql": 13, "sqlite": 15}[connection.vendor]):
        assert client.get(f"/handoffs/{handoff.pk}/").status_code == 200


# --- Part 3: notifications -----------------------------------------------------------------------


def test_the_notification_of_a_handoff_says_urgency_and_due_time(world, web):
    case = case_build(world)
    _consent_for(world, case, world.health)
    handoff = _send(world, case, urgency="emergency")
    notification = Notification.objects.get(recipient=world.receiving_responder, event_key=f"handoff:{handoff.pk}:sent")
    assert notification.params["urgency"] == "emergency"
    assert datetime.datetime.fromisoformat(notification.params["due_at"]) == handoff.due_at
    html = web(world.receiving_responder).get("/notifications/").content.decode()
    assert {"notification-urgency", "notification-due"} <= _testids(html)
    assert timezone.localtime(handoff.due_at).strftime("%H:%M %d/%m/%Y") in html


@pytest.mark.parametrize("answer", ["accept", "decline", "withdraw"])
def test_answering_a_handoff_clears_its_notifications_for_everyone(world, web, answer):
    case = case_build(world)
    _consent_for(world, case, world.health)
    handoff = _send(world, case)
    other = _send(world, case, to_agency=world.school, categories=[], emergency_override=True,
                  override_reason="Nguy hiểm.")
    waiting = Notification.objects.filter(event_key=f"handoff:{handoff.pk}:sent")
    assert waiting.count() == 2 and not waiting.filter(read_at__isnull=False).exists()
    if answer == "accept":
        handoff_accept(user=world.receiving_supervisor, handoff_id=handoff.pk)
    elif answer == "decline":
        handoff_decline(user=world.receiving_supervisor, handoff_id=handoff.pk, reason="Không đủ năng lực.")
    else:
        handoff_withdraw(user=world.lead_responder, handoff_id=handoff.pk, reason="Gửi nhầm.")
    assert not waiting.filter(read_at__isnull=True).exists(), "the receiving responder is not left with a new one"
    # Another handoff's notifications and the sender's news stay as they were.
    assert not Notification.objects.filter(event_key=f"handoff:{other.pk}:sent", read_at__isnull=False).exists()
    stage = {"accept": "accepted", "decline": "declined"}.get(answer)
    if stage:
        assert Notification.objects.filter(event_key=f"handoff:{handoff.pk}:{stage}", read_at__isnull=True).exists()
    page = web(world.receiving_responder).get("/notifications/").content.decode()
    assert 'data-testid="unread-count"' not in page or answer == "withdraw"


# --- Part 3: the responder's home ----------------------------------------------------------------


def test_waiting_handoffs_come_first_on_the_home_sorted_by_due_time(world, web):
    first_case, second_case = case_build(world), case_build(world)
    for case in (first_case, second_case):
        _consent_for(world, case, world.health)
    later = _send(world, first_case, urgency="standard")
    sooner = _send(world, second_case, urgency="emergency")
    assert sooner.due_at < later.due_at
    html = web(world.receiving_responder).get("/work/").content.decode()
    assert html.index('data-testid="home-waiting"') < html.index('id="my-cases"')
    assert html.index(f'handoff-link-{sooner.pk}"') < html.index(f'handoff-link-{later.pk}"')
    Handoff.objects.filter(pk=later.pk).update(due_at=sooner.due_at - datetime.timedelta(minutes=1))
    html = web(world.receiving_responder).get("/work/").content.decode()
    assert html.index(f'handoff-link-{later.pk}"') < html.index(f'handoff-link-{sooner.pk}"')


def test_the_send_form_keeps_its_query_budget_whatever_the_number_of_agencies(world, web,
                                                                              django_assert_max_num_queries):
    from agencies.services import agency_create

    case = case_build(world)
    _consent_for(world, case, world.health)
    client = web(world.lead_responder)
    for path in (f"/handoffs/new/{case.pk}/", f"/handoffs/new/{case.pk}/?to_agency={world.health.pk}"):
        client.get(path)
        with django_assert_max_num_queries(25):
            assert client.get(path).status_code == 200
    for i in range(15):
        agency_create(name=f"Trung tâm Công tác xã hội số {i}", sector="social_work", province=world.hanoi)
    with django_assert_max_num_queries(25):
        assert client.get(f"/handoffs/new/{case.pk}/").status_code == 200
