"""The intake's steps: which fields each asks, in which order, and how a posted step is merged into the
draft's answers."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..forms import CONSENT_PREFIX

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


# Checkboxes: absent from a posted step means unticked. Any other field absent keeps its answer.
CHECKBOX_FIELDS = frozenset({
    "tech_forms", "statistics_consent", CONSENT_PREFIX + "granted_categories", CONSENT_PREFIX + "refused_categories",
    CONSENT_PREFIX + "emergency_override",
})


def _step_values(step: Step, posted) -> dict[str, list[str]]:
    """The posted answers of one step (and only those), as lists."""
    return {name: [v for v in posted.getlist(name) if v != ""] for name in step.fields
            if name in posted or name in CHECKBOX_FIELDS}


def draft_merge(draft_values_: dict[str, list[str]], step: Step, posted) -> dict[str, list[str]]:
    values = dict(draft_values_)
    values.update(_step_values(step, posted))
    return values
