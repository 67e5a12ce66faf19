"""The guided intake: opening a case in a few short steps on a phone.

Who, what happened, risk and safety, consent and sharing, then "check your answers". What was
typed is saved on the server at each step in an IntakeDraft (encrypted, owned by one person acting
for one agency, gone INTAKE_DRAFT_HOURS after its last save), so a timeout or a dropped connection
loses nothing. The steps add nothing to the rules: each step is checked with the same form
(cases.forms.CaseOpenForm), the same input serializers (cases.serializers) and the same domain rules
(cases.services) as the one-page form, and the last step calls cases.services.case_open, so every
domain rule still applies there.
"""

import datetime
import json
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agencies.acting import acting_agency_pick
from agencies.models import Agency, Commune, Role
from config.api import input_validate
from config.exceptions import NotFound

from .classification import GBVIMS_QUESTIONS
from .forms import ANSWER_PREFIX, CONSENT_PREFIX, CaseOpenForm, _consent_data
from .models import (
    CHILD_AGE,
    ConsentGiver,
    Disability,
    GbvType,
    IntakeDraft,
    PerpetratorRelationship,
    RiskLevel,
    Sex,
    Survivor,
)
from .serializers import ConsentInputSerializer, IncidentInputSerializer, SurvivorInputSerializer
from .services import allowed_givers, consent_rules_check, incident_rules_check

OPENING_ROLES = (Role.RESPONDER, Role.SUPERVISOR)
# Session key: set at sign-in when the person has unfinished drafts, so that the next page offers them.
RESUME_SESSION_KEY = "intake_resume_offer"
NONE_OF_THESE = "none"


@dataclass(frozen=True)
class Step:
    key: str
    title: Promise
    fields: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step("who", _("Survivor"), (
        "full_name", "sex", "age", "birth_year", "phone", "guardian_name", "guardian_phone", "disability",
        "ethnicity", "address",
    )),
    Step("what", _("What happened"), (
        "what_happened", "tech_forms", "perpetrator_relationship", "occurred_on", "reported_on", "province",
        "commune_name",
    )),
    Step("risk", _("Risk and safety"), ("risk_level", "statistics_consent")),
    Step("consent", _("Consent and sharing"), (
        "share", *(CONSENT_PREFIX + name for name in (
            "receiving_agency", "receiving_sector", "granted_categories", "refused_categories", "purpose",
            "given_by", "guardian_relationship", "expires_at", "emergency_override", "override_reason",
        )),
    )),
    Step("check", _("Check your answers"), ()),
)
STEP_KEYS = tuple(step.key for step in STEPS)
STEP_BY_KEY = {step.key: step for step in STEPS}
STEP_OF_FIELD = {name: step.key for step in STEPS for name in step.fields}


def step_next(key: str) -> str:
    return STEP_KEYS[min(STEP_KEYS.index(key) + 1, len(STEP_KEYS) - 1)]


def step_previous(key: str) -> str | None:
    index = STEP_KEYS.index(key)
    return STEP_KEYS[index - 1] if index else None


# --- The form ------------------------------------------------------------------------------------


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


# --- Draft data ----------------------------------------------------------------------------------


def draft_defaults(*, agency: Agency) -> dict[str, list[str]]:
    """Sensible starting answers: what most cases are, changed with one tap when they are not."""
    return {
        "sex": [Sex.FEMALE], "disability": [Disability.UNKNOWN], "province": [agency.province.code],
        "reported_on": [timezone.localdate().isoformat()],
        "perpetrator_relationship": [PerpetratorRelationship.UNKNOWN], "risk_level": [RiskLevel.MEDIUM],
        "statistics_consent": ["on"], "share": ["no"],
    }


def draft_values(draft: IntakeDraft) -> dict[str, list[str]]:
    try:
        data = json.loads(draft.data or "{}")
    except ValueError:
        return {}
    return {str(k): [str(v) for v in values] for k, values in data.items() if isinstance(values, list)}


# Checkboxes: absent from a posted step means unticked. Any other field absent keeps its answer.
CHECKBOX_FIELDS = frozenset({
    "tech_forms", "statistics_consent", CONSENT_PREFIX + "granted_categories", CONSENT_PREFIX + "refused_categories",
    CONSENT_PREFIX + "emergency_override",
})


