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

from agencies.models import CASE_ROLES, Agency, Membership, Role, Sector
from audit.carried import audit_record_read
from audit.models import AuditAction
from audit.services import audit_record
from config.exceptions import NotFound
from encryption.crypto import phone_search_hash
from permissions.categories import GENERAL, CaseRight, DataCategory

from . import events, signals
from .combined_writes import action_with_line_write
from .models import (
    CASE_STATUS_MACHINE,
    CHILD_AGE,
    CHILD_CONSENT_AGE,
    Action,
    Case,
    CaseNumberSequence,
    CaseStatus,
    Consent,
    ConsentGiver,
    Incident,
    IncidentTechForm,
    RiskLevel,
    Survivor,
)
from .risk_floor import risk_level_below, risk_level_floor
from .selectors import CaseAccess, case_get_for_page, case_get_for_user, case_list_visible_to
from .serializers import ACTION_DEFAULT_CATEGORY, SURVIVOR_FIELDS_BY_CATEGORY
from .sharing import case_permissions_sync

# The timeline is built in cases/timeline.py; importable from here with the other case functions.
from .timeline import TimelineEntry, case_timeline  # noqa: F401
from .transitions import TransitionNotAllowed

IDENTITY_FIELDS = SURVIVOR_FIELDS_BY_CATEGORY[DataCategory.IDENTITY]
CONTACT_FIELDS = SURVIVOR_FIELDS_BY_CATEGORY[DataCategory.CONTACT]
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


def _prefixed(prefix: str, messages: dict[str, list[str]]) -> dict[str, list[str]]:
    return {f"{prefix}{key}": value for key, value in messages.items()}


def _with_phone_hash(survivor: dict) -> dict:
    """The survivor's values with the search hash of the phone number, when it is given."""
    if "phone" in survivor:
        return {**survivor, "phone_hash": phone_search_hash(survivor["phone"])}
    return survivor


def incident_rules_check(incident: dict, *, birth_year: int | None) -> dict[str, list[str]]:
    """What the survivor's record says about a (validated) incident: field messages, none when it fits."""
    occurred_on = incident.get("occurred_on")
    if occurred_on and birth_year and occurred_on.year < birth_year:
        return {"occurred_on": [_("The incident date is before the survivor's birth year.")]}
    return {}


def allowed_givers(*, age: int | None) -> frozenset[str]:
    """Who may give consent for a survivor of this age (Law on Children 102/2016/QH13 Art. 6 and
    Decree 56/2017: from 7 the child consents together with a parent or guardian; from 16 alone)."""
    if age is None:
        return frozenset(ConsentGiver.values)
    if age < CHILD_CONSENT_AGE:
        return frozenset({ConsentGiver.GUARDIAN})
    if age < CHILD_AGE:
        return frozenset({ConsentGiver.SURVIVOR_AND_GUARDIAN})
    return frozenset({ConsentGiver.SURVIVOR})


def consent_rules_check(consent: dict, *, age: int | None, lead_agency_id: int) -> dict[str, list[str]]:
    """The domain's rules for a (validated) consent record: the child rules for the survivor's age (the
    youngest age they can have), and no consent to the lead agency. An emergency override shares
    without consent, so the child rules do not apply to it."""
    errors: dict[str, list[str]] = {}
    agency = consent.get("receiving_agency")
    if agency is not None and agency.pk == lead_agency_id:
        errors["receiving_agency"] = [_("This agency leads the case and already sees all of it.")]
    given_by = consent["given_by"]
    if not consent.get("emergency_override") and given_by not in allowed_givers(age=age):
        if age is not None and age < CHILD_CONSENT_AGE:
            errors["given_by"] = [_("For a child under 7, a parent or guardian gives consent.")]
        elif age is not None and age < CHILD_AGE:
            errors["given_by"] = [_("A child aged 7 to 15 consents together with a parent or guardian.")]
        else:
            errors["given_by"] = [_("From the age of 16 the survivor consents for themselves.")]
    return errors


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


