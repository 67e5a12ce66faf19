"""Output shapes shared by the case API views (each view nests its own input and output serializers
and builds them from these pieces).

Who may see what is decided by `cases.selectors.case_get_for_user`; these serializers only honour
the `CaseAccess` they are given in their context: survivor identity and contact fields are left
out of the output (absent, not null) unless the reader holds that category.
"""

import datetime
import re
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.models import Agency, Commune, Province, Sector
from config.api import BooleanField, DateTimeField, StrictInputSerializer, TextField
from encryption.crypto import normalize_phone
from permissions.categories import ACTION_CATEGORY_CHOICES, CaseRight, DataCategory

from .classification import GBVIMS_QUESTIONS, gbvims_classify, reporting_delay_bucket
from .models import (
    ActionType,
    CaseStatus,
    ConsentGiver,
    Disability,
    GbvType,
    PerpetratorRelationship,
    ReportingDelay,
    RiskLevel,
    Sex,
    TechForm,
)

# Which survivor fields each sensitive category reveals; every other survivor field is general.
SURVIVOR_FIELDS_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    DataCategory.IDENTITY: ("full_name",),
    DataCategory.CONTACT: ("phone", "address", "guardian_name", "guardian_phone"),
}


def _access(serializer: serializers.Serializer):
    access = serializer.context.get("access")
    if access is None:
        # Refusing loudly beats serializing everything when a view forgets to pass the access.
        raise RuntimeError(f"{type(serializer).__name__} needs the reader's CaseAccess in its context")
    return access


# A place of the official lists, by its code and name (no docstring: the schema would show it).
class _CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CaseProvinceRefSerializer(_CodeNameSerializer):
    pass


class CaseCommuneRefSerializer(_CodeNameSerializer):
    pass


class CaseAgencyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sector = serializers.ChoiceField(choices=Sector.choices)


class CaseUserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return _user_name(user)


def _user_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


# The first fields of a record of one case (a handoff, a plan item, a data-subject request, a
# break-glass use...): its id, then its case's id and number. A base only: each record's serializer
# adds its own fields and is named after its component. (No docstring: the schema would show it on each.)
class CaseRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    case_number = serializers.CharField(source="case.number")


class SurvivorSerializer(serializers.Serializer):
    pseudonym = serializers.CharField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_year = serializers.IntegerField(allow_null=True)
    birth_year_estimated = serializers.BooleanField()
    disability = serializers.ChoiceField(choices=Disability.choices)
    ethnicity = serializers.CharField(allow_blank=True)
    is_child = serializers.BooleanField(allow_null=True, help_text="Under 16 (Law on Children); null if age unknown.")
    is_minor = serializers.BooleanField(allow_null=True, help_text="Under 18 (GBVIMS); null if age unknown.")
    full_name = serializers.CharField(required=False, help_text="Only with the identity category.")
    phone = serializers.CharField(required=False, help_text="Only with the contact category.")
    address = serializers.CharField(required=False, help_text="Only with the contact category.")
    guardian_name = serializers.CharField(required=False, help_text="Only with the contact category.")
    guardian_phone = serializers.CharField(required=False, help_text="Only with the contact category.")

    class Meta:
        ref_name = "CaseSurvivor"

    def to_representation(self, survivor):
        data = super().to_representation(survivor)
        access = _access(self)
        for category, fields in SURVIVOR_FIELDS_BY_CATEGORY.items():
            if not access.sees(category):
                for field in fields:
                    data.pop(field, None)
        return data


class CaseIncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_on = serializers.DateField(allow_null=True)
    reported_on = serializers.DateField()
    province = CaseProvinceRefSerializer()
    commune = CaseCommuneRefSerializer(allow_null=True)
    gbv_type = serializers.ChoiceField(choices=GbvType.choices)
    tech_forms = serializers.SerializerMethodField()
    perpetrator_relationship = serializers.ChoiceField(choices=PerpetratorRelationship.choices)
    reporting_delay = serializers.ChoiceField(choices=ReportingDelay.choices)
    recorded_by_agency = CaseAgencyRefSerializer()
    created_at = serializers.DateTimeField()

    def get_tech_forms(self, incident) -> list[str]:
        return _incident_tech_forms(incident)


