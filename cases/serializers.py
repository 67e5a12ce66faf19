"""Output shapes shared by the case API views (each view nests its own input and output serializers
and builds them from these pieces).

Who may see what is decided by `cases.selectors.case_get_for_user`; these serializers only honour
the `CaseAccess` they are given in their context: survivor identity and contact fields are left
out of the output (absent, not null) unless the reader holds that category.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.models import Sector
from permissions.categories import ACTION_CATEGORY_CHOICES, CaseRight, DataCategory

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


class ProvinceRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()

    class Meta:
        ref_name = "CaseProvinceRef"


class CommuneRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()

    class Meta:
        ref_name = "CaseCommuneRef"


class AgencyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sector = serializers.ChoiceField(choices=Sector.choices)

    class Meta:
        ref_name = "CaseAgencyRef"


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    class Meta:
        ref_name = "CaseUserRef"

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


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


class IncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_on = serializers.DateField(allow_null=True)
    reported_on = serializers.DateField()
    province = ProvinceRefSerializer()
    commune = CommuneRefSerializer(allow_null=True)
    gbv_type = serializers.ChoiceField(choices=GbvType.choices)
    tech_forms = serializers.SerializerMethodField()
    perpetrator_relationship = serializers.ChoiceField(choices=PerpetratorRelationship.choices)
    reporting_delay = serializers.ChoiceField(choices=ReportingDelay.choices)
    recorded_by_agency = AgencyRefSerializer()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "CaseIncident"

    def get_tech_forms(self, incident) -> list[str]:
        if hasattr(incident, "tech_forms"):  # loaded by case_prefetch_for_detail
            return incident.tech_forms
        return sorted(row.form for row in incident.tech_form_rows.all())


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=ActionType.choices)
    category = serializers.ChoiceField(choices=ACTION_CATEGORY_CHOICES)
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField(allow_blank=True)
    actor = UserRefSerializer()
    agency = AgencyRefSerializer()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "CaseAction"

    def to_representation(self, action):
        # The list is already limited to visible categories; this is the last line should a
        # caller pass an action the reader may not see.
        if not _access(self).sees(action.category):
            raise RuntimeError(f"action {action.pk} is of a category the reader may not see")
        return super().to_representation(action)


class ConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    receiving_agency = AgencyRefSerializer(allow_null=True)
    receiving_sector = serializers.CharField(allow_blank=True)
    granted_categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))
    refused_categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))
    purpose = serializers.CharField()
    given_by = serializers.ChoiceField(choices=ConsentGiver.choices)
    guardian_relationship = serializers.CharField(allow_blank=True)
    emergency_override = serializers.BooleanField()
    override_reason = serializers.CharField(allow_blank=True)
    needs_review = serializers.BooleanField()
    recorded_by = UserRefSerializer()
    recorded_by_agency = AgencyRefSerializer()
    recorded_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawal_reason = serializers.CharField(allow_blank=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        ref_name = "CaseConsent"

    def get_in_force(self, consent) -> bool:
        return consent.is_in_force()


class AccessSerializer(serializers.Serializer):
    """What the reader may do and see on this case, so that clients can hide what would be refused."""

    agency = AgencyRefSerializer(allow_null=True)
    rights = serializers.ListField(child=serializers.ChoiceField(choices=CaseRight.choices))
    categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))

    class Meta:
        ref_name = "CaseAccess"

    def to_representation(self, access):
        return {
            "agency": AgencyRefSerializer(access.agency).data if access.agency else None,
            "rights": sorted(access.rights),
            "categories": sorted(access.categories),
        }


class CaseSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    province = ProvinceRefSerializer()
    lead_agency = AgencyRefSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "CaseSummary"


class CaseDetailSerializer(CaseSummarySerializer):
    responsible = UserRefSerializer(allow_null=True)
    statistics_consent = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    # Set when the case was anonymised (cases.erasure): identity and text read as empty.
    anonymised_at = serializers.DateTimeField(allow_null=True)
    survivor = SurvivorSerializer()
    incidents = IncidentSerializer(many=True)
    next_statuses = serializers.SerializerMethodField()
    access = serializers.SerializerMethodField()

    class Meta:
        ref_name = "CaseDetail"

    def get_next_statuses(self, case) -> list[str]:
        """The statuses you may move the case to now: by its state and your rights, as the case page."""
        return _access(self).next_statuses(case)

    @extend_schema_field(AccessSerializer)
    def get_access(self, case):
        return AccessSerializer(_access(self)).data
