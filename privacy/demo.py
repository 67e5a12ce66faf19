"""The demo world's privacy rows: two data-subject requests and one legal hold on demo cases, through
the services (so deadlines, notifications and audit are as real). Runs once: kept when present."""

from agencies.acting import acting_for
from agencies.models import Membership, Role
from cases.models import Case, CaseStatus
from cases.selectors import case_get_for_user

from .models import DataSubjectRequest, LegalHold
from .services import legal_hold_place, privacy_request_acknowledge, privacy_request_record


def _member(agency_id: int, role: str):
    row = (Membership.objects.filter(agency_id=agency_id, role=role, user__is_active=True)
           .select_related("user").order_by("user__username").first())
    return row.user if row else None


def _pick(cases, count: int) -> list[tuple[Case, object, object]]:
    picked = []
    for case in cases:
        responder, supervisor = _member(case.lead_agency_id, Role.RESPONDER), _member(case.lead_agency_id,
                                                                                      Role.SUPERVISOR)
        if responder and supervisor:
            picked.append((case, responder, supervisor))
        if len(picked) == count:
            break
    return picked


def seed_demo_privacy_step(world) -> None:
    if DataSubjectRequest.objects.exists() or LegalHold.objects.exists():
        return
    open_cases = Case.objects.filter(anonymised_at__isnull=True).exclude(status=CaseStatus.CLOSED).order_by("pk")
    requests = [
        ("access", "Chị muốn biết các cơ quan đang giữ những thông tin gì về mình."),
        ("correction", "Số điện thoại trong hồ sơ đã cũ, đề nghị sửa lại."),
    ]
    for (case, responder, supervisor), (kind, details) in zip(_pick(open_cases[:50], 2), requests, strict=False):
        with acting_for(case.lead_agency_id):
            access = case_get_for_user(user=responder, case_id=case.pk)
            dsr = privacy_request_record(access=access, actor=responder,
                                         data={"kind": kind, "requester": "survivor", "details": details})
            if kind == "correction":
                privacy_request_acknowledge(user=supervisor, request_id=dsr.pk)
    closed = Case.objects.filter(status=CaseStatus.CLOSED, anonymised_at__isnull=True).order_by("pk")[:50]
    for case, _responder, supervisor in _pick(closed, 1):
        legal_hold_place(user=supervisor, case=case,
                         data={"reason": "Cơ quan điều tra đề nghị giữ hồ sơ trong khi vụ án đang được xử lý."})