def _incident_tech_forms(incident) -> list[str]:
    if hasattr(incident, "tech_forms"):  # loaded by case_prefetch_for_detail
        return incident.tech_forms
    return sorted(row.form for row in incident.tech_form_rows.all())


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=ActionType.choices)
    category = serializers.ChoiceField(choices=ACTION_CATEGORY_CHOICES)
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField(allow_blank=True)
    actor = CaseUserRefSerializer()
    agency = CaseAgencyRefSerializer()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "CaseAction"

    def to_representation(self, action):
        # The list is already limited to visible categories; this is the last line should a
        # caller pass an action the reader may not see.
        if not _access(self).sees(action.category):
            raise RuntimeError(f"action {action.pk} is of a category the reader may not see")
        # Written out, as CaseSummarySerializer: DRF's walk deep-copies the fields and the two nested
        # serializers' for every serializer made, more CPU than logging the action's rows took in Python.
        # The declared fields remain the schema; tests/cases/test_api.py checks this against DRF's walk.
        fields, actor, agency = self._declared_fields, action.actor, action.agency
        return {
            "id": int(action.pk),
            "type": fields["type"].to_representation(action.type),
            "category": fields["category"].to_representation(action.category),
            "occurred_at": _when(fields["occurred_at"], action.occurred_at),
            "text": str(action.text),
            "actor": None if actor is None else {"id": int(actor.pk), "name": _user_name(actor)},
            "agency": None if agency is None else {"id": int(agency.pk), "name": str(agency.name),
                                                   "sector": _AGENCY_SECTOR.to_representation(agency.sector)},
            "created_at": _when(fields["created_at"], action.created_at),
        }


def _when(field: serializers.DateTimeField, value):
    """A date and time as the field writes it; None stays None, as DRF's walk leaves it."""
    return None if value is None else field.to_representation(value)


class CaseConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    receiving_agency = CaseAgencyRefSerializer(allow_null=True)
    receiving_sector = serializers.CharField(allow_blank=True)
    granted_categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))
    refused_categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))
    purpose = serializers.CharField()
    given_by = serializers.ChoiceField(choices=ConsentGiver.choices)
    guardian_relationship = serializers.CharField(allow_blank=True)
    emergency_override = serializers.BooleanField()
    override_reason = serializers.CharField(allow_blank=True)
    needs_review = serializers.BooleanField()
    recorded_by = CaseUserRefSerializer()
    recorded_by_agency = CaseAgencyRefSerializer()
    recorded_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawal_reason = serializers.CharField(allow_blank=True)
    in_force = serializers.SerializerMethodField()

    def get_in_force(self, consent) -> bool:
        return consent.is_in_force()


class CaseAccessSerializer(serializers.Serializer):
    """What the reader may do and see on this case, so that clients can hide what would be refused."""

    agency = CaseAgencyRefSerializer(allow_null=True)
    rights = serializers.ListField(child=serializers.ChoiceField(choices=CaseRight.choices))
    categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))

    def to_representation(self, access):
        # The agency written out as DRF's walk writes it (_agency_ref): making a CaseAgencyRefSerializer
        # for it deep-copied its fields at every read of a case.
        return {
            "agency": _agency_ref(access.agency) if access.agency else None,
            "rights": sorted(access.rights),
            "categories": sorted(access.categories),
        }


