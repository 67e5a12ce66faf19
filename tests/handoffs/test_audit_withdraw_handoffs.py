"""Audit (a referral withdrawn, a category refused): what the receiving agency still reads on a handoff that
no longer lets it see the case.

The sender's message follows the rule of permissions/README §3 (HandoffAccess.sees_message): the receiver reads
it only while the handoff lets it see the case. The emergency override's written reason is the same kind of
text (the sender's words about the danger the survivor is in) but was shown to the receiver whatever happened:
after the referral was withdrawn, and while a refusal recorded since meant accepting would open nothing (the
finding W6; its tests failed on the code they were written against). It now follows the message's rule on the
handoff's page and API and on the receiving agency's supervision page.

Synthetic data only.
"""

import pytest

from cases.selectors import case_get_for_user
from handoffs.services import handoff_accept, handoff_view, handoff_withdraw
from tests.cases.conftest import case_build
from tests.cases.services_helpers import consent_record_through_edge, handoff_send_through_edge

pytestmark = pytest.mark.usefixtures("time_limits")

MESSAGE = "MESSAGE-TEXT: chị ấy đang ở nhà mẹ đẻ."
OVERRIDE = "OVERRIDE-REASON: chồng chị Hoa dọa giết, đang giữ chị ở 25 ngõ Văn Chương."


def _lead(world, case):
    return case_get_for_user(user=world.lead_responder, case_id=case.pk, require="manage_sharing")


def _override_referral(world, case):
    return handoff_send_through_edge(access=_lead(world, case), actor=world.lead_responder, data={
        "kind": "referral", "to_agency": world.health, "services": ["medical_care"], "urgency": "emergency",
        "categories": ["medical"], "message": MESSAGE, "emergency_override": True, "override_reason": OVERRIDE})


def _detail(api, user, handoff) -> dict:
    response = api(user).get(f"/api/handoffs/{handoff.pk}/")
    assert response.status_code == 200, response.content
    return response.json()


def test_override_reason_is_not_shown_to_the_receiver_once_the_referral_is_withdrawn(world, api):
    """W6: the override referral is accepted, then withdrawn by the police: the hospital no longer sees the
    case and no longer reads the message, but still reads the override's reason."""
    case = case_build(world)
    handoff = _override_referral(world, case)
    handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    handoff_withdraw(user=world.lead_responder, handoff_id=handoff.pk, reason="Đã chuyển nơi khác.")
    body = _detail(api, world.receiving_responder, handoff)
    assert body["message"] == ""  # sound: the message goes with the case
    assert OVERRIDE not in body["override_reason"], "the receiver still reads the override's reason"


def test_override_reason_is_not_on_the_handoff_page_after_the_withdrawal(world, web):
    """W6 (page)."""
    case = case_build(world)
    handoff = _override_referral(world, case)
    handoff_view(user=world.receiving_responder, handoff_id=handoff.pk)
    handoff_withdraw(user=world.lead_responder, handoff_id=handoff.pk, reason="Gửi nhầm.")
    html = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    assert "MESSAGE-TEXT" not in html
    assert "OVERRIDE-REASON" not in html


def test_override_reason_is_withheld_while_a_refusal_means_accepting_opens_nothing(world, api):
    """W6 (category refused): the survivor refuses medical data to the hospital after the override was sent;
    accepting would open nothing now, so the message is withheld (sound), but not the override's reason."""
    case = case_build(world)
    handoff = _override_referral(world, case)
    consent_record_through_edge(access=_lead(world, case), actor=world.lead_responder, data={
        "receiving_agency": world.health.pk, "granted_categories": [], "refused_categories": ["medical"],
        "purpose": "Không đồng ý chia sẻ y tế", "given_by": "survivor"})
    body = _detail(api, world.receiving_responder, handoff)
    assert body["message"] == ""
    assert OVERRIDE not in body["override_reason"]


def _supervision_page(web, user, handoff) -> str:
    response = web(user).get(f"/supervision/handoffs/{handoff.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_override_reason_is_not_on_the_receiving_supervisors_page_after_the_withdrawal(world, web):
    """W6 (supervision): the hospital's supervisor reads the handoff on the supervision page for the hospital;
    after the withdrawal the reason is no longer there (that it was an override still is)."""
    case = case_build(world)
    handoff = _override_referral(world, case)
    handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    assert "OVERRIDE-REASON" in _supervision_page(web, world.receiving_supervisor, handoff)
    handoff_withdraw(user=world.lead_responder, handoff_id=handoff.pk, reason="Đã chuyển nơi khác.")
    page = _supervision_page(web, world.receiving_supervisor, handoff)
    assert "OVERRIDE-REASON" not in page and 'data-testid="override-reason"' in page


def test_the_sender_and_a_receiver_that_sees_the_case_read_the_override_reason(world, api, web):
    """W6, the rule's other side (HandoffAccess.sees_message): the receiver reads the reason while waiting (accepting
    would open the case) and once accepted; the sender, on its pages and the API, also after the withdrawal."""
    case = case_build(world)
    handoff = _override_referral(world, case)
    assert _detail(api, world.receiving_responder, handoff)["override_reason"] == OVERRIDE
    handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    assert _detail(api, world.receiving_responder, handoff)["override_reason"] == OVERRIDE
    assert "OVERRIDE-REASON" in web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    handoff_withdraw(user=world.lead_responder, handoff_id=handoff.pk, reason="Đã chuyển nơi khác.")
    assert _detail(api, world.lead_responder, handoff)["override_reason"] == OVERRIDE
    assert "OVERRIDE-REASON" in web(world.lead_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    assert "OVERRIDE-REASON" in _supervision_page(web, world.lead_supervisor, handoff)


def test_override_reason_is_not_on_the_handoff_page_while_a_refusal_means_accepting_opens_nothing(world, web):
    """W6 (category refused, page): the waiting handoff's page shows that it is an override, not why."""
    case = case_build(world)
    handoff = _override_referral(world, case)
    consent_record_through_edge(access=_lead(world, case), actor=world.lead_responder, data={
        "receiving_agency": world.health.pk, "granted_categories": [], "refused_categories": ["medical"],
        "purpose": "Không đồng ý chia sẻ y tế", "given_by": "survivor"})
    html = web(world.receiving_responder).get(f"/handoffs/{handoff.pk}/").content.decode()
    assert "OVERRIDE-REASON" not in html and "MESSAGE-TEXT" not in html
    assert 'data-testid="override-reason"' in html
