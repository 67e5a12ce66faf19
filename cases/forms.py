"""Forms of the responder pages. They turn posted text into the plain dicts the case services take
and show the services' messages next to the fields they concern; the rules themselves (child
consent, classification, categories a responder may write in) live in the services."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.acting import acting_agency_pick
from agencies.models import Agency, Province, Sector
from config.api import input_validate
from config.forms import TypedTextField
from permissions.categories import ACTION_CATEGORY_CHOICES, DataCategory

from .classification import GBVIMS_QUESTIONS
from .models import (
    ActionType,
    CaseStatus,
    ConsentGiver,
    Disability,
    PerpetratorRelationship,
    RiskLevel,
    Sex,
    TechForm,
)
from .serializers import (
    ACTION_DEFAULT_CATEGORY,
    TEXT_LIMITS,
    ActionLogInputSerializer,
    CaseOpenInputSerializer,
    ConsentInputSerializer,
    ConsentWithdrawInputSerializer,
)

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
ANSWER_PREFIX = "answer_"
CONSENT_PREFIX = "consent_"


def _blank(label):
    return [("", label)]


class ServiceErrorsMixin:
    """Puts a service's ValidationError on the form: each dotted key on the field it names, the
    rest at the top of the form."""

    def field_for_error(self, key: str) -> str | None:
        return key if key in self.fields else None

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            self.add_error(self.field_for_error(key), messages)


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=_blank(_("All")) + CaseStatus.choices, required=False)
    risk_level = forms.ChoiceField(label=_("Risk"), choices=_blank(_("All")) + RiskLevel.choices, required=False)
    number = forms.CharField(label=_("Case number"), max_length=20, required=False)

    def criteria(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if value}


def _consent_fields(prefix: str = "", *, required: bool) -> dict[str, forms.Field]:
    """The consent questions, shared by the open-a-case form (optional there) and the consent page."""
    agencies = Agency.objects.filter(active=True).select_related("province").order_by("province__code", "name")
    return {
        f"{prefix}receiving_agency": forms.ModelChoiceField(
            label=_("Share with the agency"), queryset=agencies, required=False, empty_label=_("— no agency —"),
        ),
        f"{prefix}receiving_sector": forms.ChoiceField(
            label=_("or with every agency of the sector"), choices=_blank(_("— no sector —")) + Sector.choices,
            required=False,
        ),
        f"{prefix}granted_categories": forms.MultipleChoiceField(
            label=_("Categories the survivor agrees to share"), choices=DataCategory.choices, required=False,
            widget=forms.CheckboxSelectMultiple,
        ),
        f"{prefix}refused_categories": forms.MultipleChoiceField(
            label=_("Categories the survivor refuses to share"), choices=DataCategory.choices, required=False,
            widget=forms.CheckboxSelectMultiple,
        ),
        f"{prefix}purpose": forms.CharField(label=_("Purpose"), max_length=TEXT_LIMITS["purpose"], required=required),
        f"{prefix}given_by": forms.ChoiceField(
            label=_("Consent given by"), choices=ConsentGiver.choices, required=required, widget=forms.RadioSelect,
        ),
        f"{prefix}guardian_relationship": forms.CharField(
            label=_("Parent's or guardian's relationship to the child"),
            max_length=TEXT_LIMITS["guardian_relationship"], required=False,
        ),
        f"{prefix}expires_at": forms.DateTimeField(
            label=_("Consent expires at (optional)"), required=False,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        ),
        f"{prefix}emergency_override": forms.BooleanField(
            label=_("Emergency override: share without consent because of danger to life"), required=False,
        ),
        f"{prefix}override_reason": TypedTextField(
            label=_("Reason for the override"), max_length=TEXT_LIMITS["override_reason"], required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        ),
    }


def _consent_data(cleaned: dict, prefix: str = "") -> dict:
    data = {name: cleaned.get(f"{prefix}{name}") for name in (
        "receiving_sector", "granted_categories", "refused_categories", "purpose", "given_by",
        "guardian_relationship", "expires_at", "emergency_override", "override_reason",
    )}
    agency = cleaned.get(f"{prefix}receiving_agency")
    data["receiving_agency"] = agency.pk if agency else None
    return data


class CaseOpenForm(ServiceErrorsMixin, forms.Form):
    # Survivor
    full_name = forms.CharField(label=_("Full name"), max_length=TEXT_LIMITS["full_name"], required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.FEMALE, widget=forms.RadioSelect)
    birth_year = forms.IntegerField(label=_("Birth year"), required=False)
    age = forms.IntegerField(label=_("or age in years"), required=False, min_value=0)
    disability = forms.ChoiceField(label=_("Disability"), choices=Disability.choices, initial=Disability.UNKNOWN)
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=TEXT_LIMITS["ethnicity"], required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    address = forms.CharField(label=_("Address"), max_length=TEXT_LIMITS["address"], required=False)
    guardian_name = forms.CharField(label=_("Parent or guardian"), max_length=TEXT_LIMITS["guardian_name"],
                                    required=False)
    guardian_phone = forms.CharField(label=_("Parent's or guardian's phone"), max_length=30, required=False,
                                     widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    # Incident
    occurred_on = forms.DateField(label=_("Date of incident"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reported_on = forms.DateField(label=_("Date reported"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    province = forms.ModelChoiceField(label=_("Province"), queryset=Province.objects.filter(valid_to__isnull=True),
                                      to_field_name="code", empty_label=None)
    commune = forms.CharField(label=_("Commune code (optional)"), max_length=10, required=False)
    tech_forms = forms.MultipleChoiceField(label=_("Technology-facilitated forms"), choices=TechForm.choices,
                                           required=False, widget=forms.CheckboxSelectMultiple)
    perpetrator_relationship = forms.ChoiceField(
        label=_("Perpetrator's relationship to the survivor"), choices=PerpetratorRelationship.choices,
        initial=PerpetratorRelationship.UNKNOWN,
    )
    # Case
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices, initial=RiskLevel.MEDIUM,
                                   widget=forms.RadioSelect)
    statistics_consent = forms.BooleanField(label=_("The survivor agrees to be counted in anonymous statistics"),
                                            required=False, initial=True)

    def __init__(self, *args, agencies: list[Agency], **kwargs):
        super().__init__(*args, **kwargs)
        self.agencies = agencies
        # A person of several agencies opens for the agency they act for, unless they pick another here.
        acting_id = acting_agency_pick(member_agency_ids=[a.pk for a in agencies])
        acting = next((a for a in agencies if a.pk == acting_id), agencies[0] if agencies else None)
        if len(agencies) > 1:
            self.fields["agency"] = forms.ModelChoiceField(
                label=_("Opening agency"), queryset=Agency.objects.filter(pk__in=[a.pk for a in agencies]),
                empty_label=None, initial=acting.pk,
            )
        home = acting.province if acting else None
        self.fields["province"].initial = home.code if home else None
        self.fields["reported_on"].initial = timezone.localdate()
        for question in GBVIMS_QUESTIONS:
            self.fields[ANSWER_PREFIX + question.key] = forms.ChoiceField(
                label=question.text, choices=YES_NO, required=False, widget=forms.RadioSelect,
            )
        self.fields.update(_consent_fields(CONSENT_PREFIX, required=False))

    # Groups for the template, in the order the page shows them.
    def answer_fields(self):
        return [self[ANSWER_PREFIX + q.key] for q in GBVIMS_QUESTIONS]

    def consent_fields(self):
        return [self[name] for name in self.fields if name.startswith(CONSENT_PREFIX)]

    def consent_has_errors(self) -> bool:
        return any(name.startswith(CONSENT_PREFIX) for name in self.errors)

    def field_for_error(self, key: str) -> str | None:
        part, _dot, rest = key.partition(".")
        if part == "incident" and rest.startswith("answers."):
            return ANSWER_PREFIX + rest.removeprefix("answers.")
        if part == "incident" and rest == "answers":
            return ANSWER_PREFIX + GBVIMS_QUESTIONS[0].key
        if part == "consent":
            return super().field_for_error(CONSENT_PREFIX + rest)
        if part in ("survivor", "incident"):
            return super().field_for_error(rest)
        return super().field_for_error(key)

    def wants_consent(self) -> bool:
        data = self.cleaned_data
        return any(data.get(CONSENT_PREFIX + name) for name in (
            "receiving_agency", "receiving_sector", "granted_categories", "refused_categories", "purpose",
            "given_by", "emergency_override",
        ))

    def survivor_and_incident(self) -> dict:
        """The survivor and incident parts of case_open's arguments, from what has been answered so far.

        The guided intake calls this on steps whose later answers are still missing, so every value is
        read with .get(); on a fully valid form the required fields are all there.
        """
        data = self.cleaned_data
        survivor = {name: data.get(name) for name in (
            "full_name", "phone", "address", "guardian_name", "guardian_phone", "sex", "disability", "ethnicity",
        )}
        survivor["birth_year"] = data.get("birth_year")
        if data.get("age") is not None:
            survivor["age"] = data["age"]
        answers = {}
        for question in GBVIMS_QUESTIONS:
            answer = data.get(ANSWER_PREFIX + question.key)
            if answer:
                answers[question.key] = answer == "yes"
        incident = {
            "occurred_on": data.get("occurred_on"), "reported_on": data.get("reported_on"),
            "province": data["province"].code, "commune": data.get("commune") or None, "answers": answers,
            "tech_forms": data.get("tech_forms") or [],
            "perpetrator_relationship": data.get("perpetrator_relationship") or PerpetratorRelationship.UNKNOWN,
        }
        return {"survivor": survivor, "incident": incident}

    def service_arguments(self) -> dict:
        """Keyword arguments for cases.services.case_open (without actor), checked by the API's input
        serializer: a ValidationError with its dotted keys otherwise, which add_service_errors shows."""
        data = self.cleaned_data
        return {
            **input_validate(CaseOpenInputSerializer, {
                **self.survivor_and_incident(),
                "consent": _consent_data(data, CONSENT_PREFIX) if self.wants_consent() else None,
                "risk_level": data["risk_level"],
                "statistics_consent": data["statistics_consent"],
            }),
            "agency": data.get("agency") or self.agencies[0],
        }


class ActionLogForm(ServiceErrorsMixin, forms.Form):
    type = forms.ChoiceField(label=_("What was done"), choices=ActionType.choices, widget=forms.RadioSelect)
    category = forms.ChoiceField(label=_("Who may read it (data category)"))
    text = TypedTextField(label=_("Details"), max_length=TEXT_LIMITS["text"], required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, access, action_type: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # A responder writes only in categories they can read; the service refuses the others too.
        visible = [(value, label) for value, label in ACTION_CATEGORY_CHOICES if access.writes(value)]
        self.fields["category"].choices = _blank(_("— choose —")) + visible
        self.default_categories = {
            value: category for value, category in ACTION_DEFAULT_CATEGORY.items() if access.writes(category)
        }
        if action_type in ActionType.values:
            self.fields["type"].initial = action_type
            # When the type's usual category is not visible, nothing is preselected: quietly
            # downgrading a shelter placement to "general" would show the address to everyone.
            self.fields["category"].initial = self.default_categories.get(action_type, "")

    def service_data(self) -> dict:
        return input_validate(ActionLogInputSerializer, {key: self.cleaned_data[key] for key in ("type", "category",
                                                                                                 "text")})


class ConsentRecordForm(ServiceErrorsMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_consent_fields(required=True))

    def service_data(self) -> dict:
        return input_validate(ConsentInputSerializer, _consent_data(self.cleaned_data))


class ConsentWithdrawForm(ServiceErrorsMixin, forms.Form):
    reason = TypedTextField(
        label=_("Reason (optional: the survivor owes no reason)"), max_length=TEXT_LIMITS["withdrawal_reason"],
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
    )

    def service_reason(self) -> str:
        return input_validate(ConsentWithdrawInputSerializer, self.cleaned_data)["reason"]


class CaseCloseForm(ServiceErrorsMixin, forms.Form):
    close_reason = TypedTextField(
        label=_("Why is the case closed?"), max_length=TEXT_LIMITS["close_reason"],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with the case. For example: the survivor is safe and the support plan is done."),
    )


class CaseStatusForm(forms.Form):
    status = forms.ChoiceField(choices=CaseStatus.choices)