# The fields of a case's summary, which the detail repeats (no docstring: the schema would show it).
class _CaseSummaryFields(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    province = CaseProvinceRefSerializer()
    lead_agency = CaseAgencyRefSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CaseSummarySerializer(_CaseSummaryFields):
    # The case list's rows, 50 a page: written out, not walked field by field (DRF's generic walk of
    # the fields cost more than the rest of the list's serializing). The declared fields remain the
    # schema; tests/cases/test_api.py checks the output against DRF's own walk.

    # The time zone is read once for the page (the one serializer writes every row of it) and each choice
    # is looked up as ChoiceField.to_representation looks it up (_choice), without a call through the field.
    _zone: datetime.tzinfo | None = None

    def to_representation(self, case):
        province, agency = case.province, case.lead_agency
        zone = self._zone
        if zone is None:
            zone = self._zone = timezone.get_current_timezone()
        return {
            "id": int(case.pk),
            "number": str(case.number),
            "status": _choice(_STATUS_VALUES, case.status),
            "risk_level": _choice(_RISK_LEVEL_VALUES, case.risk_level),
            "province": {"code": str(province.code), "name": str(province.name)},
            "lead_agency": {"id": int(agency.pk), "name": str(agency.name),
                            "sector": _choice(_SECTOR_VALUES, agency.sector)},
            "created_at": _iso_datetime(case.created_at, zone),
            "updated_at": _iso_datetime(case.updated_at, zone),
        }


def _choice(values: dict, value):
    """What DRF's ChoiceField.to_representation writes for `value`, given its choice_strings_to_values."""
    if value in ("", None):
        return value
    return values.get(str(value), value)


def _iso_datetime(value: datetime.datetime, zone) -> str:
    """An aware date and time as DRF's DateTimeField writes it (ISO 8601 in the current time zone,
    "Z" for UTC), the zone read once for the row: DRF's field reads it anew for each value."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_AGENCY_SECTOR = CaseAgencyRefSerializer._declared_fields["sector"]
_SECTOR_VALUES = _AGENCY_SECTOR.choice_strings_to_values
_STATUS_VALUES = _CaseSummaryFields._declared_fields["status"].choice_strings_to_values
_RISK_LEVEL_VALUES = _CaseSummaryFields._declared_fields["risk_level"].choice_strings_to_values


def _written_out(serializer_class: type[serializers.Serializer], instance, nested: Mapping,
                 left_out: frozenset[str] = frozenset()) -> dict:
    """What DRF's walk over `serializer_class`'s declared fields makes of `instance`, in their order,
    without copying and binding the fields for each object: each plain field's own to_representation
    (None stays None, as DRF leaves it); `nested` gives the value of the others, by name. The fields
    `left_out` are neither read nor written."""
    data = {}
    for name, field in serializer_class._declared_fields.items():
        if name in left_out:
            continue
        if name in nested:
            data[name] = nested[name](instance)
        else:
            value = getattr(instance, name)
            data[name] = None if value is None else field.to_representation(value)
    return data


def _survivor_fields_hidden(access) -> frozenset[str]:
    """The survivor fields of the categories `access` does not see (SURVIVOR_FIELDS_BY_CATEGORY)."""
    return frozenset(field for category, fields in SURVIVOR_FIELDS_BY_CATEGORY.items() if not access.sees(category)
                     for field in fields)


def _code_name(place) -> dict | None:
    return None if place is None else _written_out(_CodeNameSerializer, place, {})


def _agency_ref(agency) -> dict | None:
    return None if agency is None else _written_out(CaseAgencyRefSerializer, agency, {})


def _user_ref(user: User | None) -> dict | None:
    return None if user is None else {"id": int(user.pk), "name": user.get_full_name() or user.get_username()}


class CaseDetailSerializer(_CaseSummaryFields):
    # One case at every read of the detail API: written out, as the list's rows (CaseSummarySerializer),
    # not walked field by field (copying the nested serializers' fields for each object was half the
    # view's CPU). The declared fields remain the schema; tests/cases/test_api.py checks the output
    # against DRF's own walk for every reader.
    responsible = CaseUserRefSerializer(allow_null=True)
    statistics_consent = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    # Set when the case was anonymised (cases.erasure): identity and text read as empty.
    anonymised_at = serializers.DateTimeField(allow_null=True)
    survivor = SurvivorSerializer()
    incidents = CaseIncidentSerializer(many=True)
    next_statuses = serializers.SerializerMethodField()
    access = serializers.SerializerMethodField()

    def to_representation(self, case):
        access = _access(self)
        # The fields of a category the reader does not hold are left out, and so never opened.
        survivor = _written_out(SurvivorSerializer, case.survivor, {}, _survivor_fields_hidden(access))
        incident_nested = {"province": lambda i: _code_name(i.province), "commune": lambda i: _code_name(i.commune),
                           "recorded_by_agency": lambda i: _agency_ref(i.recorded_by_agency),
                           "tech_forms": _incident_tech_forms}
        return _written_out(CaseDetailSerializer, case, {
            "province": lambda c: _code_name(c.province),
            "lead_agency": lambda c: _agency_ref(c.lead_agency),
            "responsible": lambda c: _user_ref(c.responsible),
            "survivor": lambda c: survivor,
            "incidents": lambda c: [_written_out(CaseIncidentSerializer, incident, incident_nested)
                                    for incident in c.incidents.all()],
            "next_statuses": self.get_next_statuses,
            "access": self.get_access,
        })

    def get_next_statuses(self, case) -> list[str]:
        """The statuses you may move the case to now: by its state and your rights, as the case page."""
        return _access(self).next_statuses(case)

    @extend_schema_field(CaseAccessSerializer)
    def get_access(self, case):
        return CaseAccessSerializer().to_representation(_access(self))


# --- Input ---------------------------------------------------------------------------------------
# One input serializer per operation: the API views validate with it, and the pages with the same one
# (config.api.input_validate), so that a field is checked once, with one message, whoever sends it.
# The services take the validated values and check only what the domain knows (rights, consent, the
# case's state and survivor).

MAX_AGE = 120
# Clocks of phones and servers drift; an action logged "just now" must not be refused as future.
CLOCK_SKEW = datetime.timedelta(minutes=5)
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-]+$")
PHONE_DIGITS = (8, 15)

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


def _text(field: str, **kwargs) -> TextField:
    return TextField(max_length=TEXT_LIMITS[field], allow_blank=True, required=False, **kwargs)


def _today(serializer: serializers.Serializer) -> datetime.date:
    return serializer.context.get("today") or timezone.localdate()


def not_in_future(value: datetime.datetime | None) -> None:
    """A time something happened: not later than now, give or take the drift of clocks."""
    if value is not None and value > timezone.now() + CLOCK_SKEW:
        raise serializers.ValidationError(_("The time cannot be in the future."))


def in_vocabulary_order(values: list[str], vocabulary) -> list[str]:
    """Each value once, in the vocabulary's order, so equal sets are equal lists."""
    return [str(v) for v in vocabulary if v in values]


class PhoneField(TextField):
    default_error_messages = {
        "phone": gettext_lazy("Enter a phone number, such as 0912 345 678 or +84 912 345 678."),
    }

    def __init__(self, **kwargs):
        super().__init__(**{"max_length": 30, "allow_blank": True, "required": False, "default": "", **kwargs})

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        digits = normalize_phone(value)
        if value and (not _PHONE_CHARACTERS.match(value) or not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]):
            self.fail("phone")
        return value


