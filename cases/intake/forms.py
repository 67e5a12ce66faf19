"""The intake's form and the check of one step: the one-page form's fields (cases.forms.CaseOpenForm)
with three that make the steps shorter, the draft's answers as that form's data, and a step checked
with the same input serializers and domain rules as opening the case."""


from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from config.api import input_validate

from ..classification import GBVIMS_QUESTIONS
from ..forms import ANSWER_PREFIX, CONSENT_PREFIX, CaseOpenForm, _consent_data
from ..models import CHILD_AGE, ConsentGiver, Disability, GbvType, PerpetratorRelationship, RiskLevel, Sex, Survivor
from ..serializers import ConsentInputSerializer, IncidentInputSerializer, SurvivorInputSerializer
from ..services import allowed_givers, consent_rules_check, incident_rules_check
from .selectors import commune_find
from .steps import NONE_OF_THESE, Step


class IntakeForm(CaseOpenForm):
    """The one-page form's fields, plus three that make the steps shorter: the GBVIMS questions as
    one ordered choice (the first that applies; the earlier ones are then "no", which is exactly
    what the questions in order would give), the commune picked by name, and whether consent to
    share is recorded now."""

    what_happened = forms.ChoiceField(
        label=_("What happened? Choose the first that applies, from the top"), widget=forms.RadioSelect,
        required=False,
    )
    commune_name = forms.CharField(label=_("Commune or ward (optional)"), max_length=100, required=False)
    share = forms.ChoiceField(
        label=_("Does the survivor agree to share her information with another agency now?"),
        choices=[("no", _("No, not now")), ("yes", _("Yes, record the consent now"))],
        widget=forms.RadioSelect, required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["what_happened"].choices = [(q.key, q.text) for q in GBVIMS_QUESTIONS] + [
            (NONE_OF_THESE, _("None of these"))
        ]
        self.fields["age"].label = _("Age in years")
        self.fields["birth_year"].label = _("or birth year")
        for name in ("age", "birth_year"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "pattern": "[0-9]*"})
        self.fields["commune_name"].widget.attrs.update({"list": "commune-list", "autocomplete": "off"})

    def field_for_error(self, key: str) -> str | None:
        part, _dot, rest = key.partition(".")
        if part == "incident" and (rest == "answers" or rest.startswith("answers.")):
            return "what_happened"
        if part == "incident" and rest == "commune":
            return "commune_name"
        return super().field_for_error(key)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("what_happened"):
            self.add_error("what_happened", _("Choose what happened."))
        province, name = cleaned.get("province"), cleaned.get("commune_name")
        if province is not None and name and commune_find(province_code=province.code, name=name) is None:
            self.add_error("commune_name", _("Choose a commune from the list."))
        return cleaned

    def service_arguments_partial(self) -> dict:
        """service_arguments for a form whose other steps may still be incomplete."""
        return self.survivor_and_incident()


def what_happened_label(value: str) -> str:
    """The incident type the ordered choice gives, for "check your answers"."""
    for question in GBVIMS_QUESTIONS:
        if question.key == value:
            return str(GbvType(question.gbv_type).label)
    return str(GbvType.NON_GBV.label) if value == NONE_OF_THESE else value


def draft_defaults(*, agency: Agency) -> dict[str, list[str]]:
    """Sensible starting answers: what most cases are, changed with one tap when they are not."""
    return {
        "sex": [Sex.FEMALE], "disability": [Disability.UNKNOWN], "province": [agency.province.code],
        "reported_on": [timezone.localdate().isoformat()],
        "perpetrator_relationship": [PerpetratorRelationship.UNKNOWN], "risk_level": [RiskLevel.MEDIUM],
        "statistics_consent": ["on"], "share": ["no"],
    }


def _survivor_age(values: dict[str, list[str]]) -> int | None:
    """The youngest age the survivor can have (as the services count it), or None when unknown."""
    today = timezone.localdate()
    try:
        if values.get("age"):
            return int(values["age"][0])
        if values.get("birth_year"):
            return Survivor(birth_year=int(values["birth_year"][0])).age_on(today)
    except ValueError:
        return None
    return None


def is_child(values: dict[str, list[str]]) -> bool:
    age = _survivor_age(values)
    return age is not None and age < CHILD_AGE


