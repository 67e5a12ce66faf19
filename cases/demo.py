"""Synthetic demo cases for the demo world: about 120 cases over the last 13 months in Hà Nội, Huế
and Hồ Chí Minh, with incidents of every GBVIMS type, technology-facilitated forms, children and
adults, actions in several categories and consents (some withdrawn, some emergency overrides).

Everything goes through the case services, so audit events, timeline lines and permission rows
are what real use would produce. The services stamp "now"; afterwards the timeline, action and
consent times are moved back to the dates the story needs (the audit trail keeps the true time of
seeding: it is append-only). Faker vi_VN and random generators with fixed seeds: the same run
date gives the same cases; no real person is described.
"""

import datetime
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from faker import Faker

from agencies.demo import BUILT_IN_STEPS, DemoWorld, seed_demo_world
from agencies.models import Sector
from config.api import input_validate
from notifications.models import Deadline

from . import events as timeline_events
from .classification import GBVIMS_QUESTIONS
from .events import DeadlineClosure
from .models import (
    Action,
    Case,
    CaseEvent,
    CaseEventType,
    CaseStatus,
    Consent,
    GbvType,
    PerpetratorRelationship,
    TechForm,
)
from .selectors import case_get_for_user
from .serializers import CaseOpenInputSerializer
from .services import action_log, case_change_status, case_open, consent_record, consent_withdraw

DEMO_CASE_COUNT = 120
DEMO_SEED = 2026
DEMO_MONTHS = 13
PROVINCE_WEIGHTS = {"hn": 5, "hue": 2, "hcm": 3}
LEAD_SECTOR_WEIGHTS = {Sector.POLICE: 9, Sector.SOCIAL_WORK: 5, Sector.HEALTH: 4, Sector.EDUCATION: 2}
TYPE_WEIGHTS = {
    GbvType.RAPE: 10, GbvType.SEXUAL_ASSAULT: 14, GbvType.PHYSICAL_ASSAULT: 30, GbvType.FORCED_MARRIAGE: 3,
    GbvType.DENIAL_OF_RESOURCES: 8, GbvType.PSYCHOLOGICAL_ABUSE: 30, GbvType.NON_GBV: 5,
}
RELATIONSHIP_WEIGHTS = {
    PerpetratorRelationship.INTIMATE_PARTNER: 30, PerpetratorRelationship.FORMER_PARTNER: 8,
    PerpetratorRelationship.FAMILY: 15, PerpetratorRelationship.CAREGIVER: 4, PerpetratorRelationship.TEACHER: 2,
    PerpetratorRelationship.ACQUAINTANCE: 12, PerpetratorRelationship.ONLINE_CONTACT: 12,
    PerpetratorRelationship.STRANGER: 8, PerpetratorRelationship.UNKNOWN: 9,
}
CHILD_TECH_FORMS = (TechForm.GROOMING, TechForm.CSEM, TechForm.SEXTORTION, TechForm.HARASSMENT,
                    TechForm.TRAFFICKING_LURE)
ADULT_TECH_FORMS = (TechForm.NCII, TechForm.SEXTORTION, TechForm.CYBERSTALKING, TechForm.DOXXING,
                    TechForm.HARASSMENT, TechForm.IMPERSONATION, TechForm.DEEPFAKE)
# What each sector typically does first, with the text a responder might write (synthetic).
SECTOR_ACTIONS = {
    Sector.POLICE: [("statement_taken", "Đã lấy lời khai tại trụ sở, có cán bộ nữ tham gia."),
                    ("protection_order", "Đề nghị Chủ tịch UBND xã ra quyết định cấm tiếp xúc."),
                    ("takedown_requested", "Đã gửi yêu cầu gỡ bỏ nội dung tới nền tảng, kèm đường dẫn và mã băm.")],
    Sector.HEALTH: [("medical_care", "Khám, xử trí vết thương phần mềm; hẹn tái khám sau 7 ngày."),
                    ("forensic_exam", "Khám giám định trong vòng 72 giờ, mẫu được niêm phong.")],
    Sector.SOCIAL_WORK: [("counselling", "Tư vấn tâm lý lần 1; người bị hại đồng ý gặp lại tuần sau."),
                         ("shelter_placement", "Tạm lánh tại nhà an toàn của trung tâm.")],
    Sector.EDUCATION: [("school_safety_plan", "Lập kế hoạch an toàn tại trường, giáo viên chủ nhiệm theo dõi."),
                       ("counselling", "Phòng tư vấn học đường gặp em sau giờ học.")],
}
COMMON_ACTIONS = [("contact", "Gọi điện hỏi thăm, tình hình ổn định."),
                  ("follow_up", "Theo dõi sau hai tuần: không có sự cố mới."),
                  ("referral", "Giới thiệu tới dịch vụ trợ giúp pháp lý miễn phí."),
                  ("note", "Họp liên ngành trao đổi về kế hoạch hỗ trợ.")]
