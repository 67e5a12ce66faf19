"""Checking the plain dicts that forms and the API hand to the case services.

The services are the last line of defence, so they check everything themselves, whoever called
them: a bad value becomes a field message (ValidationError with a dict) before anything is
written. Keys of nested inputs are dotted ("survivor.birth_year") so that one request with
several parts gets all its messages at once.
"""

import datetime
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from agencies.models import Agency, Commune, Membership, Province, Role, Sector
from permissions.categories import ACTION_CATEGORY_CHOICES, DataCategory

from .classification import gbvims_classify, reporting_delay_bucket
from .crypto import normalize_phone, phone_search_hash
from .models import (
    CHILD_AGE,
    CHILD_CONSENT_AGE,
    ActionType,
    ConsentGiver,
    Disability,
    PerpetratorRelationship,
    RiskLevel,
    Sex,
    TechForm,
)

MAX_AGE = 120
# Clocks of phones and servers drift; an action logged "just now" must not be refused as future.
CLOCK_SKEW = datetime.timedelta(minutes=5)
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-]+$")
PHONE_DIGITS = (8, 15)

IDENTITY_FIELDS = ("full_name",)
CONTACT_FIELDS = ("phone", "address", "guardian_name", "guardian_phone")
GENERAL_SURVIVOR_FIELDS = ("sex", "birth_year", "birth_year_estimated", "age", "disability", "ethnicity")
SURVIVOR_FIELDS = IDENTITY_FIELDS + CONTACT_FIELDS + GENERAL_SURVIVOR_FIELDS
INCIDENT_FIELDS = (
    "occurred_on", "reported_on", "province", "commune", "answers", "tech_forms", "perpetrator_relationship",
)
CONSENT_FIELDS = (
    "receiving_agency", "receiving_sector", "granted_categories", "refused_categories", "purpose", "given_by",
    "guardian_relationship", "emergency_override", "override_reason", "expires_at",
)
ACTION_FIELDS = ("type", "category", "occurred_at", "text")
CASE_UPDATE_FIELDS = ("risk_level", "responsible", "statistics_consent")

TEXT_LIMITS = {
    "full_name": 200, "address": 500, "guardian_name": 200, "ethnicity": 50, "purpose": 300,
    "guardian_relationship": 100, "override_reason": 2000, "withdrawal_reason": 300, "text": 10000,
    "close_reason": 1000,
}
# What an action is about decides who may read it when the responder does not choose: a forensic
# exam is medical data, a shelter placement says where the survivor is.
ACTION_DEFAULT_CATEGORY = {
    ActionType.CONTACT: "general",
    ActionType.MEDICAL_CARE: DataCategory.MEDICAL,
    ActionType.FORENSIC_EXAM: DataCategory.MEDICAL,
    ActionType.STATEMENT_TAKEN: DataCategory.POLICE_LEGAL,
    ActionType.PROTECTION_ORDER: DataCategory.POLICE_LEGAL,
    ActionType.SHELTER_PLACEMENT: DataCategory.CONTACT,
    ActionType.COUNSELLING: DataCategory.PSYCHOSOCIAL,
    ActionType.SCHOOL_SAFETY_PLAN: DataCategory.EDUCATION,
    ActionType.TAKEDOWN_REQUESTED: DataCategory.POLICE_LEGAL,
    ActionType.REFERRAL: "general",
    ActionType.FOLLOW_UP: "general",
    ActionType.NOTE: "general",
}