def _incident_create(*, case: Case, values: dict, actor: User, agency: Agency, now) -> Incident:
    values = dict(values)
    tech_forms = values.pop("tech_forms", [])
    incident = Incident.objects.create(case=case, recorded_by=actor, recorded_by_agency=agency, created_at=now,
                                       **values)
    IncidentTechForm.objects.bulk_create([IncidentTechForm(incident=incident, form=form) for form in tech_forms])
    events.incident_recorded(incident=incident, actor=actor, agency=agency, at=now, tech_forms=tech_forms)
    return incident


def _consent_conflicts(*, case: Case, values: dict, now: datetime.datetime) -> list[str]:
    """Categories the new record would share that a record in force refuses to the same
    recipient (the agency itself or its whole sector). The policy would not grant them anyway;
    refusing the record says so instead of storing a share that never happens."""
    granted = set(values.get("granted_categories") or [])
    if not granted:
        return []
    agency = values.get("receiving_agency")
    covering = Q(receiving_sector=values.get("receiving_sector", "")) if agency is None else (
        Q(receiving_agency=agency) | Q(receiving_sector=agency.sector)
    )
    refused: set[str] = set()
    for categories in Consent.objects.in_force(now).filter(covering, case=case).values_list("refused_categories",
                                                                                          flat=True):
        refused |= set(categories)
    return sorted(granted & refused)


def _consent_create(*, case: Case, values: dict, actor: User, agency: Agency, now) -> Consent:
    # An emergency override shares without consent: a supervisor reviews it.
    consent = Consent.objects.create(case=case, recorded_by=actor, recorded_by_agency=agency, recorded_at=now,
                                     needs_review=bool(values.get("emergency_override")), **values)
    events.consent_recorded(consent=consent, actor=actor, agency=agency, at=now)
    return consent


def _consent_audit(*, consent: Consent, actor: User, agency: Agency) -> None:
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
    actor: User,
    agency: Agency,
    survivor: dict,
    incident: dict,
    consent: dict | None,
    risk_level: str,
    statistics_consent: bool = True,
    opened_at: datetime.datetime | None = None,
) -> Case:
    """Open a case: survivor, first incident and (optionally) the initial consent. The actor's
    agency leads it and the actor is responsible for it. `survivor`, `incident` and `consent` are the
    validated values of cases.serializers.CaseOpenInputSerializer's parts.

    `opened_at` records a case first handled on paper (offline, at night); the audit event keeps
    the real time of entry."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active or not Membership.objects.filter(
        user=actor, agency=agency, agency__active=True, role__in=CASE_ROLES
    ).exists():
        raise PermissionDenied
    now = timezone.now()
    today = timezone.localdate(now)
    errors: dict[str, list[str]] = {}
    if opened_at is not None and opened_at > now:
        errors["opened_at"] = [_("The time cannot be in the future.")]
    opened_at = opened_at or now
    opened_on = timezone.localdate(opened_at)
    survivor_values = _with_phone_hash(survivor)
    incident_values = dict(incident, reported_on=incident.get("reported_on") or opened_on)
    errors.update(_prefixed("incident.", incident_rules_check(incident_values,
                                                              birth_year=survivor_values.get("birth_year"))))
    if incident_values["reported_on"] > opened_on:
        errors.setdefault("incident.reported_on", []).append(
            _("The case cannot be opened before the incident was reported."))
    if consent is not None:
        age = Survivor(birth_year=survivor_values.get("birth_year")).age_on(today)
        errors.update(_prefixed("consent.", consent_rules_check(consent, age=age, lead_agency_id=agency.pk)))
    if errors:
        raise ValidationError(errors)

    survivor_row = Survivor.objects.create(pseudonym=pseudonym_generate(), **survivor_values)
    case = Case.objects.create(
        number=case_number_next(province=agency.province, year=opened_on.year),
        province=agency.province, survivor=survivor_row, lead_agency=agency, responsible=actor,
        risk_level=risk_level, statistics_consent=statistics_consent, created_at=opened_at,
    )
    events.case_opened(case=case, actor=actor, agency=agency, at=opened_at)
    _incident_create(case=case, values=incident_values, actor=actor, agency=agency, now=opened_at)
    consent_row = None
    if consent is not None:
        consent_row = _consent_create(case=case, values=consent, actor=actor, agency=agency, now=opened_at)
    case_permissions_sync(case=case)
    signals.case_opened.send(sender=Case, case=case, opened_at=opened_at)

    entered = [field for field, value in survivor_values.items() if value]
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=case.pk, agency_id=agency.pk,
                 categories=_survivor_categories(entered), target=f"case:{case.pk}",
                 details={"number": case.number, "opened_at": opened_at.isoformat()})
    if consent_row is not None:
        _consent_audit(consent=consent_row, actor=actor, agency=agency)
    return case


def case_view(*, user: User, case_id: int, page: bool = False) -> CaseAccess:
    """The case for `user` (as case_get_for_user; with `page`, as case_get_for_page: with what the case
    page reads of it), with one audit event naming the categories shown.
    The event commits before the caller renders anything, so a later failure cannot erase it: in a web
    request outside a transaction it goes with the request's next SELECT (the incidents, the timeline:
    audit.carried), else it is one INSERT committed on its own (no BEGIN and COMMIT around reads that write
    nothing); inside the caller's transaction, it commits with it."""
    access = (case_get_for_page if page else case_get_for_user)(user=user, case_id=case_id)
    audit_record_read(actor=user, action=AuditAction.VIEW, case_id=access.case.pk,
                      agency_id=access.agency.pk if access.agency else None,
                      categories=_sensitive(access.categories), target=f"case:{access.case.pk}")
    return access


