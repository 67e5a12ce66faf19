"""Handoffs between agencies: send, view, accept, decline, withdraw, complete, send on.

Each service runs in one transaction with its timeline line, its audit event, the change of access
(cases.sharing), the response deadline and the notifications (outbox rows, relayed after commit).
The receiving agency sees the handoff itself (case number, urgency, services asked, message) before
accepting; the case's data only after.
"""


from collections.abc import Callable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.acting import ActingAgencyRequired
from agencies.models import Agency, Membership
from audit.carried import audit_record_read
from audit.models import AuditAction
from audit.services import audit_record
from cases.models import Case, Consent
from cases.selectors import CaseAccess
from cases.sharing import case_permissions_sync
from cases.transitions import TransitionNotAllowed
from encryption.crypto import reason_key
from handoffs.models import HANDOFF_MACHINE, HANDOFF_OPEN_STATUSES, Handoff, HandoffKind, HandoffStatus, Urgency
from notifications.models import Deadline, NotificationKind
from notifications.services import (
    deadline_close,
    deadline_create,
    deadline_rule_due,
    handoff_response_rule_code,
    notifications_answered,
    notify,
)
from permissions.categories import CaseRight, DataCategory
from permissions.policy import CASE_ROLES

from . import events
from .selectors import HandoffAccess, consented_categories, handoff_deadline_subject, handoff_get_for_user, handoff_path

MESSAGE_LIMIT = 2000


# The actions of HANDOFF_MACHINE (cases.models), by name.
ACCEPT, DECLINE, WITHDRAW, COMPLETE, SEND_ON = HANDOFF_MACHINE.actions


REASON_LIMIT = 1000


def _notify(handoff: Handoff, *, kind: str, agency_id: int, stage: str) -> None:
    params = {"urgency": handoff.urgency, "handoff_type": handoff.kind}
    if stage == "sent":
        # The receiver reads how urgent it is and by when to answer, in the list and by SMS.
        params["due_at"] = handoff.due_at.isoformat()
    # The agency's case staff with their addresses, in one read (notify reads them otherwise: issue 15).
    addresses = {
        user_id: (email, phone) for user_id, email, phone in Membership.objects.filter(
            agency_id=agency_id, role__in=CASE_ROLES, user__is_active=True,
        ).values_list("user_id", "user__email", "user__contact__phone")
    }
    notify(
        recipients=list(addresses), kind=kind, case_number=handoff.case.number,
        link=handoff_path(handoff.pk), params=params, event_key=f"handoff:{handoff.pk}:{stage}", addresses=addresses,
    )


def _send_rules_check(values: dict, *, case: Case, from_agency: Agency) -> dict[str, list[str]]:
    """The domain's rules for a handoff (its input validated by handoffs.apis.HandoffSendApi's
    InputSerializer): messages by field, none when it may be sent. Resolves `forwarded_from` (an id)
    to a declined handoff of this case in `values`."""
    errors: dict[str, list[str]] = {}
    to_agency = values["to_agency"]
    if to_agency.pk == from_agency.pk:
        return {"to_agency": [_("A case cannot be handed to the agency that sends it.")]}
    forwarded = values.get("forwarded_from")
    values["forwarded_from"] = None
    if forwarded is not None:
        values["forwarded_from"] = Handoff.objects.filter(
            case=case, status__in=HANDOFF_MACHINE["send_on"].sources, pk=getattr(forwarded, "pk", forwarded)).first()
        if values["forwarded_from"] is None:
            errors["forwarded_from"] = [_("Choose one from the list.")]
    shareable, refused = consented_categories(case=case, agency=to_agency)
    wanted = set(values.get("categories") or [])
    if wanted & refused:
        errors["categories"] = [_("The survivor refused to share these with this agency: %(c)s.")
                                % {"c": ", ".join(str(DataCategory(c).label) for c in sorted(wanted & refused))}]
    elif not values.get("emergency_override"):
        beyond = wanted - shareable
        if beyond:
            errors["categories"] = [_("No consent in force covers: %(c)s. Record consent first, or use an "
                                      "emergency override with a reason.")
                                    % {"c": ", ".join(str(DataCategory(c).label) for c in sorted(beyond))}]
        elif not shareable and not Consent.objects.in_force().filter(case=case).covering(to_agency).exists():
            errors["to_agency"] = [_("The survivor has not agreed to involve this agency. Record consent "
                                     "first, or use an emergency override with a reason.")]
    if Handoff.objects.filter(case=case, to_agency=to_agency, status__in=HANDOFF_OPEN_STATUSES).exists():
        errors.setdefault("to_agency", []).append(_("This agency already has an open handoff of this case."))
    if values["kind"] == HandoffKind.TRANSFER and Handoff.objects.filter(
        case=case, kind=HandoffKind.TRANSFER, status=HandoffStatus.SENT
    ).exists():
        errors["kind"] = [_("A transfer of this case is already waiting for an answer.")]
    return errors


