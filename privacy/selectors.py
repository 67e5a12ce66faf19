"""Reads of the privacy app: which data-subject requests and legal holds a user may see, what they may
do with a request, and what keeps a case from erasure. Who may see what is said in privacy.services."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from agencies.models import Membership, Role
from cases.models import Case, Consent
from config.exceptions import NotFound
from handoffs.models import HANDOFF_OPEN_STATUSES, HandoffService
from notifications.models import Deadline
from permissions.policy import CASE_ROLES

from .models import LEAD_SUPERVISOR, REQUEST_MACHINE, DataSubjectRequest, LegalHold, RefusalGround


def member_agency_ids(user: User | AnonymousUser, roles: tuple[str, ...] = CASE_ROLES) -> set[int]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(Membership.objects.filter(user=user, role__in=roles, agency__active=True)
               .values_list("agency_id", flat=True))


def user_supervises(user: User | AnonymousUser, agency_id: int) -> bool:
    return agency_id in member_agency_ids(user, roles=(Role.SUPERVISOR,))


def privacy_requests_visible_to(*, user: User) -> QuerySet[DataSubjectRequest]:
    """Requests about cases the user's agency leads (responders and supervisors of the lead)."""
    agency_ids = member_agency_ids(user)
    if not agency_ids:
        return DataSubjectRequest.objects.none()
    return (
        DataSubjectRequest.objects.filter(case__lead_agency_id__in=agency_ids)
        .select_related("case", "case__lead_agency", "recorded_by", "recorded_by_agency", "decided_by", "package")
    )


def privacy_request_get(
    *, user: User, request_id: int, supervisor: bool = False, lock: bool = False
) -> DataSubjectRequest:
    """404 when the user may not see it; 403 when `supervisor` is needed and they are not one."""
    qs = privacy_requests_visible_to(user=user)
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        dsr = qs.get(pk=request_id)
    except (DataSubjectRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound from None
    if supervisor and not user_supervises(user, dsr.case.lead_agency_id):
        raise PermissionDenied
    return dsr


def privacy_request_actions(*, user: User, dsr: DataSubjectRequest) -> list[str]:
    """What the user may do with the request now (REQUEST_MACHINE): the request page's buttons and
    the API's allowed_actions. Only the lead agency's supervisors act on a request. One query."""
    supervises = user_supervises(user, dsr.case.lead_agency_id)
    return REQUEST_MACHINE.available(dsr, may=lambda right: right == LEAD_SUPERVISOR and supervises)


def lead_member_require(*, user: User, case: Case) -> None:
    """404 unless the user works for the case's lead agency: other agencies on the case do not learn
    what the survivor asked."""
    if case.lead_agency_id not in member_agency_ids(user):
        raise NotFound


def lead_supervisor_require(*, user: User, case: Case) -> None:
    """As lead_member_require, and then 403 unless the user supervises the lead agency."""
    lead_member_require(user=user, case=case)
    if not user_supervises(user, case.lead_agency_id):
        raise PermissionDenied


def legal_holds_of_case(*, user: User, case: Case) -> QuerySet[LegalHold]:
    lead_member_require(user=user, case=case)
    return LegalHold.objects.filter(case=case).select_related("placed_by", "released_by")


def request_deadlines(dsr: DataSubjectRequest) -> list[Deadline]:
    return list(Deadline.objects.filter(subject__startswith=f"dsr:{dsr.pk}:").select_related("rule")
                .order_by("due_at", "pk"))


def consents_withdrawable(*, case_id: int) -> list[Consent]:
    """The consents a granted request to withdraw consent may end: those of the case in force that share
    something, newest first, with their receiving agency. A record that only refuses is not among them:
    withdrawing it would end the refusal and share more, not less."""
    in_force = Consent.objects.in_force().filter(case_id=case_id).select_related("receiving_agency")
    return [consent for consent in in_force.order_by("-recorded_at", "-id") if consent.granted_categories]


def erasure_blockers(case: Case) -> list[str]:
    """Grounds on which the law keeps the case: a legal hold in force, or an investigation asked of
    the police that is still open (a handoff for investigation sent or accepted, not completed)."""
    grounds: list[str] = []
    if LegalHold.objects.filter(case=case, released_at__isnull=True).exists():
        grounds.append(RefusalGround.LEGAL_HOLD)
    open_services = case.handoffs.filter(status__in=HANDOFF_OPEN_STATUSES).values_list(
        "services", flat=True)
    if any(HandoffService.INVESTIGATION in (services or []) for services in open_services):
        grounds.append(RefusalGround.CRIMINAL_PROCEEDINGS)
    return grounds