def case_list_audit(*, user: User, case_ids: list[int]) -> None:
    """One event for one page of a case list, naming the cases shown (committed on its own when the
    caller is in no transaction: one INSERT). Not sent with a later SELECT as a case read's is
    (audit.carried): the list runs none after its page, and which of the page query's rows are shown (the
    pager's bounds, the cursor's extra row and reversed pages) is decided in Python after it."""
    ids = list(case_ids)
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValueError("case_ids must be integers")
    audit_record(actor=user, action=AuditAction.LIST, target="cases", details={"case_ids": ids})


@transaction.atomic
def case_update(*, access: CaseAccess, actor: User, data: dict) -> Case:
    """Risk level, responsible person (a user) and statistics consent, as validated by
    cases.serializers.CaseUpdateInputSerializer. Only what changes is written."""
    _require(access, CaseRight.CHANGE)
    agency = _acting_agency(access)
    # of=self: the responsible person is an outer join, which PostgreSQL cannot lock.
    case = (Case.objects.select_for_update(of=("self",)).select_related("lead_agency", "responsible")
            .get(pk=access.case.pk))
    values: dict[str, Any] = {key: data[key] for key in ("risk_level", "statistics_consent", "responsible")
                              if key in data}
    # Only a responder or supervisor of the lead agency holds the case's rights.
    if "responsible" in values and not Membership.objects.filter(
        user=values["responsible"], agency=case.lead_agency, role__in=(Role.RESPONDER, Role.SUPERVISOR)
    ).exists():
        raise ValidationError({"responsible": [
            _("The responsible person must be a responder or supervisor of the lead agency.")]})
    if values.get("risk_level") and values["risk_level"] != case.risk_level:
        floor = risk_level_floor(case.pk)
        if floor and risk_level_below(values["risk_level"], floor):
            raise ValidationError({"risk_level": [
                _("The latest risk assessment gives %(level)s: the level cannot be set lower. Record a new "
                  "assessment instead.") % {"level": RiskLevel(floor).label}]})

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
def case_change_status(*, access: CaseAccess, actor: User, status: str, close_reason: str | None = None) -> Case:
    """Move the case along CASE_STATUS_MACHINE; closing and reopening need close_case. Closing needs a
    written reason, kept (encrypted) on the case until it is reopened and closed again."""
    _require(access, CaseRight.CHANGE)
    agency = _acting_agency(access)
    # The rights of the actions that lead to this status (closing and reopening need close_case).
    for right in {t.right for t in CASE_STATUS_MACHINE.transitions if status in t.targets}:
        _require(access, right)
    case = Case.objects.select_for_update().get(pk=access.case.pk)
    old = case.status
    if CASE_STATUS_MACHINE.action_to(old, status) is None:
        raise TransitionNotAllowed({"status": [_("A case cannot go from %(old)s to %(new)s.") % {
            "old": CaseStatus(old).label, "new": CaseStatus(status).label}]})
    if status == CaseStatus.CLOSED:
        close_reason = (close_reason or "").strip()
        if not close_reason:
            raise ValidationError({"close_reason": [_("This field is required.")]})
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
    elif old == CaseStatus.CLOSED:
        signals.case_reopened.send(sender=Case, case=case, actor=actor, agency=agency, at=now)
    audit_record(actor=actor, action=AuditAction.CHANGE, case_id=case.pk, agency_id=agency.pk,
                 target=f"case:{case.pk}", details={"status": [old, status]})
    return case


