"""Personal-data breaches: recorded by a system administrator, timed by the legal limit
(`personal_data_breach_notification` in notifications/data/time_limits.yaml), told to the supervisors
of the agencies affected, and linked to the access records (audit events) that raised the suspicion.

Who may do what:
- a system administrator (an active superuser) records, lists, reads and updates every breach;
- a supervisor of an affected agency reads the breaches of the agencies they supervise;
- nobody else sees anything (not other supervisors, not analysts, not responders, not staff
  without superuser rights).
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Role
from agencies.selectors import supervised_agencies
from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from notifications.calendar import time_limit_effective, working_time_add
from notifications.models import Deadline, LegalTimeLimit, NotificationKind
from notifications.services import deadline_close, deadline_create, notify
from permissions.categories import DataCategory

from .models import Breach, BreachStatus

TIME_LIMIT_CODE = "personal_data_breach_notification"
MAX_LINKED_EVENTS = 500
EDITABLE_FIELDS = (
    "status", "discovered_at", "occurred_at", "description", "categories", "subjects_approx", "records_approx",
    "consequences", "measures_taken", "measures_proposed", "contact_point", "notified_at", "delay_reason",
)


def is_breach_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def breach_supervised_agency_ids(user) -> list[int]:
    return [agency.pk for agency in supervised_agencies(user=user)]


def breach_list_for_user(*, user) -> QuerySet[Breach]:
    """The breaches the user may read, newest first; PermissionDenied for anyone who may read none."""
    qs = Breach.objects.select_related("recorded_by").prefetch_related("affected_agencies")
    if is_breach_admin(user):
        return qs
    agency_ids = breach_supervised_agency_ids(user)
    if not agency_ids:
        raise PermissionDenied
    return qs.filter(affected_agencies__in=agency_ids).distinct()


def breach_get_for_user(*, user, breach_id: int) -> Breach:
    """One breach the user may read (Breach.DoesNotExist for one of no agency they supervise)."""
    return breach_list_for_user(user=user).get(pk=breach_id)


def breach_due_at(*, start: datetime.datetime) -> datetime.datetime:
    """The legal limit from `start`, by the same calculation as every Deadline (overrides included)."""
    try:
        rule = LegalTimeLimit.objects.get(code=TIME_LIMIT_CODE)
    except LegalTimeLimit.DoesNotExist as exc:
        raise ValueError(f"no time limit {TIME_LIMIT_CODE!r}; run `manage.py load_time_limits`") from exc
    limit = time_limit_effective(rule=rule)
    return working_time_add(start, amount=limit.amount, unit=limit.unit)


def _clean(data: dict, *, instance: Breach | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    categories = data.get("categories")
    if categories is not None:
        bad = [c for c in categories if c not in DataCategory.values]
        if bad or len(set(categories)) != len(categories):
            errors["categories"] = [_("Choose categories from the list, each once.")]
        else:
            data["categories"] = sorted(categories)
    for name in ("description", "contact_point"):
        if name in data and not str(data[name]).strip():
            errors[name] = [_("This field is required.")]
    discovered = data.get("discovered_at", instance.discovered_at if instance else None)
    if discovered is not None and discovered > now + datetime.timedelta(minutes=5):
        errors["discovered_at"] = [_("The time of discovery cannot be in the future.")]
    occurred = data.get("occurred_at", instance.occurred_at if instance else None)
    if occurred and discovered and occurred > discovered:
        errors["occurred_at"] = [_("The breach cannot have happened after it was discovered.")]
    notified = data.get("notified_at", instance.notified_at if instance else None)
    if notified is not None and notified > now + datetime.timedelta(minutes=5):
        errors["notified_at"] = [_("The time of notification cannot be in the future.")]
    if notified is not None and discovered is not None and notified < discovered:
        errors["notified_at"] = [_("The authority cannot have been notified before the breach was discovered.")]
    status = data.get("status", instance.status if instance else BreachStatus.SUSPECTED)
    if status == BreachStatus.NOTIFIED and notified is None:
        errors["notified_at"] = [_("Give the time the authority was notified.")]
    if errors:
        raise ValidationError(errors)
    return data


def _linked_events(event_seqs) -> list[int]:
    seqs = sorted(set(event_seqs or ()))
    if len(seqs) > MAX_LINKED_EVENTS:
        raise ValidationError({"access_events": [_("Link at most %(n)s access records.") % {"n": MAX_LINKED_EVENTS}]})
    found = set(AuditEvent.objects.filter(seq__in=seqs).values_list("seq", flat=True))
    missing = [seq for seq in seqs if seq not in found]
    if missing:
        raise ValidationError({"access_events": [
            _("No access record with number %(seqs)s.") % {"seqs": ", ".join(map(str, missing[:10]))}
        ]})
    return seqs


def breach_link(breach: Breach) -> str:
    return reverse("audit:breach", args=[breach.pk])


def breach_record(
    *, actor, affected_agencies: list[Agency] = (), access_events=(), **fields,
) -> Breach:
    """Record a suspected breach: the legal limit starts at its discovery, the supervisors of each
    affected agency are told, and every affected agency gets a legal-limit deadline (reminder to the
    administrator who recorded it, overdue notice to the agency's supervisors)."""
    if not is_breach_admin(actor):
        raise PermissionDenied
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown breach fields {sorted(unknown)}")
    for required in ("discovered_at", "description", "contact_point"):
        if not fields.get(required):
            raise ValidationError({required: [_("This field is required.")]})
    fields = _clean(dict(fields))
    seqs = _linked_events(access_events)
    agencies = list(dict.fromkeys(affected_agencies))
    with transaction.atomic():
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


def breach_update(*, actor, breach: Breach, affected_agencies: list[Agency] | None = None, access_events=None,
                  **fields) -> Breach:
    """Change a breach (a system administrator only). Newly affected agencies are told; notifying the
    authority, or finding it was no breach, closes the deadlines."""
    if not is_breach_admin(actor):
        raise PermissionDenied
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown breach fields {sorted(unknown)}")
    fields = _clean(dict(fields), instance=breach)
    seqs = _linked_events(access_events) if access_events is not None else None
    with transaction.atomic():
        breach = Breach.objects.select_for_update().get(pk=breach.pk)
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
    from django.contrib.auth import get_user_model  # noqa: PLC0415

    supervisors = get_user_model().objects.filter(
        Q(memberships__agency__in=agencies) & Q(memberships__role=Role.SUPERVISOR),
        memberships__agency__active=True, is_active=True,
    ).distinct()
    notify(
        recipients=list(supervisors), kind=NotificationKind.BREACH_RECORDED, link=link,
        params={"due_at": breach.due_at.isoformat()}, event_key=f"breach:{breach.pk}",
    )


def breach_events_linked(*, agency: Agency) -> dict[int, list[int]]:
    """For each audit event seq cited by a breach affecting the agency, those breaches' ids (for the
    unusual-access report)."""
    linked: dict[int, list[int]] = {}
    for breach_id, seqs in Breach.objects.filter(affected_agencies=agency).values_list("pk", "access_event_seqs"):
        for seq in seqs or ():
            linked.setdefault(seq, []).append(breach_id)
    return linked