def _step_values(step: Step, posted) -> dict[str, list[str]]:
    """The posted answers of one step (and only those), as lists."""
    return {name: [v for v in posted.getlist(name) if v != ""] for name in step.fields
            if name in posted or name in CHECKBOX_FIELDS}


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


def commune_find(*, province_code: str, name: str) -> Commune | None:
    """The commune in force today in the province, by its name (any case: compared in Python, since
    SQLite folds the case of ASCII letters only) or by its code."""
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        return None
    today = timezone.localdate()
    in_force = Q(valid_from__lte=today) & (Q(valid_to__isnull=True) | Q(valid_to__gt=today))
    candidates = list(Commune.objects.filter(in_force, province__code=province_code))
    matches = [c for c in candidates if c.name.casefold() == wanted]
    if len(matches) == 1:
        return matches[0]
    return next((c for c in candidates if c.code == name.strip()), None)


def communes_in_force(*, province_code: str) -> list[tuple[str, str]]:
    today = timezone.localdate()
    return list(
        Commune.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today), valid_from__lte=today,
                               province__code=province_code).order_by("name").values_list("code", "name")
    )


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


# --- Checking a step -----------------------------------------------------------------------------


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


# --- Drafts --------------------------------------------------------------------------------------


def _expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(hours=settings.INTAKE_DRAFT_HOURS)


def draft_create(*, user: User, agency: Agency, values: dict[str, list[str]], step: str) -> IntakeDraft:
    now = timezone.now()
    # Expired drafts are never shown; they are deleted here, at the next start of anyone's intake.
    IntakeDraft.objects.filter(expires_at__lte=now).delete()
    return IntakeDraft.objects.create(user=user, agency=agency, data=json.dumps(values), step=step,
                                      created_at=now, updated_at=now, expires_at=_expiry(now))


def draft_save(*, draft: IntakeDraft, values: dict[str, list[str]], step: str) -> None:
    now = timezone.now()
    draft.data, draft.step, draft.updated_at, draft.expires_at = json.dumps(values), step, now, _expiry(now)
    draft.save(update_fields=["data", "step", "updated_at", "expires_at"])


def draft_merge(draft_values_: dict[str, list[str]], step: Step, posted) -> dict[str, list[str]]:
    values = dict(draft_values_)
    values.update(_step_values(step, posted))
    return values


def drafts_of(*, user: User, agency_id: int | None):
    """The person's unexpired drafts for the agency they act for: nobody else's, ever."""
    if agency_id is None or not getattr(user, "is_authenticated", False):
        return IntakeDraft.objects.none()
    return IntakeDraft.objects.filter(user=user, agency_id=agency_id, expires_at__gt=timezone.now())


def draft_get(*, user: User, agency_id: int | None, draft_id: int) -> IntakeDraft:
    draft = drafts_of(user=user, agency_id=agency_id).filter(pk=draft_id).first()
    if draft is None:
        raise NotFound
    return draft


def opening_agencies(*, user: User) -> list[Agency]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Agency.objects.filter(
        active=True, memberships__user=user, memberships__role__in=OPENING_ROLES,
    ).select_related("province").distinct().order_by("name", "pk"))


def acting_opening_agency(*, user: User) -> tuple[list[Agency], Agency | None]:
    agencies = opening_agencies(user=user)
    acting_id = acting_agency_pick(member_agency_ids=[a.pk for a in agencies])
    return agencies, next((a for a in agencies if a.pk == acting_id), None)


@receiver(user_logged_in, dispatch_uid="cases.intake.offer_unfinished_drafts")
def offer_unfinished_drafts(sender, request, user: User, **kwargs) -> None:
    """After signing in (also after a timeout), the next page offers the unfinished cases."""
    if request is None or not hasattr(request, "session") or request.path.startswith("/api/"):
        return
    if IntakeDraft.objects.filter(user=user, expires_at__gt=timezone.now()).exists():
        request.session[RESUME_SESSION_KEY] = True
