"""Supervisors' reviews: a verdict on a handoff, an emergency consent override or a break-glass use.

Each review is a new row (a later review supersedes the earlier one for the queue and closes its
open follow-up), a follow-up deadline when one is needed, and an audit event, in one transaction.
Who may review is decided here, not by the caller: a supervisor of the agency the subject belongs to.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Membership
from audit.models import AuditAction
from audit.services import audit_record
from cases.models import Consent
from config.exceptions import NotFound
from handoffs.models import Handoff
from handoffs.selectors import handoff_path
from notifications.models import Deadline
from notifications.services import deadline_close, deadline_create
from permissions.breakglass import break_glass_path
from permissions.models import BreakGlassUse
from permissions.policy import CASE_ROLES

from .models import BreakGlassReview, ConsentOverrideReview, HandoffReview, Review, Verdict

SUPERSEDED = "superseded"
# The subject of a review's follow-up ("review:<kind>:<subject id>:<agency id>"): about the handoff, override or
# break-glass use the supervisor reviewed, which their agency reads whether or not it sees the case now.
REVIEW_SUBJECT_PREFIX = "review:"


def _review_subject(*, user: User, queryset, pk: int):
    """What a supervisor reviews (with its case), and the agencies they supervise: 403 for one who
    supervises none, 404 for a subject that is not there."""
    supervised = _supervised_ids(user)
    if not supervised:
        raise PermissionDenied
    subject = queryset.select_related("case").filter(pk=pk).first()
    if subject is None:
        raise NotFound
    return subject, supervised


def _review_write(
    *, model: type[Review], subject, kind: str, side: int, user: User, verdict: str,
    comment: str, follow_up_due, link: str,
) -> Review:
    """The review of `subject` (which has a case) for the supervised agency `side`."""
    agency = Agency.objects.get(pk=side)
    case_id, case_number = subject.case_id, subject.case.number
    now = timezone.now()
    deadline_subject = f"{REVIEW_SUBJECT_PREFIX}{kind}:{subject.pk}:{agency.pk}"
    # The newest review speaks for the agency: an earlier follow-up it asked for is no longer due.
    deadline_close(subject=deadline_subject, reason=SUPERSEDED, kind=Deadline.Kind.FOLLOW_UP)
    follow_up = None
    if verdict == Verdict.FOLLOW_UP_NEEDED:
        follow_up = deadline_create(
            kind=Deadline.Kind.FOLLOW_UP, subject=deadline_subject, owner_agency=agency, due_at=follow_up_due,
            start=now, case_id=case_id, case_number=case_number, link=link,
        )
    review = model.objects.create(
        **{model.subject_field: subject}, reviewer=user, agency=agency, verdict=verdict,
        comment=comment, follow_up_due=follow_up_due, follow_up=follow_up, at=now,
    )
    audit_record(
        actor=user, action=AuditAction.CREATE, case_id=case_id, agency_id=agency.pk,
        target=f"{kind}_review:{review.pk}",
        details={"subject": f"{kind}:{subject.pk}", "verdict": review.verdict,
                 "follow_up_due": review.follow_up_due.isoformat() if review.follow_up_due else None},
    )
    return review


def _supervised_ids(user: User) -> set[int]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(
        Membership.objects.filter(user=user, role="supervisor", agency__active=True).values_list("agency_id", flat=True)
    )


def _pick(sides: list[int], supervised: set[int], agency_id: int | None) -> int:
    mine = [s for s in sides if s in supervised]
    if not mine:
        raise NotFound
    if agency_id is not None:
        if agency_id not in mine:
            raise PermissionDenied
        return agency_id
    return mine[0]


def _review_create(
    *, model: type[Review], kind: str, user: User, queryset, pk: int, sides: Callable[[Any], list[int]],
    link: Callable[[Any], str], agency_id: int | None, verdict: str, comment: str, follow_up_due,
) -> Review:
    """Find the subject, choose which of its `sides` the reviewer speaks for, and write the review."""
    subject, supervised = _review_subject(user=user, queryset=queryset, pk=pk)
    return _review_write(
        model=model, subject=subject, kind=kind, user=user, side=_pick(sides(subject), supervised, agency_id),
        verdict=verdict, comment=comment, follow_up_due=follow_up_due, link=link(subject),
    )


@transaction.atomic(durable=True)
def handoff_review_create(*, user: User, handoff_id: int, verdict: str, comment: str = "", follow_up_due=None,
                          agency_id: int | None = None) -> HandoffReview:
    """A supervisor of the sending or the receiving agency signs the handoff off."""
    return _review_create(
        model=HandoffReview, kind="handoff", user=user, queryset=Handoff.objects, pk=handoff_id,
        sides=lambda handoff: [handoff.from_agency_id, handoff.to_agency_id],
        link=lambda handoff: handoff_path(handoff.pk),
        agency_id=agency_id, verdict=verdict, comment=comment, follow_up_due=follow_up_due,
    )


@transaction.atomic(durable=True)
def consent_override_review_create(*, user: User, consent_id: int, verdict: str, comment: str = "", follow_up_due=None,
                                   agency_id: int | None = None) -> ConsentOverrideReview:
    """A supervisor of the case's lead agency reviews an emergency consent override; the consent
    no longer waits for review."""
    review = _review_create(
        model=ConsentOverrideReview, kind="consent_override", user=user,
        queryset=Consent.objects.select_for_update(of=("self",)).filter(emergency_override=True), pk=consent_id,
        sides=lambda consent: [consent.case.lead_agency_id], link=lambda consent: f"/cases/{consent.case_id}/",
        agency_id=agency_id, verdict=verdict, comment=comment, follow_up_due=follow_up_due,
    )
    Consent.objects.filter(pk=consent_id).update(needs_review=False)
    return review


def break_glass_reviewer_agency_ids(*, use: BreakGlassUse) -> list[int]:
    """The case's lead at the time of use, then the user's own agencies."""
    own = Membership.objects.filter(user_id=use.user_id, role__in=CASE_ROLES, agency__active=True).order_by(
        "agency_id").values_list("agency_id", flat=True)
    return [use.lead_agency_id, *[i for i in own if i != use.lead_agency_id]]


@transaction.atomic(durable=True)
def break_glass_review_create(*, user: User, use_id: int, verdict: str, comment: str = "", follow_up_due=None,
                              agency_id: int | None = None) -> BreakGlassReview:
    """A supervisor of the case's lead agency, or of the user's own agency, reviews a break-glass use."""
    return _review_create(
        model=BreakGlassReview, kind="break_glass", user=user, queryset=BreakGlassUse.objects, pk=use_id,
        sides=lambda use: break_glass_reviewer_agency_ids(use=use), link=lambda use: break_glass_path(use.pk),
        agency_id=agency_id, verdict=verdict, comment=comment, follow_up_due=follow_up_due,
    )


def _raise_unknown(kind: str):
    raise ValidationError({"subject": [_("Unknown kind of review: %(kind)s.") % {"kind": kind}]})


REVIEW_SERVICES = {
    "handoff": (handoff_review_create, "handoff_id"),
    "consent_override": (consent_override_review_create, "consent_id"),
    "break_glass": (break_glass_review_create, "use_id"),
}


def review_create(*, user: User, subject: str, subject_id: int, **values) -> Review:
    """The review of any of the three subjects, by name (the API's single endpoint)."""
    if subject not in REVIEW_SERVICES:
        _raise_unknown(subject)
    service, key = REVIEW_SERVICES[subject]
    return service(user=user, **{key: subject_id}, **values)


def access_log_export_record(*, user: User, agency: Agency, filters: dict, rows: int,
                             case_id: int | None = None) -> None:
    """The audit event of a CSV export of the access log; it commits before the file is sent."""
    with transaction.atomic():
        audit_record(actor=user, action=AuditAction.EXPORT, agency_id=agency.pk, case_id=case_id,
                     target="access_log", details={"filters": filters, "rows": rows})