class SurvivorInputSerializer(StrictInputSerializer):
    """Model field values of a survivor; with partial=True (a change) only the fields sent."""

    full_name = _text("full_name", default="")
    phone = PhoneField()
    address = _text("address", default="")
    guardian_name = _text("guardian_name", default="")
    guardian_phone = PhoneField()
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, default=Sex.UNKNOWN)
    birth_year = serializers.IntegerField(required=False, allow_null=True, default=None)
    age = serializers.IntegerField(required=False, allow_null=True,
                                   help_text="Instead of the birth year, when only the age is known.")
    birth_year_estimated = BooleanField(required=False, default=False)
    disability = serializers.ChoiceField(choices=Disability.choices, required=False, default=Disability.UNKNOWN)
    ethnicity = _text("ethnicity", default="")

    def _number_between(self, value, minimum: int, maximum: int):
        if value is not None and not minimum <= value <= maximum:
            raise serializers.ValidationError(_("Enter a number from %(min)d to %(max)d.")
                                              % {"min": minimum, "max": maximum})
        return value

    def validate_birth_year(self, value):
        year = _today(self).year
        return self._number_between(value, year - MAX_AGE, year)

    def validate_age(self, value):
        return self._number_between(value, 0, MAX_AGE)

    def to_internal_value(self, data):
        # Said with the other fields' messages, not after them: a request gets every message at once.
        both = isinstance(data, Mapping) and data.get("age") is not None and data.get("birth_year") is not None
        both_message = {"age": [_("Give the birth year or the age, not both.")]}
        try:
            values = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if both and isinstance(exc.detail, dict):
                exc.detail.setdefault("age", []).extend(both_message["age"])
            raise
        if both:
            raise serializers.ValidationError(both_message)
        return values

    def validate(self, attrs):
        age = attrs.pop("age", None)
        if age is not None:
            # Survivor.age_on errs young by one year; this birth year makes it return the age given.
            attrs["birth_year"] = _today(self).year - age - 1
            attrs["birth_year_estimated"] = True
        return attrs