REFERRAL_MESSAGE = "Đề nghị tiếp nhận và hỗ trợ theo dịch vụ đã chọn; liên hệ đầu mối của cơ quan gửi."
DECLINE_REASON = "Không đủ năng lực tiếp nhận trong tuần này; đề nghị chuyển cơ sở khác."
OVERRIDE_REASON = ("Người bị hại có nguy cơ bị đe dọa tính mạng, không liên lạc được để xin đồng ý; "
                   "chia sẻ thông tin y tế để cấp cứu.")


@dataclass(frozen=True)
class DemoReferral:
    """What a case's story goes on with once its referral is sent: when it was answered (None while it
    waits) and whether the partner agency accepted it."""

    responded_at: datetime.datetime | None
    accepted: bool


# The referral a case's story sends to the partner agency, from inside the story and from the same
# random stream (consent, referral, answer, actions in order): handoffs.demo.seed_demo_referral,
# registered by HandoffsConfig.ready(). cases imports no handoff code; without a sender, none is sent.
DEMO_REFERRAL_SENDERS: list[Callable[..., DemoReferral]] = []


def demo_referral_sender_register(sender: Callable[..., DemoReferral]) -> None:
    if sender not in DEMO_REFERRAL_SENDERS:
        DEMO_REFERRAL_SENDERS.append(sender)


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _answers(rng: random.Random, gbv_type: str) -> dict[str, bool]:
    """Answers up to the first yes, as the ordered questions are asked; sometimes a later yes too,
    which the classification must ignore."""
    answers = {}
    for question in GBVIMS_QUESTIONS:
        if question.gbv_type == gbv_type:
            answers[question.key] = True
            break
        answers[question.key] = False
    else:
        return answers
    later = [q.key for q in GBVIMS_QUESTIONS if q.key not in answers]
    if later and rng.random() < 0.3:
        answers[rng.choice(later)] = True
    return answers


def _phone(rng: random.Random) -> str:
    digits = "09" + "".join(str(rng.randrange(10)) for _ in range(8))
    return rng.choice([f"{digits[:4]} {digits[4:7]} {digits[7:]}", f"+84 {digits[1:4]} {digits[4:7]} {digits[7:]}",
                       digits])


def _survivor(rng: random.Random, fake: Faker, *, today: datetime.date) -> dict:
    roll = rng.random()
    age = rng.randint(4, 15) if roll < 0.33 else rng.randint(16, 17) if roll < 0.43 else rng.randint(18, 70)
    sex = "female" if rng.random() < (0.7 if age < 16 else 0.9) else "male"
    given = fake.first_name_female() if sex == "female" else fake.first_name_male()
    middle = "Thị" if sex == "female" else "Văn"
    data = {
        "full_name": f"{fake.last_name()} {middle} {given}",
        "phone": _phone(rng) if age >= 12 else "",
        "address": fake.street_address(),
        "sex": sex,
        "birth_year": today.year - age - 1,
        "disability": "yes" if rng.random() < 0.07 else "none",
        "ethnicity": "Kinh" if rng.random() < 0.85 else rng.choice(["Tày", "Thái", "Mường", "Khmer", "H'Mông"]),
    }
    if age < 16:
        data["guardian_name"] = f"{fake.last_name()} {fake.first_name_female()}"
        data["guardian_phone"] = _phone(rng)
    return data


def _given_by(age: int) -> dict:
    if age < 7:
        return {"given_by": "guardian", "guardian_relationship": "Mẹ"}
    if age < 16:
        return {"given_by": "survivor_and_guardian", "guardian_relationship": "Mẹ"}
    return {"given_by": "survivor"}


def backdate(*, case: Case, at: datetime.datetime, event_type: str | None = None, action: Action | None = None,
             consent: Consent | None = None) -> None:
    events = CaseEvent.objects.filter(case=case)
    if action is not None:
        Action.objects.filter(pk=action.pk).update(created_at=at)
        events.filter(action=action).update(at=at)
        # A deadline the action met closed when the action was taken.
        events.filter(type=CaseEventType.DEADLINE_CLOSED, data__action_id=action.pk).update(at=at)
    elif event_type is not None:
        latest = events.filter(type=event_type).order_by("-id").values_list("pk", flat=True).first()
        CaseEvent.objects.filter(pk=latest).update(at=at)
    if consent is not None and consent.withdrawn_at is None:
        Consent.objects.filter(pk=consent.pk).update(recorded_at=at)
    elif consent is not None:
        Consent.objects.filter(pk=consent.pk).update(withdrawn_at=at)


