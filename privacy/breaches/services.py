"""Writes of the breach register: record a breach and change it, each in one transaction with its
deadlines, notices and audit event. The values come validated by BreachInputSerializer; what is
checked here is what needs the stored breach too (the order of its times)."""

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from agencies.models import Agency, Role
from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from notifications.calendar import time_limit_effective, working_time_add
from notifications.models import Deadline, LegalTimeLimit, NotificationKind
from notifications.services import deadline_close, deadline_create, notify

from ..models import Breach, BreachStatus
from .selectors import is_breach_admin

TIME_LIMIT_CODE = "personal_data_breach_notification"
EDITABLE_FIELDS = (
    "status", "discovered_at", "occurred_at", "description", "categories", "subjects_approx", "records_approx",
    "consequences", "measures_taken", "measures_proposed", "contact_point", "notified_at", "delay_reason",
)


def breach_due_at(*, start: datetime.datetime) -> datetime.datetime:
    """The legal limit from `start`, by the same calculation as every Deadline (overrides included)."""
    try:
        rule = LegalTimeLimit.objects.get(code=TIME_LIMIT_CODE)
    except LegalTimeLimit.DoesNotExist as exc:
        raise ValueError(f"no time limit {TIME_LIMIT_CODE!r}; run `manage.py load_time_limits`") from exc
    limit = time_limit_effective(rule=rule)
    return working_time_add(start, amount=limit.amount, unit=limit.unit)


def _fields_check(fields: dict) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown breach fields {sorted(unknown)}")


def _times_check(fields: dict, *, instance: Breach | None = None) -> None:
    """The rules between the times and the status, over the given fields and, for a change, the ones
    the breach already has (the input's own rules are BreachInputSerializer's)."""
    def value(name: str):
        return fields[name] if name in fields else getattr(instance, name, None)

    discovered, occurred, notified = value("discovered_at"), value("occurred_at"), value("notified_at")
    status = value("status") or BreachStatus.SUSPECTED
    errors: dict[str, list[str]] = {}
    if occurred and discovered and occurred > discovered:
        errors["occurred_at"] = [_("The breach cannot have happened after it was discovered.")]
    if notified is not None and discovered is not None and notified < discovered:
        errors["notified_at"] = [_("The authority cannot have been notified before the breach was discovered.")]
    elif status == BreachStatus.NOTIFIED and notified is None:
        errors["notified_at"] = [_("Give the time the authority was notified.")]
    if errors:
        raise ValidationError(errors)


def _linked_events(event_seqs: Iterable[int] | None) -> list[int]:
    """The audit events a breach cites, each once and in order; every one must exist."""
    seqs = sorted(set(event_seqs or ()))
    found = set(AuditEvent.objects.filter(seq__in=seqs).values_list("seq", flat=True))
    missing = [seq for seq in seqs if seq not in found]
    if missing:
        raise ValidationError({"access_events": [
            _("No access record with number %(seqs)s.") % {"seqs": ", ".join(map(str, missing[:10]))}
        ]})
    return seqs


def breach_link(breach: Breach) -> str:
    return reverse("audit:breach", args=[breach.pk])


@transaction.atomic(durable=True)
def breach_record(
    *, actor: User, affected_agencies: Iterable[Agency] = (), access_events: Iterable[int] = (), **fields,
) -> Breach:
    """Record a suspected breach: the legal limit starts at its discovery, the supervisors of each
    affected agency are told, and every affected agency gets a legal-limit deadline (reminder to the
    administrator who recorded it, overdue notice to the agency's supervisors)."""
    if not is_breach_admin(actor):
        raise PermissionDenied
    _fields_check(fields)
    _times_check(fields)
    seqs = _linked_events(access_events)
    agencies = list(dict.fromkeys(affected_agencies))
    breach = Breach.objects.create(
        recorded_by=actor, due_at=breach_due_at(start=fields["discovered_at"]), access_event_seqs=seqs, **fields,
    )
    breach.affected_agencies.set(agencies)
    link = breach_link(breach)
    if breach.notified_at is None:
        for agency in agencies:
            deadline_create(
                kind=Deadline.Kind.LEGAL_LIMIT, subject=f"breach:{breach.pk}", owner_agency=agency,
                owner_user=actor, escalate_agency=agency, rule=TIME_LIMIT_CODE, start=breach.discovered_at,
                link=link,
            )
    _supervisors_notify(breach=breach, agencies=agencies, link=link)
    audit_record(
        actor=actor, action=AuditAction.CREATE, target=f"breach:{breach.pk}",
        details={"agencies": [a.pk for a in agencies], "access_events": seqs, "status": breach.status},
    )
    return breach


@transaction.atomic(durable=True)
def breach_update(*, actor: User, breach: Breach, affected_agencies: Iterable[Agency] | None = None,
                  access_events: Iterable[int] | None = None, **fields) -> Breach:
    """Change a breach (a system administrator only). Newly affected agencies are told; notifying the
    authority, or finding it was no breach, closes the deadlines."""
    if not is_breach_admin(actor):
        raise PermissionDenied
    _fields_check(fields)
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    _times_check(fields, instance=breach)
    seqs = _linked_events(access_events) if access_events is not None else None
    for name, value in fields.items():
        setattr(breach, name, value)
    if seqs is not None:
        breach.access_event_seqs = seqs
    if "discovered_at" in fields:
        breach.due_at = breach_due_at(start=breach.discovered_at)
    breach.save()
    link = breach_link(breach)
    added: list[Agency] = []
    if affected_agencies is not None:
        before = set(breach.affected_agencies.values_list("pk", flat=True))
        added = [a for a in dict.fromkeys(affected_agencies) if a.pk not in before]
        breach.affected_agencies.set(list(dict.fromkeys(affected_agencies)))
    subject = f"breach:{breach.pk}"
    if breach.notified_at is not None or breach.status == BreachStatus.NOT_A_BREACH:
        deadline_close(subject=subject, reason="authority notified" if breach.notified_at else "not a breach")
    else:
        if "discovered_at" in fields:  # the limit runs from the corrected time
            deadline_close(subject=subject, reason="time of discovery corrected")
            open_agencies = list(breach.affected_agencies.all())
        else:
            open_agencies = added
        for agency in open_agencies:
            deadline_create(
                kind=Deadline.Kind.LEGAL_LIMIT, subject=subject, owner_agency=agency, owner_user=breach.recorded_by,
                escalate_agency=agency, rule=TIME_LIMIT_CODE, start=breach.discovered_at, link=link,
            )
    _supervisors_notify(breach=breach, agencies=added, link=link)
    audit_record(
        actor=actor, action=AuditAction.CHANGE, target=f"breach:{breach.pk}",
        details={"fields": sorted(fields), "agencies_added": [a.pk for a in added], "status": breach.status,
                 **({"access_events": seqs} if seqs is not None else {})},
    )
    return breach


def _supervisors_notify(*, breach: Breach, agencies: list[Agency], link: str) -> None:
    if not agencies:
        return
    supervisors = User.objects.filter(
        Q(memberships__agency__in=agencies) & Q(memberships__role=Role.SUPERVISOR),
        memberships__agency__active=True, is_active=True,
    ).distinct()
    notify(
        recipients=list(supervisors), kind=NotificationKind.BREACH_RECORDED, link=link,
        params={"due_at": breach.due_at.isoformat()}, event_key=f"breach:{breach.pk}",
    )