class GbvimsAnswersSerializer(StrictInputSerializer):
    """The GBVIMS questions in order; the first yes decides the type. Questions after the first yes may
    be left out."""

    def get_fields(self):
        # One field per question of cases.classification, in its order.
        return {q.key: BooleanField(required=False, help_text=q.text) for q in GBVIMS_QUESTIONS}

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise serializers.ValidationError([_("Answer the classification questions with yes or no.")])
        return super().to_internal_value(data)


class IncidentInputSerializer(StrictInputSerializer):
    """Model field values of an incident, with its GBVIMS type and reporting delay derived, and the
    list of technology-facilitated forms under "tech_forms". Context: `default_reported_on` (a case
    first handled on paper), `today`."""

    occurred_on = serializers.DateField(required=False, allow_null=True, default=None)
    reported_on = serializers.DateField(required=False, allow_null=True, help_text="Defaults to today.")
    province = TextField(max_length=8, help_text="Province code, e.g. 01 for Hà Nội.")
    commune = TextField(max_length=10, required=False, allow_blank=True, allow_null=True,
                        help_text="Commune code.")
    answers = GbvimsAnswersSerializer()
    tech_forms = serializers.ListField(child=serializers.ChoiceField(choices=TechForm.choices), required=False,
                                       max_length=len(TechForm.values), default=list)
    perpetrator_relationship = serializers.ChoiceField(choices=PerpetratorRelationship.choices, required=False,
                                                       default=PerpetratorRelationship.UNKNOWN)

    def _past(self, value):
        if value is not None and value > _today(self):
            raise serializers.ValidationError(_("The date cannot be in the future."))
        return value

    def validate_occurred_on(self, value):
        return self._past(value)

    def validate_reported_on(self, value):
        return self._past(value)

    def validate_province(self, value):
        province = Province.objects.filter(code=value.strip()).first()
        if province is None:
            raise serializers.ValidationError(_("Unknown province code."))
        return province

    def validate(self, attrs):
        occurred_on, province = attrs["occurred_on"], attrs["province"]
        reported_on = attrs.get("reported_on") or self.context.get("default_reported_on") or _today(self)
        errors: dict[str, list[str]] = {}
        if occurred_on and occurred_on > reported_on:
            errors["occurred_on"] = [_("The incident cannot have happened after it was reported.")]
        if province.valid_to and province.valid_to <= reported_on:
            errors["province"] = [_("This province no longer existed on %(day)s.") % {"day": reported_on.isoformat()}]
        commune = None
        if attrs.get("commune"):
            # The place is recorded in the units in force when the incident is reported: the
            # reference data holds no units from before the 2025 reorganisation, and reports count
            # by the units in force.
            try:
                commune = commune_valid_on(province=province, code=attrs["commune"], day=reported_on)
            except DjangoValidationError as exc:
                errors["commune"] = exc.messages
        try:
            gbv_type = gbvims_classify(answers=attrs["answers"])
        except DjangoValidationError as exc:
            errors.update({f"answers.{key}": messages for key, messages in exc.message_dict.items()})
        if errors:
            raise serializers.ValidationError(errors)
        return {
            "occurred_on": occurred_on, "reported_on": reported_on, "province": province, "commune": commune,
            "gbv_type": gbv_type, "classification_answers": dict(attrs["answers"]),
            "tech_forms": in_vocabulary_order(attrs["tech_forms"], TechForm.values),
            "perpetrator_relationship": attrs["perpetrator_relationship"],
            "reporting_delay": reporting_delay_bucket(occurred_on=occurred_on, reported_on=reported_on),
        }