# --- Survivor, incidents, actions ----------------------------------------------------------------


@transaction.atomic(durable=True)
def survivor_update(*, access: CaseAccess, actor: User, data: dict) -> Survivor:
    """Change survivor fields (the validated values of cases.serializers.SurvivorInputSerializer with
    partial=True). Identity fields need the identity category and contact fields the contact
    category: nobody overwrites what they may not read."""
    _require(access, CaseRight.CHANGE)
    agency = _acting_agency(access)
    for category in _survivor_categories(data):
        if not access.writes(category):
            raise PermissionDenied
    values = _with_phone_hash(data)
    # With its data key: the changed fields are sealed with it (no query more).
    survivor = Survivor.objects.select_for_update(of=("self",)).select_related("data_key").get(
        pk=access.case.survivor_id)
    birth_year = values.get("birth_year")
    if birth_year:
        first = Incident.objects.filter(case_id=access.case.pk, occurred_on__isnull=False).order_by(
            "occurred_on").values_list("occurred_on", flat=True).first()
        if first and first.year < birth_year:
            raise ValidationError({"birth_year": [_("An incident of this case happened before that year.")]})

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
def incident_record(*, access: CaseAccess, actor: User, data: dict) -> Incident:
    """Another incident of the same survivor: the validated values of
    cases.serializers.IncidentInputSerializer, classified there by the GBVIMS questions."""
    _require(access, CaseRight.CHANGE)
    agency = _acting_agency(access)
    errors = incident_rules_check(data, birth_year=access.case.survivor.birth_year)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    incident = _incident_create(case=access.case, values=data, actor=actor, agency=agency, now=now)
    _touch(access.case, now)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=access.case.pk, agency_id=agency.pk,
                 target=f"incident:{incident.pk}", details={"gbv_type": incident.gbv_type})
    # In this transaction: the risk app makes a review of the case's assessment due.
    signals.incident_recorded.send(sender=Incident, incident=incident, actor=actor, agency=agency, at=now)
    return incident


@transaction.atomic
def action_log(*, access: CaseAccess, actor: User, data: dict) -> Action:
    """Record what a responder did (the validated values of cases.serializers.ActionLogInputSerializer).
    The category defaults by type and the time to now; nobody writes into a category they cannot read."""
    _require(access, CaseRight.LOG_ACTION)
    agency = _acting_agency(access)
    now = timezone.now()
    category = data.get("category") or ACTION_DEFAULT_CATEGORY.get(data["type"], GENERAL)
    if not access.writes(category):
        raise ValidationError({"category": [_("Your agency cannot see this data category, so it cannot log in it.")]})
    action = Action(case=access.case, actor=actor, agency=agency, created_at=now, type=data["type"],
                    category=category, occurred_at=data.get("occurred_at") or now, text=data.get("text", ""))
    # The action, its timeline line and the case's updated_at: one statement where it can be.
    if not action_with_line_write(action=action, line=events.action_logged_unsaved(action=action),
                                  case=access.case, now=now):
        action.save(force_insert=True)
        events.action_logged(action=action)
        _touch(access.case, now)
    signals.action_logged.send(sender=Case, case=access.case, action=action)
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=access.case.pk, agency_id=agency.pk,
                 categories=_sensitive([action.category]), target=f"action:{action.pk}",
                 details={"type": action.type})
    return action