def _violates(exc: IntegrityError, constraint) -> bool:
    """Whether the IntegrityError is this unique constraint's: PostgreSQL names the constraint,
    SQLite the columns ("UNIQUE constraint failed: cases_handoff.case_id, cases_handoff.to_agency_id")."""
    text = str(exc)
    if constraint.name in text:
        return True
    table = Handoff._meta.db_table
    columns = ", ".join(f"{table}.{Handoff._meta.get_field(name).column}" for name in constraint.fields)
    return text.strip().endswith(f": {columns}")


def _create_unique(**fields) -> Handoff:
    """The handoff row; a concurrent send that won the race (the database's partial unique
    constraints) is refused as the checks of _send_rules_check would have refused it.

    No savepoint of its own: it runs inside handoff_send's transaction (or savepoint), which the refusal
    ends by rolling back, so nothing is written in a transaction that the failed insert broke."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("_create_unique runs inside handoff_send's transaction")
    try:
        return Handoff.objects.create(**fields)
    except IntegrityError as exc:
        fields = {"handoff_one_open_per_agency": "to_agency", "handoff_one_waiting_transfer": "kind"}
        for constraint in Handoff._meta.constraints:
            if constraint.name in fields and _violates(exc, constraint):
                raise TransitionNotAllowed({fields[constraint.name]: [
                    str(constraint.violation_error_message)]}) from None
        raise


@transaction.atomic
def handoff_send(*, access: CaseAccess, actor: User, data: dict) -> Handoff:
    """Refer or transfer the case to another agency (`data` validated by handoffs.apis.HandoffSendApi's
    InputSerializer). Needs manage_sharing (the lead agency)."""
    if not access.can(CaseRight.MANAGE_SHARING):
        raise PermissionDenied
    access.acting_agency()
    # The case key comes with the locked case: the handoff's message and override reason are sealed with it.
    case = Case.objects.select_for_update(of=("self",)).select_related("data_key").get(pk=access.case.pk)
    values = {"message": "", "emergency_override": False, "override_reason": "", "categories": [], **data}
    errors = _send_rules_check(values, case=case, from_agency=access.agency)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    # The response time is counted before the handoff is written, so that it is written with its due time.
    rule_due = deadline_rule_due(rule=handoff_response_rule_code(urgency=values["urgency"]), start=now)
    handoff = _create_unique(case=case, from_agency=access.agency, sent_by=actor, sent_at=now, due_at=rule_due[1],
                             **values)
    deadline_create(
        kind=Deadline.Kind.HANDOFF_RESPONSE, subject=handoff_deadline_subject(handoff.pk),
        owner_agency=handoff.to_agency, escalate_agency=handoff.from_agency, rule_due=rule_due, start=now,
        case_id=case.pk, case_number=case.number, link=handoff_path(handoff.pk),
    )
    Case.objects.filter(pk=case.pk).update(updated_at=now)
    events.handoff_sent(handoff=handoff, actor=actor, at=now)
    emergency = handoff.urgency == Urgency.EMERGENCY
    kind = NotificationKind.HANDOFF_EMERGENCY if emergency else NotificationKind.HANDOFF_RECEIVED
    _notify(handoff, kind=kind, agency_id=handoff.to_agency_id, stage="sent")
    if handoff.emergency_override:
        audit_record(actor=actor, action=AuditAction.CONSENT_OVERRIDE, case_id=case.pk, agency_id=access.agency.pk,
                     categories=handoff.categories, target=f"handoff:{handoff.pk}")
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=case.pk, agency_id=access.agency.pk,
                 categories=handoff.categories, target=f"handoff:{handoff.pk}",
                 details={"to_agency_id": handoff.to_agency_id, "kind": handoff.kind, "urgency": handoff.urgency})
    return handoff


def handoff_view(*, user: User, handoff_id: int) -> HandoffAccess:
    """The handoff for its sender or receiver; the receiving agency's first look is recorded, in one
    transaction with the audit event. Any other view's event goes with the request's next SELECT (the
    handoff's timeline lines), or alone where it cannot, as cases.services.case_view's."""
    access = handoff_get_for_user(user=user, handoff_id=handoff_id)
    handoff = access.handoff
    if access.is_receiver and handoff.viewed_at is None:
        with transaction.atomic():
            now = timezone.now()
            if Handoff.objects.filter(pk=handoff.pk, viewed_at__isnull=True).update(viewed_at=now, viewed_by=user):
                handoff.viewed_at, handoff.viewed_by = now, user
            _view_audit(user, access)
    else:
        _view_audit(user, access)
    return access


def _view_audit(user: User, access: HandoffAccess) -> None:
    audit_record_read(actor=user, action=AuditAction.VIEW, case_id=access.handoff.case_id,
                      agency_id=access.agency.pk, target=f"handoff:{access.handoff.pk}")


def _transition(*, user: User, handoff_id: int, action: str, lock_case: bool = False,
                checked: Callable[[HandoffAccess], None] | None = None) -> HandoffAccess:
    """The handoff, locked (with its case when `lock_case`: handoff.case is then the locked row), for an
    action of HANDOFF_MACHINE: taken by its side, while acting for that side's agency, from a state that
    allows it. `checked(access)` runs once the side is known and before the rest is checked: the API's
    check of the body, so that one locked read serves both (404, 403, 400, then 409, as
    config.api.ActionApi orders them)."""
    access = handoff_get_for_user(user=user, handoff_id=handoff_id, lock=True, lock_case=lock_case)
    if access.side != HANDOFF_MACHINE[action].right:
        raise PermissionDenied
    if checked is not None:
        checked(access)
    if access.acting is None:
        raise ActingAgencyRequired
    if not access.acting:
        raise PermissionDenied
    HANDOFF_MACHINE.check(action, access.handoff)
    return access


@transaction.atomic
def handoff_accept(*, user: User, handoff_id: int, checked: Callable[[HandoffAccess], None] | None = None) -> Handoff:
    """The receiving agency takes the handoff: it gets exactly the consented categories asked for;
    a transfer makes it the lead and the accepting responder responsible. `checked`: see _transition."""
    access = _transition(user=user, handoff_id=handoff_id, action=ACCEPT, lock_case=True, checked=checked)
    handoff, now = access.handoff, timezone.now()
    # Locked with the handoff, in the same statement.
    case = handoff.case
    handoff.status, handoff.responded_at, handoff.responded_by = HandoffStatus.ACCEPTED, now, user
    handoff.viewed_at = handoff.viewed_at or now
    handoff.viewed_by = handoff.viewed_by or user
    handoff.save(update_fields=["status", "responded_at", "responded_by", "viewed_at", "viewed_by"])
    case.updated_at = now
    fields = ["updated_at"]
    if handoff.kind == HandoffKind.TRANSFER:
        case.lead_agency, case.responsible = handoff.to_agency, user
        fields += ["lead_agency", "responsible"]
        events.lead_transferred(handoff=handoff, actor=user, at=now)
    case.save(update_fields=fields)
    case_permissions_sync(case=case)
    deadline_close(subject=handoff_deadline_subject(handoff.pk), reason="accepted")
    notifications_answered(link=handoff_path(handoff.pk))
    events.handoff_accepted(handoff=handoff, actor=user, at=now)
    _notify(handoff, kind=NotificationKind.HANDOFF_ACCEPTED, agency_id=handoff.from_agency_id, stage="accepted")
    audit_record(actor=user, action=AuditAction.SHARE, case_id=case.pk, agency_id=handoff.to_agency_id,
                 categories=handoff.categories, target=f"handoff:{handoff.pk}",
                 details={"kind": handoff.kind})
    return handoff


def _required(value: str, key: str) -> str:
    """A decline, a withdrawal and a completion say why or what, in words (the length is the edge's:
    handoffs.apis, handoffs.forms)."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({key: [_("This field is required.")]})
    return value


@transaction.atomic
def handoff_decline(*, user: User, handoff_id: int, reason: str) -> Handoff:
    reason = _required(reason, "reason")
    access = _transition(user=user, handoff_id=handoff_id, action=DECLINE)
    handoff, now = access.handoff, timezone.now()
    handoff.status, handoff.responded_at, handoff.responded_by = HandoffStatus.DECLINED, now, user
    handoff.decline_reason, handoff.decline_reason_key = reason, reason_key(reason)
    handoff.viewed_at = handoff.viewed_at or now
    handoff.viewed_by = handoff.viewed_by or user
    handoff.save(update_fields=["status", "responded_at", "responded_by", "decline_reason", "decline_reason_key",
                                "viewed_at", "viewed_by"])
    deadline_close(subject=handoff_deadline_subject(handoff.pk), reason="declined")
    notifications_answered(link=handoff_path(handoff.pk))
    events.handoff_declined(handoff=handoff, actor=user, at=now)
    _notify(handoff, kind=NotificationKind.HANDOFF_DECLINED, agency_id=handoff.from_agency_id, stage="declined")
    audit_record(actor=user, action=AuditAction.CHANGE, case_id=handoff.case_id, agency_id=handoff.to_agency_id,
                 target=f"handoff:{handoff.pk}", details={"status": "declined"})
    return handoff


@transaction.atomic(durable=True)
def handoff_withdraw(*, user: User, handoff_id: int, reason: str) -> Handoff:
    """The sender takes a handoff back: a referral while sent or accepted (access is revoked), a
    transfer only before it is accepted (after that the sender no longer leads the case)."""
    reason = _required(reason, "reason")
    access = _transition(user=user, handoff_id=handoff_id, action=WITHDRAW, lock_case=True)
    handoff, now = access.handoff, timezone.now()
    was_accepted = handoff.status == HandoffStatus.ACCEPTED
    handoff.status, handoff.withdrawn_at, handoff.withdraw_reason, handoff.closed_by = (
        HandoffStatus.WITHDRAWN, now, reason, user)
    handoff.save(update_fields=["status", "withdrawn_at", "withdraw_reason", "closed_by"])
    case = handoff.case  # locked with the handoff
    case_permissions_sync(case=case)
    deadline_close(subject=handoff_deadline_subject(handoff.pk), reason="withdrawn")
    notifications_answered(link=handoff_path(handoff.pk))
    events.handoff_withdrawn(handoff=handoff, actor=user, at=now)
    _notify(handoff, kind=NotificationKind.HANDOFF_WITHDRAWN, agency_id=handoff.to_agency_id, stage="withdrawn")
    audit_record(actor=user, action=AuditAction.REVOKE if was_accepted else AuditAction.CHANGE, case_id=case.pk,
                 agency_id=handoff.from_agency_id, categories=handoff.categories if was_accepted else (),
                 target=f"handoff:{handoff.pk}", details={"status": "withdrawn"})
    return handoff


@transaction.atomic(durable=True)
def handoff_complete(*, user: User, handoff_id: int, outcome: str) -> Handoff:
    """The receiver records what it did; its access is reduced to the case facts."""
    outcome = _required(outcome, "outcome")
    access = _transition(user=user, handoff_id=handoff_id, action=COMPLETE, lock_case=True)
    handoff, now = access.handoff, timezone.now()
    handoff.status, handoff.completed_at, handoff.outcome, handoff.closed_by = (
        HandoffStatus.COMPLETED, now, outcome, user)
    handoff.save(update_fields=["status", "completed_at", "outcome", "closed_by"])
    case = handoff.case  # locked with the handoff
    case_permissions_sync(case=case)
    events.handoff_completed(handoff=handoff, actor=user, at=now)
    _notify(handoff, kind=NotificationKind.HANDOFF_COMPLETED, agency_id=handoff.from_agency_id, stage="completed")
    audit_record(actor=user, action=AuditAction.REVOKE, case_id=case.pk, agency_id=handoff.to_agency_id,
                 categories=handoff.categories, target=f"handoff:{handoff.pk}",
                 details={"status": "completed"})
    return handoff