def commune_valid_on(*, province: Province, code: str, day: datetime.date) -> Commune:
    """The commune of `province` that the code names on `day`. Communes merge and are renamed, so the
    same code may name different units at different times."""
    validity = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    candidates = Commune.objects.filter(code=code.strip())
    commune = candidates.filter(validity).first()
    if commune is None:
        if candidates.exists():
            raise DjangoValidationError(_("This commune did not exist on %(day)s.") % {"day": day.isoformat()})
        raise DjangoValidationError(_("Unknown commune code."))
    if commune.province_id != province.pk:
        raise DjangoValidationError(_("This commune is not in the incident's province."))
    return commune


class ConsentDecisionInputSerializer(StrictInputSerializer):
    """What the survivor decided, whoever receives it: the fields of a consent record but its recipient."""

    granted_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), required=False, max_length=len(DataCategory)
    )
    refused_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), required=False, max_length=len(DataCategory)
    )
    purpose = TextField(max_length=TEXT_LIMITS["purpose"])
    given_by = serializers.ChoiceField(choices=ConsentGiver.choices)
    guardian_relationship = _text("guardian_relationship")
    emergency_override = BooleanField(required=False, default=False)
    override_reason = _text("override_reason")
    expires_at = DateTimeField(required=False, allow_null=True)

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError(_("The expiry must be in the future."))
        return value

    def decision(self, attrs: dict, errors: dict[str, list[str]]) -> dict:
        """The decision's values, with the messages of the rules between its fields added to `errors`."""
        granted = in_vocabulary_order(attrs.get("granted_categories") or [], DataCategory.values)
        refused = in_vocabulary_order(attrs.get("refused_categories") or [], DataCategory.values)
        both = [c for c in granted if c in refused]
        if both:
            errors["refused_categories"] = [_("A category cannot be both shared and refused: %(categories)s.")
                                            % {"categories": ", ".join(str(DataCategory(c).label) for c in both)}]
        if not granted and not refused:
            errors["granted_categories"] = [_("Choose the categories shared or refused.")]
        override, reason = attrs.get("emergency_override", False), attrs.get("override_reason", "")
        if override and not reason:
            errors["override_reason"] = [_("This field is required.")]
        elif reason and not override:
            errors["override_reason"] = [_("A reason is given only with an emergency override.")]
        relationship = attrs.get("guardian_relationship", "")
        if attrs["given_by"] in (ConsentGiver.GUARDIAN, ConsentGiver.SURVIVOR_AND_GUARDIAN) and not relationship:
            errors["guardian_relationship"] = [_("This field is required.")]
        return {
            "granted_categories": granted, "refused_categories": refused, "purpose": attrs["purpose"],
            "given_by": attrs["given_by"], "guardian_relationship": relationship, "emergency_override": override,
            "override_reason": reason, "expires_at": attrs.get("expires_at"),
        }

    def validate(self, attrs):
        errors: dict[str, list[str]] = {}
        values = self.decision(attrs, errors)
        if errors:
            raise serializers.ValidationError(errors)
        return values


class ConsentInputSerializer(ConsentDecisionInputSerializer):
    """Model field values of a consent record. Who may give it for a child, and to whom it may not be
    given, are the services' rules (cases.services.consent_rules_check)."""

    receiving_agency = serializers.IntegerField(required=False, allow_null=True, help_text="Agency id.")
    receiving_sector = serializers.ChoiceField(choices=Sector.choices, required=False, allow_blank=True)

    def validate_receiving_agency(self, value):
        return None if value is None else _active_agency(value)

    def validate(self, attrs):
        errors: dict[str, list[str]] = {}
        agency, sector = attrs.get("receiving_agency"), attrs.get("receiving_sector") or ""
        if agency is not None and sector:
            errors["receiving_agency"] = [_("Choose a receiving agency or a sector, not both.")]
        elif agency is None and not sector:
            errors["receiving_agency"] = [_("Choose a receiving agency or a sector.")]
        values = self.decision(attrs, errors)
        if errors:
            raise serializers.ValidationError(errors)
        return {"receiving_agency": agency, "receiving_sector": sector, **values}