def _demo_agencies(world: DemoWorld) -> list:
    return [agency for (key, _sector), agency in world.agencies.items() if key in PROVINCE_WEIGHTS]


def seed_demo_cases_step(world: DemoWorld, *, count: int = DEMO_CASE_COUNT) -> None:
    """The seeding step that CasesConfig.ready() registers with the demo world; does nothing once
    the demo agencies lead any case (a second seed_demo, or cases already opened by hand)."""
    if Case.objects.filter(lead_agency__in=_demo_agencies(world)).exists():
        return
    rng = random.Random(DEMO_SEED)
    fake = Faker("vi_VN")
    fake.seed_instance(DEMO_SEED + zlib.crc32(b"cases"))
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    today = timezone.localdate(now)
    span = DEMO_MONTHS * 30
    # Opened in date order, so that case numbers grow with time as they would in real use.
    openings = sorted(now - datetime.timedelta(days=rng.uniform(1, span), hours=rng.randint(0, 10))
                      for _ in range(count))
    for opened_at in openings:
        _seed_one_case(world, rng=rng, fake=fake, opened_at=opened_at, now=now, today=today)
    _close_past_case_deadlines(world, now=now)


def _close_past_case_deadlines(world: DemoWorld, *, now: datetime.datetime) -> None:
    """The legal and follow-up deadlines of back-dated demo cases belong to their history: the story
    says they were met, an hour before they fell due. Without this the first sweep after seeding
    would escalate months-old deadlines. Deadlines still running (recent cases, waiting handoffs)
    stay open for the sweep to show."""
    case_ids = Case.objects.filter(lead_agency__in=_demo_agencies(world)).values_list("pk", flat=True)
    past = Deadline.objects.filter(case_id__in=list(case_ids), closed_at__isnull=True, due_at__lt=now).exclude(
        kind=Deadline.Kind.HANDOFF_RESPONSE
    )
    for deadline in past.select_related("owner_agency", "owner_user", "rule"):
        timeline_events.deadline_closed(deadline=deadline, reason=DeadlineClosure.MARKED_DONE,
                                        actor=deadline.owner_user, agency=deadline.owner_agency,
                                        at=deadline.due_at - datetime.timedelta(hours=1))
    past.update(stage=Deadline.Stage.CLOSED, closed_at=F("due_at") - datetime.timedelta(hours=1),
                closed_reason="demo history", next_fire_at=None)


