"""The demo cases' referrals (cases.demo tells each case's story; this sends its referral and answers
it). Registered by HandoffsConfig.ready() with cases.demo.demo_referral_sender_register."""

import datetime

from agencies.demo import DemoWorld
from agencies.models import Sector
from cases.demo import DECLINE_REASON, OVERRIDE_REASON, REFERRAL_MESSAGE, DemoReferral, backdate
from cases.models import Case, CaseEventType

from .models import Handoff
from .selectors import consented_categories
from .services import handoff_accept, handoff_decline, handoff_send


def seed_demo_referral(world: DemoWorld, *, case: Case, access, responder, partner, categories, risk, rng,
                       sent_at: datetime.datetime, now: datetime.datetime) -> DemoReferral:
    """A referral to the partner agency under the consent just recorded. Most are accepted; some are
    declined; a recent few are left waiting, so that deadlines, reminders and escalations have
    something to show."""
    urgency = {"severe": "emergency", "high": "urgent"}.get(risk, "standard")
    shareable, _refused = consented_categories(case=case, agency=partner)
    override = not shareable
    data = {"kind": "referral", "to_agency": partner, "urgency": urgency,
            "services": ["medical_care"] if partner.sector == Sector.HEALTH else ["counselling", "social_support"],
            "categories": [c for c in categories if c in shareable or override], "message": REFERRAL_MESSAGE}
    if override:
        data.update(emergency_override=True, override_reason=OVERRIDE_REASON)
    handoff = handoff_send(access=access, actor=responder, data=data)
    partner_key = next(k for (k, sector), agency in world.agencies.items() if agency == partner)
    partner_user = world.users[f"{partner_key}.{partner.sector}.responder"]
    recent = now - sent_at < datetime.timedelta(days=4)
    roll = rng.random()
    if recent and roll < 0.35:
        return DemoReferral(responded_at=None, accepted=False)  # still waiting: its deadline runs from now
    if roll < 0.85 or recent:
        handoff_accept(user=partner_user, handoff_id=handoff.pk)
        event = CaseEventType.HANDOFF_ACCEPTED
    else:
        handoff_decline(user=partner_user, handoff_id=handoff.pk, reason=DECLINE_REASON)
        event = CaseEventType.HANDOFF_DECLINED
    answered_at = min(now, sent_at + datetime.timedelta(minutes=rng.randint(20, 60 * 30)))
    due_at = sent_at + (handoff.due_at - handoff.sent_at)
    Handoff.objects.filter(pk=handoff.pk).update(sent_at=sent_at, due_at=due_at, viewed_at=answered_at,
                                                 responded_at=answered_at)
    backdate(case=case, at=sent_at, event_type=CaseEventType.HANDOFF_SENT)
    backdate(case=case, at=answered_at, event_type=event)
    return DemoReferral(responded_at=answered_at, accepted=event == CaseEventType.HANDOFF_ACCEPTED)
