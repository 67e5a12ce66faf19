"""Writes to cases. Each service checks its whole input first, then writes the change, the timeline
line (CaseEvent) and the audit event in one transaction, so that a refused request writes nothing
and an accepted one leaves its trace. Sharing changes recompute the case's permission rows in the
same transaction (cases.sharing.case_permissions_sync).

Audit events are written last: on PostgreSQL audit_record holds the chain lock until commit.
"""

import datetime
import secrets
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import CASE_ROLES, Agency, Membership, Sector
from audit.models import AuditAction
from audit.services import audit_record
from config.exceptions import NotFound
from permissions.categories import GENERAL, CaseRight, DataCategory

from . import events, signals
from .crypto import phone_search_hash
from .inputs import (
    CASE_UPDATE_FIELDS,
    CONTACT_FIELDS,
    IDENTITY_FIELDS,
    TEXT_LIMITS,
    FieldErrors,
    clean_action,
    clean_bool,
    clean_consent,
    clean_datetime,
    clean_incident,
    clean_phone,
    clean_responsible,
    clean_risk_level,
    clean_survivor,
    clean_text,
    reject_unknown,
)
from .models import (
    CASE_STATUS_MACHINE,
    Action,
    Case,
    CaseNumberSequence,
    CaseStatus,
    Consent,
    Incident,
    IncidentTechForm,
    Survivor,
)
from .selectors import CaseAccess, case_get_for_user, case_list_visible_to
from .sharing import case_permissions_sync

# The timeline is built in cases/timeline.py; importable from here with the other case functions.
from .timeline import TimelineEntry, case_timeline  # noqa: F401
from .transitions import TransitionNotAllowed

PSEUDONYM_PREFIX = "NC-"
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


# --- Helpers -------------------------------------------------------------------------------------


def _require(access: CaseAccess, right: str) -> None:
    if not access.can(right):
        raise PermissionDenied


def _acting_agency(access: CaseAccess) -> Agency:
    """Writes are made on behalf of an agency; time-limited personal access (break-glass) reads only.
    A person of several agencies who has not chosen the one they act for is asked to (400)."""
    return access.acting_agency()


def _touch(case: Case, now: datetime.datetime) -> None:
    """Lists order by updated_at, so anything that happens on a case moves it up."""
    Case.objects.filter(pk=case.pk).update(updated_at=now)
    case.updated_at = now


def _sensitive(categories) -> list[str]:
    return sorted(c for c in set(categories) if c != GENERAL)


def _survivor_categories(fields) -> list[str]:
    fields = set(fields)
    categories = []
    if fields & set(IDENTITY_FIELDS):
        categories.append(DataCategory.IDENTITY.value)
    if fields & set(CONTACT_FIELDS) or "phone_hash" in fields:
        categories.append(DataCategory.CONTACT.value)
    return categories


def pseudonym_generate() -> str:
    """A survivor's working name, "NC-" and 6 base32 characters: about a billion possibilities,
    drawn until unused (the unique constraint catches a race)."""
    while True:
        pseudonym = PSEUDONYM_PREFIX + "".join(secrets.choice(_BASE32) for _ in range(6))
        if not Survivor.objects.filter(pseudonym=pseudonym).exists():
            return pseudonym