def _seed_one_case(world: DemoWorld, *, rng, fake, opened_at, now, today) -> None:
    key = _weighted(rng, PROVINCE_WEIGHTS)
    lead_sector = _weighted(rng, LEAD_SECTOR_WEIGHTS)
    lead = world.agencies[(key, lead_sector.value)]
    responder = world.users[f"{key}.{lead_sector.value}.responder"]
    supervisor = world.users[f"{key}.{lead_sector.value}.supervisor"]
    survivor = _survivor(rng, fake, today=today)
    age = today.year - survivor["birth_year"] - 1
    opened_on = timezone.localdate(opened_at)
    gbv_type = _weighted(rng, TYPE_WEIGHTS)
    delay = rng.choice([0, 0, 1, 2, 3, 4, 5, 7, 10, 14, 15, 21, 30, 31, 45, 90])
    # A commune created in this run still holds the valid_from string it was given.
    communes = [c for c in world.communes.get(key, []) if datetime.date.fromisoformat(str(c.valid_from)) <= opened_on]
    incident = {
        "occurred_on": None if rng.random() < 0.08 else opened_on - datetime.timedelta(days=delay),
        "reported_on": opened_on,
        "province": lead.province.code,
        "commune": rng.choice(communes).code if communes else None,
        "answers": _answers(rng, gbv_type),
        "tech_forms": [],
        "perpetrator_relationship": _weighted(rng, RELATIONSHIP_WEIGHTS),
    }
    if rng.random() < 0.4:
        forms = CHILD_TECH_FORMS if age < 18 else ADULT_TECH_FORMS
        incident["tech_forms"] = rng.sample(forms, k=rng.randint(1, 2))
        if rng.random() < 0.5:
            incident["perpetrator_relationship"] = PerpetratorRelationship.ONLINE_CONTACT
    partner_sector = Sector.HEALTH if lead_sector != Sector.HEALTH else Sector.SOCIAL_WORK
    partner = world.agencies[(key, partner_sector.value)]
    partner_categories = ["medical"] if partner_sector == Sector.HEALTH else ["psychosocial", "contact"]
    consent = None
    roll = rng.random()
    if roll < 0.55:
        consent = {"receiving_agency": partner.pk, "granted_categories": partner_categories,
                   "refused_categories": ["identity"] if rng.random() < 0.3 else [],
                   "purpose": "Hỗ trợ y tế và tâm lý", **_given_by(age)}
    risk = rng.choices(["low", "medium", "high", "severe"], weights=[3, 5, 3, 1])[0]
    case = case_open(actor=responder, agency=lead, opened_at=opened_at, **input_validate(
        CaseOpenInputSerializer, {"survivor": survivor, "incident": incident, "consent": consent, "risk_level": risk,
                                  "statistics_consent": rng.random() < 0.95}, default_reported_on=opened_on))
    access = case_get_for_user(user=responder, case_id=case.pk)
    last = opened_at

    def later(hours_low: int, hours_high: int) -> datetime.datetime:
        nonlocal last
        last = min(now, last + datetime.timedelta(hours=rng.randint(hours_low, hours_high)))
        return last

    if consent is None and roll < 0.62 and risk in ("high", "severe"):
        override = consent_record(access=access, actor=responder, data={
            "receiving_agency": partner, "granted_categories": partner_categories, "purpose": "Can thiệp khẩn cấp",
            "given_by": "survivor", "emergency_override": True, "override_reason": OVERRIDE_REASON})
        backdate(case=case, at=later(1, 6), event_type=CaseEventType.CONSENT_RECORDED, consent=override)
    elif consent is None and roll < 0.72:
        sector_consent = consent_record(access=access, actor=responder, data={
            "receiving_sector": Sector.SHELTER, "granted_categories": ["contact"], "purpose": "Tìm nơi tạm lánh",
            **_given_by(age)})
        backdate(case=case, at=later(2, 48), event_type=CaseEventType.CONSENT_RECORDED, consent=sector_consent)

    referral = None
    if DEMO_REFERRAL_SENDERS and (consent is not None or (roll < 0.62 and risk in ("high", "severe"))):
        referral = DEMO_REFERRAL_SENDERS[0](world, case=case, access=access, responder=responder, partner=partner,
                                            categories=partner_categories, risk=risk, rng=rng, sent_at=later(1, 12),
                                            now=now)
        if referral.responded_at is not None:
            last = max(last, referral.responded_at)

    actions = list(SECTOR_ACTIONS[lead_sector]) + COMMON_ACTIONS
    for action_type, text in rng.sample(actions, k=rng.randint(1, 4)):
        action = action_log(access=access, actor=responder, data={"type": action_type, "text": text,
                                                                  "occurred_at": later(1, 72)})
        backdate(case=case, at=last, action=action)
    if referral is not None and referral.accepted and partner_sector == Sector.HEALTH and rng.random() < 0.7:
        partner_user = world.users[f"{key}.health.responder"]
        partner_access = case_get_for_user(user=partner_user, case_id=case.pk)
        action_type, text = rng.choice(SECTOR_ACTIONS[Sector.HEALTH])
        action = action_log(access=partner_access, actor=partner_user,
                            data={"type": action_type, "text": text, "occurred_at": later(2, 48)})
        backdate(case=case, at=last, action=action)
    if consent is not None and rng.random() < 0.12:
        recorded = Consent.objects.filter(case=case).first()
        withdrawn = consent_withdraw(access=access, actor=responder, consent_id=recorded.pk,
                                     reason="Người bị hại không muốn tiếp tục chia sẻ.")
        at = later(24, 240)
        backdate(case=case, at=at, event_type=CaseEventType.CONSENT_WITHDRAWN, consent=withdrawn)

    age_days = (now - opened_at).days
    supervisor_access = case_get_for_user(user=supervisor, case_id=case.pk)
    if age_days > 14 or rng.random() < 0.5:
        case_change_status(access=supervisor_access, actor=supervisor, status=CaseStatus.ACTIVE)
        backdate(case=case, at=later(1, 48), event_type=CaseEventType.STATUS_CHANGED)
    if age_days > 60 and rng.random() < 0.6:
        case_change_status(access=supervisor_access, actor=supervisor, status=CaseStatus.CLOSED,
                           close_reason="Người bị hại an toàn, kế hoạch hỗ trợ đã hoàn thành.")
        closed_at = later(24 * 20, 24 * 50)
        backdate(case=case, at=closed_at, event_type=CaseEventType.STATUS_CHANGED)
        Case.objects.filter(pk=case.pk).update(closed_at=closed_at)
    Case.objects.filter(pk=case.pk).update(updated_at=last)


def seed_demo_cases(*, count: int = DEMO_CASE_COUNT) -> int:
    """Seed the demo cases into the demo world (built or completed first); returns how many demo
    cases exist afterwards."""
    with transaction.atomic():
        world = seed_demo_world(steps=BUILT_IN_STEPS)
        seed_demo_cases_step(world, count=count)
        return Case.objects.filter(lead_agency__in=_demo_agencies(world)).count()