def chosen(queryset, pk: int):
    """The row of `queryset` (what may be chosen) with this id; "Choose one from the list." otherwise."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise serializers.ValidationError(_("Choose one from the list."))
    return row


def _active_agency(pk: int) -> Agency:
    return chosen(Agency.objects.filter(active=True), pk)


CONSENT_MANY_LIMIT = 20
RECIPIENT_KEYS = frozenset({"receiving_agency", "receiving_sector"})


class RecipientsField(serializers.Field):
    """Agencies (`{"receiving_agency": id}`, active ones) and whole sectors (`{"receiving_sector": code}`),
    as Agency instances and sector codes."""

    def to_internal_value(self, data):
        if not isinstance(data, list) or not data:
            raise serializers.ValidationError(_("Choose at least one agency or sector."))
        if len(data) > CONSENT_MANY_LIMIT:
            raise serializers.ValidationError(_("Choose at most %(n)d recipients at once.") % {"n": CONSENT_MANY_LIMIT})
        recipients: list = []
        for item in data:
            if not isinstance(item, dict) or len(item) != 1 or not set(item) <= RECIPIENT_KEYS:
                raise serializers.ValidationError(_("Each recipient is an agency or a sector."))
            if "receiving_agency" in item:
                recipients.append(_active_agency(serializers.IntegerField().run_validation(item["receiving_agency"])))
            else:
                recipients.append(serializers.ChoiceField(choices=Sector.choices).run_validation(
                    item["receiving_sector"]))
        return recipients


class ConsentManyInputSerializer(ConsentDecisionInputSerializer):
    """The referral form's consent for several recipients at once (cases.services.consent_record_many):
    one decision for all of them, without emergency override (that is the handoff's own)."""

    recipients = RecipientsField()
    emergency_override = None
    override_reason = None
    expires_at = None

    def validate(self, attrs):
        recipients = attrs.pop("recipients")
        return {"recipients": recipients, "data": super().validate(attrs)}


class CaseOpenInputSerializer(StrictInputSerializer):
    agency = serializers.IntegerField(
        required=False, help_text="The agency opening (and leading) the case; may be left out by someone "
        "who is a responder or supervisor of exactly one agency.",
    )
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    statistics_consent = BooleanField(required=False, default=True)
    survivor = SurvivorInputSerializer()
    incident = IncidentInputSerializer()
    consent = ConsentInputSerializer(required=False, allow_null=True)


class CaseUpdateInputSerializer(StrictInputSerializer):
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    responsible = serializers.IntegerField(required=False, help_text="User id of a responder or supervisor "
                                           "of the lead agency.")
    statistics_consent = BooleanField(required=False)
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False,
                                     help_text="A move along the case's allowed transitions.")
    close_reason = _text("close_reason", help_text="Why the case is closed: required with status \"closed\", "
                         "refused otherwise.")

    def validate_responsible(self, value):
        return chosen(get_user_model().objects.filter(is_active=True), value)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(gettext_lazy("Nothing to change."))
        if "close_reason" in attrs and attrs.get("status") != CaseStatus.CLOSED:
            raise serializers.ValidationError(
                {"close_reason": [gettext_lazy("A reason is given only when closing the case.")]})
        return attrs


class ActionLogInputSerializer(StrictInputSerializer):
    type = serializers.ChoiceField(choices=ActionType.choices)
    category = serializers.ChoiceField(
        choices=ACTION_CATEGORY_CHOICES, required=False, allow_blank=True,
        help_text="Defaults by type (a forensic exam is medical). Only categories you may see.",
    )
    occurred_at = DateTimeField(required=False, allow_null=True, help_text="Defaults to now.",
                                validators=[not_in_future])
    text = _text("text", default="")


class ConsentWithdrawInputSerializer(StrictInputSerializer):
    reason = _text("withdrawal_reason", default="", help_text="Optional: the survivor owes no reason.")


class PhoneSearchInputSerializer(StrictInputSerializer):
    """Finding a case by the survivor's phone number (cases.services.survivor_find_by_phone)."""

    phone = PhoneField(required=True, allow_blank=False, default=serializers.empty)