class FieldErrors:
    """Collects field messages, so that a request gets every message at once."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix
        self.messages: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.messages.setdefault(f"{self.prefix}{key}", []).append(str(message))

    def nested(self, prefix: str) -> "FieldErrors":
        """Errors of one part of a larger input, collected into the same messages."""
        child = FieldErrors(f"{self.prefix}{prefix}")
        child.messages = self.messages
        return child

    def has(self, key: str) -> bool:
        return f"{self.prefix}{key}" in self.messages

    def clean(self, key: str, value: Any, cleaner: Callable[..., Any], **kwargs) -> Any:
        """The cleaned value, or None with the message recorded under `key`."""
        try:
            return cleaner(value, **kwargs)
        except ValidationError as exc:
            for message in exc.messages:
                self.add(key, message)
            return None

    def merge(self, exc: ValidationError, prefix: str) -> None:
        for key, messages in exc.message_dict.items():
            for message in messages:
                self.add(f"{prefix}{key}", message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)


def reject_unknown(data: Any, allowed: Iterable[str], errors: FieldErrors, what: str = "") -> dict:
    """The dict itself; unknown keys are refused rather than ignored, so that a caller who
    expects a field to change is told that it cannot."""
    if not isinstance(data, dict):
        errors.add(what or "non_field_errors", _("Expected an object with named fields."))
        return {}
    for key in sorted(set(data) - set(allowed), key=str):
        errors.add(str(key), _("Unknown field."))
    return data


# --- Single values ----------------------------------------------------------------------------


def clean_text(value: Any, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."))
    if "\x00" in value:
        raise ValidationError(_("The text contains a character that is not allowed."))
    value = value.strip()
    if required and not value:
        raise ValidationError(_("This field is required."))
    if len(value) > max_length:
        raise ValidationError(_("Use at most %(max)d characters (it has %(length)d).")
                              % {"max": max_length, "length": len(value)})
    return value


def clean_choice(value: Any, *, choices: Iterable[str]) -> str:
    choices = [str(c) for c in choices]
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": str(value)[:50]})
    return value


def clean_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(_("Answer yes or no."))
    return value


def clean_int(value: Any, *, minimum: int, maximum: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_("Enter a whole number."))
    if not minimum <= value <= maximum:
        raise ValidationError(_("Enter a number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum})
    return value


def clean_date(value: Any) -> datetime.date:
    if isinstance(value, str):
        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError(_("Enter a valid date (YYYY-MM-DD)."))
        return parsed
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise ValidationError(_("Enter a valid date (YYYY-MM-DD)."))
    return value


def clean_datetime(value: Any) -> datetime.datetime:
    if isinstance(value, str):
        try:
            value = parse_datetime(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime.datetime):
        raise ValidationError(_("Enter a valid date and time."))
    if timezone.is_naive(value):
        # A time typed without a zone is local time in Viet Nam.
        value = timezone.make_aware(value)
    return value


def clean_past_date(value: Any, *, today: datetime.date) -> datetime.date:
    value = clean_date(value)
    if value > today:
        raise ValidationError(_("The date cannot be in the future."))
    return value


def clean_categories(value: Any, *, allowed: Iterable[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
        raise ValidationError(_("Choose data categories from the list."))
    allowed = [str(c) for c in allowed]
    result: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            raise ValidationError(_("“%(value)s” is not a data category.") % {"value": str(item)[:50]})
        if item not in result:
            result.append(item)
    # Stored in the vocabulary's order, so equal sets are equal lists.
    return [c for c in allowed if c in result]


def clean_phone(value: Any) -> str:
    value = clean_text(value, max_length=30)
    if not value:
        return ""
    digits = normalize_phone(value)
    if not _PHONE_CHARACTERS.match(value) or not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]:
        raise ValidationError(_("Enter a phone number, such as 0912 345 678 or +84 912 345 678."))
    return value


def clean_instance(value: Any, *, model, queryset=None):
    """A model instance given as itself or as its primary key."""
    queryset = queryset if queryset is not None else model._default_manager.all()
    if isinstance(value, model):
        value = value.pk
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_("Choose one from the list."))
    instance = queryset.filter(pk=value).first()
    if instance is None:
        raise ValidationError(_("Choose one from the list."))
    return instance


def clean_province(value: Any) -> Province:
    """A Province, its primary key (int) or its code (a string: codes are digits, "01" is Hà Nội)."""
    if isinstance(value, str):
        province = Province.objects.filter(code=value.strip()).first()
        if province is None:
            raise ValidationError(_("Unknown province code."))
        return province
    return clean_instance(value, model=Province)


# --- Survivor ------------------------------------------------------------------------------------


def clean_survivor(data: Any, *, errors: FieldErrors, today: datetime.date, partial: bool = False) -> dict:
    """Model field values for a survivor; `partial` cleans only the keys present (an update)."""
    data = reject_unknown(data, SURVIVOR_FIELDS, errors)
    present = set(data) if partial else set(SURVIVOR_FIELDS)
    values: dict[str, Any] = {}
    for field in ("full_name", "address", "guardian_name", "ethnicity"):
        if field in present:
            values[field] = errors.clean(field, data.get(field), clean_text, max_length=TEXT_LIMITS[field])
    for field in ("phone", "guardian_phone"):
        if field in present:
            values[field] = errors.clean(field, data.get(field), clean_phone)
    if "phone" in values and values["phone"] is not None:
        values["phone_hash"] = phone_search_hash(values["phone"])
    if "sex" in present:
        values["sex"] = errors.clean("sex", data.get("sex", Sex.UNKNOWN), clean_choice, choices=Sex.values)
    if "disability" in present:
        values["disability"] = errors.clean(
            "disability", data.get("disability", Disability.UNKNOWN), clean_choice, choices=Disability.values
        )
    age, birth_year = data.get("age"), data.get("birth_year")
    if age is not None and birth_year is not None:
        errors.add("age", _("Give the birth year or the age, not both."))
    elif age is not None:
        age = errors.clean("age", age, clean_int, minimum=0, maximum=MAX_AGE)
        if age is not None:
            # Survivor.age_on errs young by one year; this birth year makes it return the age given.
            values["birth_year"] = today.year - age - 1
            values["birth_year_estimated"] = True
    else:
        if "birth_year" in present:
            values["birth_year"] = None if birth_year is None else errors.clean(
                "birth_year", birth_year, clean_int, minimum=today.year - MAX_AGE, maximum=today.year
            )
        if "birth_year_estimated" in present:
            values["birth_year_estimated"] = errors.clean(
                "birth_year_estimated", data.get("birth_year_estimated", False), clean_bool
            )
    return {key: value for key, value in values.items() if value is not None or key == "birth_year"}


# --- Incident ------------------------------------------------------------------------------------


def commune_valid_on(*, province: Province, code_or_commune: Any, day: datetime.date) -> Commune:
    """The commune of `province` that the code (or instance) names on `day`. Communes merge and
    are renamed, so the same code may name different units at different times."""
    validity = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    if isinstance(code_or_commune, Commune):
        commune = code_or_commune
        if commune.province_id != province.pk:
            raise ValidationError(_("This commune is not in the incident's province."))
        if not Commune.objects.filter(validity, pk=commune.pk).exists():
            raise ValidationError(_("This commune did not exist on %(day)s.") % {"day": day.isoformat()})
        return commune
    if not isinstance(code_or_commune, str) or not code_or_commune.strip():
        raise ValidationError(_("Choose a commune from the list."))
    candidates = Commune.objects.filter(code=code_or_commune.strip())
    commune = candidates.filter(validity).first()
    if commune is None:
        if candidates.exists():
            raise ValidationError(_("This commune did not exist on %(day)s.") % {"day": day.isoformat()})
        raise ValidationError(_("Unknown commune code."))
    if commune.province_id != province.pk:
        raise ValidationError(_("This commune is not in the incident's province."))
    return commune


def clean_incident(
    data: Any, *, errors: FieldErrors, today: datetime.date, birth_year: int | None,
    default_reported_on: datetime.date | None = None,
) -> dict:
    """Model field values for an incident, with its GBVIMS type and reporting delay derived, and
    the list of technology-facilitated forms under "tech_forms"."""
    data = reject_unknown(data, INCIDENT_FIELDS, errors)
    values: dict[str, Any] = {}
    occurred_on = None
    if data.get("occurred_on") not in (None, ""):
        occurred_on = errors.clean("occurred_on", data["occurred_on"], clean_past_date, today=today)
    reported_on = default_reported_on or today
    if data.get("reported_on") not in (None, ""):
        reported_on = errors.clean("reported_on", data["reported_on"], clean_past_date, today=today)
    if occurred_on and reported_on and occurred_on > reported_on:
        errors.add("occurred_on", _("The incident cannot have happened after it was reported."))
    if occurred_on and birth_year and occurred_on.year < birth_year:
        errors.add("occurred_on", _("The incident date is before the survivor's birth year."))
    values["occurred_on"], values["reported_on"] = occurred_on, reported_on

    province = None
    if data.get("province") in (None, ""):
        errors.add("province", _("This field is required."))
    else:
        province = errors.clean("province", data["province"], clean_province)
    if province and reported_on and province.valid_to and province.valid_to <= reported_on:
        errors.add("province", _("This province no longer existed on %(day)s.") % {"day": reported_on.isoformat()})
    values["province"] = province
    values["commune"] = None
    if data.get("commune") not in (None, "") and province and reported_on:
        # The place is recorded in the units in force when the incident is reported: the
        # reference data holds no units from before the 2025 reorganisation, and reports count
        # by the units in force.
        values["commune"] = errors.clean(
            "commune", data["commune"], lambda v: commune_valid_on(province=province, code_or_commune=v,
                                                                   day=reported_on)
        )

    if "answers" not in data:
        errors.add("answers", _("Answer the classification questions."))
    else:
        try:
            values["gbv_type"] = gbvims_classify(answers=data["answers"])
            values["classification_answers"] = dict(data["answers"])
        except ValidationError as exc:
            errors.merge(exc, "answers." if exc.message_dict.keys() != {"answers"} else "")
    values["tech_forms"] = errors.clean("tech_forms", data.get("tech_forms"), clean_categories,
                                        allowed=TechForm.values) or []
    values["perpetrator_relationship"] = errors.clean(
        "perpetrator_relationship", data.get("perpetrator_relationship", PerpetratorRelationship.UNKNOWN),
        clean_choice, choices=PerpetratorRelationship.values,
    )
    if reported_on and not errors.has("occurred_on"):
        values["reporting_delay"] = reporting_delay_bucket(occurred_on=occurred_on, reported_on=reported_on)
    return values


# --- Consent -------------------------------------------------------------------------------------


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


def clean_consent(
    data: Any, *, errors: FieldErrors, age: int | None, lead_agency_id: int, now: datetime.datetime
) -> dict:
    """Model field values for a consent record, with the child rules applied for the survivor's age
    (the youngest age they can have). An emergency override shares without consent, so the child
    rules do not apply to it; it needs a written reason and is flagged for supervisor review."""
    data = reject_unknown(data, CONSENT_FIELDS, errors)
    values: dict[str, Any] = {"receiving_agency": None, "receiving_sector": ""}
    agency, sector = data.get("receiving_agency"), data.get("receiving_sector")
    if agency not in (None, "") and sector not in (None, ""):
        errors.add("receiving_agency", _("Choose a receiving agency or a sector, not both."))
    elif agency not in (None, ""):
        values["receiving_agency"] = errors.clean(
            "receiving_agency", agency, clean_instance, model=Agency, queryset=Agency.objects.filter(active=True)
        )
        if values["receiving_agency"] is not None and values["receiving_agency"].pk == lead_agency_id:
            errors.add("receiving_agency", _("This agency leads the case and already sees all of it."))
    elif sector not in (None, ""):
        values["receiving_sector"] = errors.clean("receiving_sector", sector, clean_choice, choices=Sector.values)
    else:
        errors.add("receiving_agency", _("Choose a receiving agency or a sector."))

    granted = errors.clean("granted_categories", data.get("granted_categories"), clean_categories,
                           allowed=DataCategory.values)
    refused = errors.clean("refused_categories", data.get("refused_categories"), clean_categories,
                           allowed=DataCategory.values)
    if granted is not None and refused is not None:
        both = [c for c in granted if c in refused]
        if both:
            errors.add("refused_categories", _("A category cannot be both shared and refused: %(categories)s.")
                       % {"categories": ", ".join(str(DataCategory(c).label) for c in both)})
        if not granted and not refused:
            errors.add("granted_categories", _("Choose the categories shared or refused."))
    values["granted_categories"], values["refused_categories"] = granted or [], refused or []

    values["purpose"] = errors.clean("purpose", data.get("purpose"), clean_text,
                                     max_length=TEXT_LIMITS["purpose"], required=True)
    override = data.get("emergency_override", False)
    values["emergency_override"] = override = bool(errors.clean("emergency_override", override, clean_bool))
    values["override_reason"] = errors.clean("override_reason", data.get("override_reason"), clean_text,
                                             max_length=TEXT_LIMITS["override_reason"], required=override)
    if not override and values["override_reason"]:
        errors.add("override_reason", _("A reason is given only with an emergency override."))
    values["needs_review"] = override

    given_by = errors.clean("given_by", data.get("given_by"), clean_choice, choices=ConsentGiver.values)
    values["given_by"] = given_by
    if given_by and not override and given_by not in allowed_givers(age=age):
        if age is not None and age < CHILD_CONSENT_AGE:
            errors.add("given_by", _("For a child under 7, a parent or guardian gives consent."))
        elif age is not None and age < CHILD_AGE:
            errors.add("given_by", _("A child aged 7 to 15 consents together with a parent or guardian."))
        else:
            errors.add("given_by", _("From the age of 16 the survivor consents for themselves."))
    values["guardian_relationship"] = errors.clean(
        "guardian_relationship", data.get("guardian_relationship"), clean_text,
        max_length=TEXT_LIMITS["guardian_relationship"],
        required=given_by in (ConsentGiver.GUARDIAN, ConsentGiver.SURVIVOR_AND_GUARDIAN),
    )
    values["expires_at"] = None
    if data.get("expires_at") not in (None, ""):
        expires_at = errors.clean("expires_at", data["expires_at"], clean_datetime)
        if expires_at is not None and expires_at <= now:
            errors.add("expires_at", _("The expiry must be in the future."))
        values["expires_at"] = expires_at
    return values


# --- Action --------------------------------------------------------------------------------------


def clean_action(data: Any, *, errors: FieldErrors, now: datetime.datetime) -> dict:
    data = reject_unknown(data, ACTION_FIELDS, errors)
    values: dict[str, Any] = {}
    values["type"] = action_type = errors.clean("type", data.get("type"), clean_choice, choices=ActionType.values)
    category = data.get("category")
    if category in (None, ""):
        category = ACTION_DEFAULT_CATEGORY.get(action_type, "general")
    values["category"] = errors.clean("category", category, clean_choice,
                                      choices=[value for value, _label in ACTION_CATEGORY_CHOICES])
    values["occurred_at"] = now
    if data.get("occurred_at") not in (None, ""):
        occurred_at = errors.clean("occurred_at", data["occurred_at"], clean_datetime)
        if occurred_at is not None and occurred_at > now + CLOCK_SKEW:
            errors.add("occurred_at", _("The time cannot be in the future."))
        values["occurred_at"] = occurred_at
    values["text"] = errors.clean("text", data.get("text"), clean_text, max_length=TEXT_LIMITS["text"])
    return values


def clean_responsible(value: Any, *, agency: Agency):
    """A responder or supervisor of the lead agency: only they hold the case's rights."""
    user = clean_instance(value, model=get_user_model(), queryset=get_user_model().objects.filter(is_active=True))
    if not Membership.objects.filter(
        user=user, agency=agency, role__in=(Role.RESPONDER, Role.SUPERVISOR)
    ).exists():
        raise ValidationError(_("The responsible person must be a responder or supervisor of the lead agency."))
    return user


def clean_risk_level(value: Any) -> str:
    return clean_choice(value, choices=RiskLevel.values)
