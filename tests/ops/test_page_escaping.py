"""What people type reaches every page escaped: the pages' templates (Jinja2, config/jinja2.py) escape
a value unless it is marked safe, as the Django template language did. A survivor's name and address, a
note, a handoff's message and a decline reason with markup in them show as text on the case page, the
handoff lists and a handoff's page."""

import pytest

from cases.selectors import case_get_for_user
from cases.services import action_log
from handoffs.services import handoff_decline
from tests.cases.conftest import SURVIVOR, incident_payload, medical_consent
from tests.cases.services_helpers import case_open_through_edge, consent_record_through_edge, handoff_send_through_edge

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert("


@pytest.mark.django_db
def test_typed_markup_is_text_on_every_page_that_shows_it(world, web):
    case = case_open_through_edge(
        actor=world.lead_responder, agency=world.police, consent=None, risk_level="medium",
        survivor={**SURVIVOR, "full_name": MARKUP, "address": MARKUP}, incident=incident_payload(province="01"))
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk, require="manage_sharing")
    consent_record_through_edge(access=lead, actor=world.lead_responder, data=medical_consent(world))
    action_log(access=lead, actor=world.lead_responder, data={"type": "contact", "text": MARKUP})
    handoff = handoff_send_through_edge(access=lead, actor=world.lead_responder, data={
        "kind": "referral", "to_agency": world.health, "services": ["medical_care"], "urgency": "urgent",
        "categories": ["medical"], "message": MARKUP})
    handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason=MARKUP)
    # (reader, page, whether it shows one of the typed texts)
    pages = [(world.lead_responder, f"/cases/{case.pk}/", True),
             (world.lead_responder, f"/handoffs/{handoff.pk}/", True),
             (world.receiving_responder, f"/handoffs/{handoff.pk}/", True),
             (world.lead_responder, "/handoffs/outgoing/", False),
             (world.receiving_responder, "/handoffs/incoming/", False)]
    for user, path, shows_text in pages:
        response = web(user).get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert (ESCAPED in html) is shows_text, path