# --- Consent -------------------------------------------------------------------------------------


@transaction.atomic
def consent_record(*, access: CaseAccess, actor: User, data: dict) -> Consent:
    """Record the survivor's decision about sharing with an agency or a sector (the validated values of
    cases.serializers.ConsentInputSerializer), and apply it."""
    _require(access, CaseRight.MANAGE_SHARING)
    agency = _acting_agency(access)
    # Consent changes of one case take turns, so the refusal check below sees every record in force.
    case = Case.objects.select_for_update(of=("self",)).select_related("survivor").get(pk=access.case.pk)
    now = timezone.now()
    values = data
    errors = consent_rules_check(values, age=case.survivor.age_on(timezone.localdate(now)),
                                 lead_agency_id=case.lead_agency_id)
    if errors:
        raise ValidationError(errors)
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


@transaction.atomic(durable=True)
def consent_record_many(*, access: CaseAccess, actor: User, recipients: list, data: dict) -> list[Consent]:
    """One decision of the survivor for several recipients at once, as in the referral form: the
    same categories shared and refused, purpose and giver (`data`, validated by
    cases.serializers.ConsentManyInputSerializer) for each agency and each whole sector (a sector
    code) in `recipients`. The consent model keeps one recipient per record, so this records one
    consent per recipient, all or none, with the same checks as consent_record (child rules,
    refusals in force). No emergency override here: that is the handoff's own, with its reason."""
    _require(access, CaseRight.MANAGE_SHARING)
    agency = _acting_agency(access)
    case = Case.objects.select_for_update(of=("self",)).select_related("survivor").get(pk=access.case.pk)
    now = timezone.now()
    age = case.survivor.age_on(timezone.localdate(now))
    errors: dict[str, list[str]] = {}
    all_values = []
    for recipient in dict.fromkeys(recipients):
        values = {**data, "receiving_agency": recipient if isinstance(recipient, Agency) else None,
                  "receiving_sector": "" if isinstance(recipient, Agency) else recipient}
        for key, messages in consent_rules_check(values, age=age, lead_agency_id=case.lead_agency_id).items():
            target = "recipients" if key == "receiving_agency" else key
            errors.setdefault(target, []).extend(m for m in messages if m not in errors.get(target, []))
        conflicts = _consent_conflicts(case=case, values=values, now=now)
        if conflicts:
            name = recipient.name if isinstance(recipient, Agency) else str(Sector(recipient).label)
            errors.setdefault("granted_categories", []).append(_(
                "The survivor refused to share %(categories)s with %(recipient)s; withdraw that refusal first.")
                % {"categories": ", ".join(str(DataCategory(c).label) for c in conflicts), "recipient": name})
        all_values.append(values)
    if errors:
        raise ValidationError(errors)
    consents = [_consent_create(case=case, values=values, actor=actor, agency=agency, now=now) for values in all_values]
    case_permissions_sync(case=case)
    _touch(case, now)
    for consent in consents:
        _consent_audit(consent=consent, actor=actor, agency=agency)
    return consents


@transaction.atomic
def consent_withdraw(*, access: CaseAccess, actor: User, consent_id: int, reason: str) -> Consent:
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
    now = timezone.now()
    if consent.withdrawn_at is not None:
        raise ValidationError({"consent_id": [_("This consent was already withdrawn.")]})
    if not consent.is_in_force(now):
        raise ValidationError({"consent_id": [_("This consent has already expired.")]})
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
    """Cases whose survivor has this phone number (however it is written; checked by
    cases.serializers.PhoneSearchInputSerializer), among those the user
    sees with the contact category: finding a case by number reveals contact data. The search
    itself is audited, without the number."""
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