def case_number_next(*, province, year: int) -> str:
    """The next "<abbreviation>-<year>-<6 digits>" of a province and year. The sequence row stays
    locked until the caller's transaction ends, so concurrent opens take turns and never share a
    number; a rolled-back open gives its number back."""
    sequence, _created = CaseNumberSequence.objects.select_for_update().get_or_create(province=province, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{province.abbreviation}-{year}-{sequence.last:06d}"


def _incident_create(*, case: Case, values: dict, actor, agency: Agency, now) -> Incident:
    tech_forms = values.pop("tech_forms")
    incident = Incident.objects.create(case=case, recorded_by=actor, recorded_by_agency=agency, created_at=now,
                                       **values)
    IncidentTechForm.objects.bulk_create([IncidentTechForm(incident=incident, form=form) for form in tech_forms])
    events.incident_recorded(incident=incident, actor=actor, agency=agency, at=now, tech_forms=tech_forms)
    return incident


def _consent_conflicts(*, case: Case, values: dict, now: datetime.datetime) -> list[str]:
    """Categories the new record would share that a record in force refuses to the same
    recipient (the agency itself or its whole sector). The policy would not grant them anyway;
    refusing the record says so instead of storing a share that never happens."""
    granted = set(values["granted_categories"])
    if not granted:
        return []
    agency = values["receiving_agency"]
    covering = Q(receiving_sector=values["receiving_sector"]) if agency is None else (
        Q(receiving_agency=agency) | Q(receiving_sector=agency.sector)
    )
    refused: set[str] = set()
    for categories in Consent.objects.in_force(now).filter(covering, case=case).values_list("refused_categories",
                                                                                          flat=True):
        refused |= set(categories)
    return sorted(granted & refused)


def _consent_create(*, case: Case, values: dict, actor, agency: Agency, now) -> Consent:
    consent = Consent.objects.create(case=case, recorded_by=actor, recorded_by_agency=agency, recorded_at=now,
                                     **values)
    events.consent_recorded(consent=consent, actor=actor, agency=agency, at=now)
    return consent


def _consent_audit(*, consent: Consent, actor, agency: Agency) -> None:
    override = consent.emergency_override
    audit_record(
        actor=actor, action=AuditAction.CONSENT_OVERRIDE if override else AuditAction.SHARE,
        case_id=consent.case_id, agency_id=agency.pk, categories=consent.granted_categories,
        target=f"consent:{consent.pk}",
        details={"recipient_agency_id": consent.receiving_agency_id, "recipient_sector": consent.receiving_sector,
                 "refused": consent.refused_categories, "given_by": consent.given_by},
    )


# --- Cases ---------------------------------------------------------------------------------------


@transaction.atomic
def case_open(
    *,
    actor,
    agency: Agency,
    survivor: dict,
    incident: dict,
    consent: dict | None,
    risk_level: str,
    statistics_consent: bool = True,
    opened_at: datetime.datetime | None = None,
) -> Case:
    """Open a case: survivor, first incident and (optionally) the initial consent. The actor's
    agency leads it and the actor is responsible for it.

    `opened_at` records a case first handled on paper (offline, at night); the audit event keeps
    the real time of entry."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active or not Membership.objects.filter(
        user=actor, agency=agency, agency__active=True, role__in=CASE_ROLES
    ).exists():
        raise PermissionDenied
    now = timezone.now()
    today = timezone.localdate(now)
    errors = FieldErrors()
    if opened_at is not None:
        opened_at = errors.clean("opened_at", opened_at, clean_datetime)
        if opened_at is not None and opened_at > now:
            errors.add("opened_at", _("The time cannot be in the future."))
    opened_at = opened_at or now
    opened_on = timezone.localdate(opened_at)
    risk_level = errors.clean("risk_level", risk_level, clean_risk_level)
    statistics_consent = errors.clean("statistics_consent", statistics_consent, clean_bool)
    survivor_values = clean_survivor(survivor, errors=errors.nested("survivor."), today=today)
    incident_values = clean_incident(incident, errors=errors.nested("incident."), today=today,
                                     birth_year=survivor_values.get("birth_year"), default_reported_on=opened_on)
    if incident_values.get("reported_on") and incident_values["reported_on"] > opened_on:
        errors.add("incident.reported_on", _("The case cannot be opened before the incident was reported."))
    consent_values = None
    if consent is not None:
        age = Survivor(birth_year=survivor_values.get("birth_year")).age_on(today)
        consent_values = clean_consent(consent, errors=errors.nested("consent."), age=age,
                                       lead_agency_id=agency.pk, now=now)
    errors.raise_if_any()

    survivor_row = Survivor.objects.create(pseudonym=pseudonym_generate(), **survivor_values)
    case = Case.objects.create(
        number=case_number_next(province=agency.province, year=opened_on.year),
        province=agency.province, survivor=survivor_row, lead_agency=agency, responsible=actor,
        risk_level=risk_level, statistics_consent=statistics_consent, created_at=opened_at,
    )
    events.case_opened(case=case, actor=actor, agency=agency, at=opened_at)
    _incident_create(case=case, values=incident_values, actor=actor, agency=agency, now=opened_at)
    consent_row = None
    if consent_values is not None:
        consent_row = _consent_create(case=case, values=consent_values, actor=actor, agency=agency, now=opened_at)
    case_permissions_sync(case=case)
    signals.case_opened.send(sender=Case, case=case, opened_at=opened_at)

    entered = [field for field, value in survivor_values.items() if value]
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=case.pk, agency_id=agency.pk,
                 categories=_survivor_categories(entered), target=f"case:{case.pk}",
                 details={"number": case.number, "opened_at": opened_at.isoformat()})
    if consent_row is not None:
        _consent_audit(consent=consent_row, actor=actor, agency=agency)
    return case


def case_view(*, user: User, case_id: int) -> CaseAccess:
    """The case for `user` (as case_get_for_user), with one audit event naming the categories shown.
    The event commits before the caller renders anything, so a later failure cannot erase it."""
    with transaction.atomic():
        access = case_get_for_user(user=user, case_id=case_id)
        audit_record(actor=user, action=AuditAction.VIEW, case_id=access.case.pk,
                     agency_id=access.agency.pk if access.agency else None,
                     categories=_sensitive(access.categories), target=f"case:{access.case.pk}")
    return access


def case_list_audit(*, user: User, case_ids: list[int]) -> None:
    """One event for one page of a case list, naming the cases shown."""
    ids = list(case_ids)
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValueError("case_ids must be integers")
    with transaction.atomic():
        audit_record(actor=user, action=AuditAction.LIST, target="cases", details={"case_ids": ids})


@transaction.atomic
def case_update(*, access: CaseAccess, actor, data: dict) -> Case:
    """Risk level, responsible person and statistics consent. Only what changes is written."""
    _require(access, CaseRight.CHANGE)
    agency = _acting_agency(access)
    errors = FieldErrors()
    data = reject_unknown(data, CASE_UPDATE_FIELDS, errors)
    # of=self: the responsible person is an outer join, which PostgreSQL cannot lock.
    case = (Case.objects.select_for_update(of=("self",)).select_related("lead_agency", "responsible")
            .get(pk=access.case.pk))
    values: dict[str, Any] = {}
    if "risk_level" in data:
        values["risk_level"] = errors.clean("risk_level", data["risk_level"], clean_risk_level)
    if "statistics_consent" in data:
        values["statistics_consent"] = errors.clean("statistics_consent", data["statistics_consent"], clean_bool)
    if "responsible" in data:
        values["responsible"] = errors.clean("responsible", data["responsible"], clean_responsible,
                                             agency=case.lead_agency)
    errors.raise_if_any()

    changes: dict[str, list] = {}
    for field, value in values.items():
        old = getattr(case, field)
        if old == value:
            continue
        if field == "responsible":
            changes[field] = [events.person_ref(old), events.person_ref(value)]
        else:
            changes[field] = [old, value]
        setattr(case, field, value)
    if not changes:
        return case
    now = timezone.now()
    case.updated_at = now
    case.save(update_fields=[*changes, "updated_at"])
    events.case_updated(case=case, actor=actor, agency=agency, at=now, changes=changes)
    audit_record(actor=actor, action=AuditAction.CHANGE, case_id=case.pk, agency_id=agency.pk,
                 target=f"case:{case.pk}", details={"fields": sorted(changes)})
    return case


@transaction.atomic
def case_change_status(*, access: CaseAccess, actor, status: str, close_reason: str | None = None) -> Case:
    """Move the case along CASE_STATUS_MACHINE; closing and reopening need close_case. Closing needs a
    written reason, kept (encrypted) on the case until it is reopened and closed again."""
    _require(access, CaseRight.CHANGE)
    agency = _acting_agency(access)
    if not isinstance(status, str) or status not in CaseStatus.values:
        raise ValidationError({"status": [_("“%(value)s” is not one of the choices.") % {"value": str(status)[:50]}]})
    # The rights of the actions that lead to this status (closing and reopening need close_case).
    for right in {t.right for t in CASE_STATUS_MACHINE.transitions if status in t.targets}:
        _require(access, right)
    case = Case.objects.select_for_update().get(pk=access.case.pk)
    old = case.status
    if CASE_STATUS_MACHINE.action_to(old, status) is None:
        raise TransitionNotAllowed({"status": [_("A case cannot go from %(old)s to %(new)s.") % {
            "old": CaseStatus(old).label, "new": CaseStatus(status).label}]})
    if status == CaseStatus.CLOSED:
        errors = FieldErrors()
        close_reason = errors.clean("close_reason", close_reason, clean_text, max_length=TEXT_LIMITS["close_reason"],
                                    required=True)
        errors.raise_if_any()
    elif close_reason not in (None, ""):
        raise ValidationError({"close_reason": [_("A reason is given only when closing the case.")]})
    now = timezone.now()
    case.status = status
    if status == CaseStatus.CLOSED:
        case.closed_at, case.close_reason = now, close_reason
    elif status == CaseStatus.REOPENED:
        case.closed_at = None
    case.updated_at = now
    case.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    events.status_changed(case=case, actor=actor, agency=agency, at=now, old=old, new=status)
    if status == CaseStatus.CLOSED:
        signals.case_closed.send(sender=Case, case=case, actor=actor, agency=agency, at=now)
    audit_record(actor=actor, action=AuditAction.CHANGE, case_id=case.pk, agency_id=agency.pk,
                 target=f"case:{case.pk}", details={"status": [old, status]})
    return case


# --- Survivor, incidents, actions ----------------------------------------------------------------


@transaction.atomic(durable=True)
def survivor_update(*, access: CaseAccess, actor, data: dict) -> Survivor:
    """Change survivor fields. Identity fields need the identity category and contact fields the
    contact category: nobody overwrites what they may not read."""
    _require(access, CaseRight.CHANGE)
    agency = _acting_agency(access)
    if isinstance(data, dict):
        for category in _survivor_categories(data):
            if not access.writes(category):
                raise PermissionDenied
    today = timezone.localdate()
    errors = FieldErrors()
    values = clean_survivor(data, errors=errors, today=today, partial=True)
    # With its data key: the changed fields are sealed with it (no query more).
    survivor = Survivor.objects.select_for_update(of=("self",)).select_related("data_key").get(
        pk=access.case.survivor_id)
    birth_year = values.get("birth_year")
    if birth_year:
        first = Incident.objects.filter(case_id=access.case.pk, occurred_on__isnull=False).order_by(
            "occurred_on").values_list("occurred_on", flat=True).first()
        if first and first.year < birth_year:
            errors.add("birth_year", _("An incident of this case happened before that year."))
    errors.raise_if_any()

    changed = [field for field, value in values.items() if getattr(survivor, field) != value]
    if not changed:
        return survivor
    for field in changed:
        setattr(survivor, field, values[field])
    survivor.save(update_fields=changed)
    now = timezone.now()
    visible_fields = [f for f in changed if f != "phone_hash"]
    groups = {
        DataCategory.IDENTITY.value: [f for f in visible_fields if f in IDENTITY_FIELDS],
        DataCategory.CONTACT.value: [f for f in visible_fields if f in CONTACT_FIELDS],
        GENERAL: [f for f in visible_fields if f not in IDENTITY_FIELDS + CONTACT_FIELDS],
    }
    for category, fields in groups.items():
        if fields:
            events.survivor_updated(case=access.case, actor=actor, agency=agency, at=now, category=category,
                                    fields=fields)
    _touch(access.case, now)
    audit_record(actor=actor, action=AuditAction.CHANGE, case_id=access.case.pk, agency_id=agency.pk,
                 categories=_survivor_categories(changed), target=f"survivor:{survivor.pk}",
                 details={"fields": sorted(visible_fields)})
    return survivor


@transaction.atomic(durable=True)
def incident_record(*, access: CaseAccess, actor, data: dict) -> Incident:
    """Another incident of the same survivor, classified by the GBVIMS questions in data["answers"]."""
    _require(access, CaseRight.CHANGE)
    agency = _acting_agency(access)
    errors = FieldErrors()
    values = clean_incident(data, errors=errors, today=timezone.localdate(),
                            birth_year=access.case.survivor.birth_year)
    errors.raise_if_any()
    now = timezone.now()
    incident = _incident_create(case=access.case, values=values, actor=actor, agency=agency, now=now)
    _touch(access.case, now)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=access.case.pk, agency_id=agency.pk,
                 target=f"incident:{incident.pk}", details={"gbv_type": incident.gbv_type})
    # In this transaction: the risk app makes a review of the case's assessment due.
    signals.incident_recorded.send(sender=Incident, incident=incident, actor=actor, agency=agency, at=now)
    return incident


@transaction.atomic
def action_log(*, access: CaseAccess, actor, data: dict) -> Action:
    """Record what a responder did. The category defaults by type; nobody writes into a category
    they cannot read."""
    _require(access, CaseRight.LOG_ACTION)
    agency = _acting_agency(access)
    now = timezone.now()
    errors = FieldErrors()
    values = clean_action(data, errors=errors, now=now)
    if values.get("category") and not errors.has("category") and not access.writes(values["category"]):
        errors.add("category", _("Your agency cannot see this data category, so it cannot log in it."))
    errors.raise_if_any()
    action = Action.objects.create(case=access.case, actor=actor, agency=agency, created_at=now, **values)
    events.action_logged(action=action)
    _touch(access.case, now)
    signals.action_logged.send(sender=Case, case=access.case, action=action)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=access.case.pk, agency_id=agency.pk,
                 categories=_sensitive([action.category]), target=f"action:{action.pk}",
                 details={"type": action.type})
    return action


# --- Consent -------------------------------------------------------------------------------------


@transaction.atomic
def consent_record(*, access: CaseAccess, actor, data: dict) -> Consent:
    """Record the survivor's decision about sharing with an agency or a sector, and apply it."""
    _require(access, CaseRight.MANAGE_SHARING)
    agency = _acting_agency(access)
    # Consent changes of one case take turns, so the refusal check below sees every record in force.
    case = Case.objects.select_for_update(of=("self",)).select_related("survivor").get(pk=access.case.pk)
    now = timezone.now()
    errors = FieldErrors()
    values = clean_consent(data, errors=errors, age=case.survivor.age_on(timezone.localdate(now)),
                           lead_agency_id=case.lead_agency_id, now=now)
    errors.raise_if_any()
    conflicts = _consent_conflicts(case=case, values=values, now=now)
    if conflicts:
        raise ValidationError({"granted_categories": [
            _("The survivor refused to share %(categories)s with this recipient; withdraw that refusal first.")
            % {"categories": ", ".join(str(DataCategory(c).label) for c in conflicts)}
        ]})
    consent = _consent_create(case=case, values=values, actor=actor, agency=agency, now=now)
    case_permissions_sync(case=case)
    _touch(case, now)
    _consent_audit(consent=consent, actor=actor, agency=agency)
    return consent


CONSENT_MANY_LIMIT = 20


@transaction.atomic(durable=True)
def consent_record_many(*, access: CaseAccess, actor, recipients: list, data: dict) -> list[Consent]:
    """One decision of the survivor for several recipients at once, as in the referral form: the
    same categories shared and refused, purpose and giver for each agency (`{"receiving_agency": id}`)
    and each whole sector (`{"receiving_sector": code}`) chosen. The consent model keeps one
    recipient per record, so this records one consent per recipient, all or none, with the same
    checks as consent_record (child rules, refusals in force). No emergency override here: that is
    the handoff's own, with its reason."""
    _require(access, CaseRight.MANAGE_SHARING)
    agency = _acting_agency(access)
    case = Case.objects.select_for_update(of=("self",)).select_related("survivor").get(pk=access.case.pk)
    now = timezone.now()
    errors = FieldErrors()
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Send an object.")]})
    if any(key in data for key in ("receiving_agency", "receiving_sector", "emergency_override", "override_reason")):
        raise ValidationError({"recipients": [_("Name the recipients in the list of recipients.")]})
    if not isinstance(recipients, list) or not recipients:
        raise ValidationError({"recipients": [_("Choose at least one agency or sector.")]})
    if len(recipients) > CONSENT_MANY_LIMIT:
        raise ValidationError({"recipients": [
            _("Choose at most %(n)d recipients at once.") % {"n": CONSENT_MANY_LIMIT}]})
    age = case.survivor.age_on(timezone.localdate(now))
    all_values, seen = [], set()
    for recipient in recipients:
        if not isinstance(recipient, dict) or set(recipient) - {"receiving_agency", "receiving_sector"}:
            raise ValidationError({"recipients": [_("Each recipient is an agency or a sector.")]})
        one = FieldErrors()
        values = clean_consent({**data, **recipient}, errors=one, age=age, lead_agency_id=case.lead_agency_id,
                               now=now)
        for key, messages in one.messages.items():
            target = "recipients" if key in ("receiving_agency", "receiving_sector") else key
            for message in messages:
                if message not in errors.messages.get(target, []):
                    errors.add(target, message)
        if one.messages:
            continue
        key = (values["receiving_agency"].pk if values["receiving_agency"] else None, values["receiving_sector"])
        if key in seen:
            continue
        seen.add(key)
        conflicts = _consent_conflicts(case=case, values=values, now=now)
        if conflicts:
            name = values["receiving_agency"].name if values["receiving_agency"] else str(
                Sector(values["receiving_sector"]).label)
            errors.add("granted_categories", _(
                "The survivor refused to share %(categories)s with %(recipient)s; withdraw that refusal first.")
                % {"categories": ", ".join(str(DataCategory(c).label) for c in conflicts), "recipient": name})
        all_values.append(values)
    errors.raise_if_any()
    consents = [_consent_create(case=case, values=values, actor=actor, agency=agency, now=now) for values in all_values]
    case_permissions_sync(case=case)
    _touch(case, now)
    for consent in consents:
        _consent_audit(consent=consent, actor=actor, agency=agency)
    return consents


@transaction.atomic
def consent_withdraw(*, access: CaseAccess, actor, consent_id: int, reason: str) -> Consent:
    """Withdraw a consent; the rights it gave end in this transaction. The survivor owes no reason,
    so `reason` may be empty."""
    _require(access, CaseRight.MANAGE_SHARING)
    agency = _acting_agency(access)
    case = Case.objects.select_for_update().get(pk=access.case.pk)
    if isinstance(consent_id, bool) or not isinstance(consent_id, int):
        raise NotFound
    consent = Consent.objects.select_for_update().filter(case=case, pk=consent_id).first()
    if consent is None:
        raise NotFound
    errors = FieldErrors()
    reason = errors.clean("reason", reason, clean_text, max_length=TEXT_LIMITS["withdrawal_reason"])
    now = timezone.now()
    if consent.withdrawn_at is not None:
        errors.add("consent_id", _("This consent was already withdrawn."))
    elif not consent.is_in_force(now):
        errors.add("consent_id", _("This consent has already expired."))
    errors.raise_if_any()
    consent.withdrawn_at, consent.withdrawn_by, consent.withdrawal_reason = now, actor, reason
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    case_permissions_sync(case=case)
    events.consent_withdrawn(consent=consent, actor=actor, agency=agency, at=now)
    _touch(case, now)
    audit_record(actor=actor, action=AuditAction.REVOKE, case_id=case.pk, agency_id=agency.pk,
                 categories=consent.granted_categories, target=f"consent:{consent.pk}")
    return consent


# --- Duplicate search ----------------------------------------------------------------------------


def survivor_find_by_phone(*, user: User, phone: str) -> list[Case]:
    """Cases whose survivor has this phone number (however it is written), among those the user
    sees with the contact category: finding a case by number reveals contact data. The search
    itself is audited, without the number."""
    errors = FieldErrors()
    phone = errors.clean("phone", phone, clean_phone)
    if not errors.has("phone") and not phone:
        errors.add("phone", _("This field is required."))
    errors.raise_if_any()
    candidates = case_list_visible_to(user=user).filter(survivor__phone_hash=phone_search_hash(phone))
    found = []
    for case in candidates:
        # Exact matches are few; deciding each through the one access helper keeps the rule in one place.
        if case_get_for_user(user=user, case_id=case.pk).sees(DataCategory.CONTACT):
            found.append(case)
    with transaction.atomic():
        audit_record(actor=user, action=AuditAction.SEARCH, categories=[DataCategory.CONTACT.value],
                     target="survivor:phone", details={"case_ids": [c.pk for c in found]})
    return found