def consent_giver_default(values: dict[str, list[str]]) -> str:
    """The one person who may consent for a survivor of this age (Law on Children): preselected."""
    givers = allowed_givers(age=_survivor_age(values))
    if len(givers) == 1:
        return next(iter(givers))
    return ConsentGiver.SURVIVOR


def form_data(values: dict[str, list[str]]) -> MultiValueDict:
    """The draft's answers as the one-page form's posted data: the ordered GBVIMS choice becomes the
    questions' answers, the commune's name its code, and no consent unless sharing was chosen."""
    data = MultiValueDict({k: list(v) for k, v in values.items()})
    choice = (values.get("what_happened") or [""])[0]
    keys = [q.key for q in GBVIMS_QUESTIONS]
    if choice in keys or choice == NONE_OF_THESE:
        upto = keys.index(choice) if choice in keys else len(keys)
        for index, key in enumerate(keys[: upto + 1]):
            data.setlist(ANSWER_PREFIX + key, ["yes" if index == upto else "no"])
    name = (values.get("commune_name") or [""])[0]
    province = (values.get("province") or [""])[0]
    if name:
        commune = commune_find(province_code=province, name=name)
        # An unknown name is handed on as it is: the service answers "unknown commune".
        data.setlist("commune", [commune.code if commune else name[:10]])
    if (values.get("share") or ["no"])[0] != "yes":
        for key in list(data):
            if key.startswith(CONSENT_PREFIX):
                del data[key]
    return data


def intake_form(values: dict[str, list[str]], *, agency: Agency, bound: bool = True) -> IntakeForm:
    if bound:
        return IntakeForm(form_data(values), agencies=[agency])
    initial = {k: (v if len(v) != 1 else v[0]) for k, v in values.items()}
    initial.setdefault(CONSENT_PREFIX + "given_by", consent_giver_default(values))
    for name in ("tech_forms", CONSENT_PREFIX + "granted_categories", CONSENT_PREFIX + "refused_categories"):
        initial[name] = values.get(name, [])
    initial["statistics_consent"] = bool(values.get("statistics_consent"))
    initial[CONSENT_PREFIX + "emergency_override"] = bool(values.get(CONSENT_PREFIX + "emergency_override"))
    return IntakeForm(initial=initial, agencies=[agency])


def _prefixed(part: str, messages: dict[str, list[str]]) -> dict[str, list[str]]:
    return {f"{part}.{key}": value for key, value in messages.items()}


def _service_errors(step: Step, form: IntakeForm, agency: Agency) -> ValidationError | None:
    """What opening the case would answer about this step's part: the same input serializers and
    domain rules as cases.forms.CaseOpenForm and cases.services.case_open."""
    data = form.cleaned_data
    if data.get("province") is None:
        return None
    arguments = form.service_arguments_partial()
    messages: dict[str, list[str]] = {}
    try:
        survivor = input_validate(SurvivorInputSerializer, arguments["survivor"])
    except ValidationError as exc:
        survivor = {}
        if step.key == "who":
            messages.update(_prefixed("survivor", exc.message_dict))
    part = "incident" if step.key == "what" else "consent"
    try:
        if step.key == "what":
            incident = input_validate(IncidentInputSerializer, arguments["incident"])
            messages.update(_prefixed(part, incident_rules_check(incident, birth_year=survivor.get("birth_year"))))
        elif step.key == "consent" and form.wants_consent():
            consent = input_validate(ConsentInputSerializer, _consent_data(data, CONSENT_PREFIX))
            age = Survivor(birth_year=survivor.get("birth_year")).age_on(timezone.localdate())
            messages.update(_prefixed(part, consent_rules_check(consent, age=age, lead_agency_id=agency.pk)))
    except ValidationError as exc:
        messages.update(_prefixed(part, exc.message_dict))
    return ValidationError(messages) if messages else None


def step_check(step: Step, values: dict[str, list[str]], *, agency: Agency) -> IntakeForm:
    """The bound form of all the answers, carrying only this step's errors (all of them at once:
    the form's own and the services')."""
    form = intake_form(values, agency=agency)
    form.is_valid()
    for name in list(form.errors):
        if name not in step.fields:
            del form.errors[name]
    if step.key in ("who", "what", "consent"):
        exc = _service_errors(step, form, agency)
        if exc is not None:
            # The services' messages for fields the form found nothing wrong with: all at once.
            for key, messages in exc.message_dict.items():
                name = form.field_for_error(key)
                if name in step.fields and name not in form.errors:
                    form.add_error(name, messages)
    return form
