"""The GBVIMS incident classification and the reporting-delay bucket.

GBVIMS asks its questions in a fixed order and the first "yes" decides the type, so that the
most severe act is the one counted: an incident with both rape and physical assault is a rape.
Answers are asked only until the first "yes", so later answers may be missing; earlier ones may not.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import GbvType, ReportingDelay


@dataclass(frozen=True)
class GbvimsQuestion:
    key: str
    text: Promise
    gbv_type: str


GBVIMS_QUESTIONS: tuple[GbvimsQuestion, ...] = (
    GbvimsQuestion(
        "penetration",
        _("Did the reported incident involve non-consensual penetration, however slight, of the vagina, anus "
          "or mouth with a penis or other body part, or of the vagina or anus with an object?"),
        GbvType.RAPE,
    ),
    GbvimsQuestion(
        "sexual_contact",
        _("Did the reported incident involve unwanted sexual contact that did not include penetration?"),
        GbvType.SEXUAL_ASSAULT,
    ),
    GbvimsQuestion(
        "physical_assault",
        _("Did the reported incident involve physical assault (hitting, slapping, kicking, shoving or other "
          "violence that is not sexual)?"),
        GbvType.PHYSICAL_ASSAULT,
    ),
    GbvimsQuestion(
        "forced_marriage",
        _("Was the incident an act of forced marriage?"),
        GbvType.FORCED_MARRIAGE,
    ),
    GbvimsQuestion(
        "denial_of_resources",
        _("Did the reported incident involve the denial of rightful access to economic resources or assets, "
          "livelihood opportunities, education, health or other social services?"),
        GbvType.DENIAL_OF_RESOURCES,
    ),
    GbvimsQuestion(
        "psychological_abuse",
        _("Did the reported incident involve psychological or emotional abuse (threats, humiliation, "
          "intimidation, isolation, stalking or harassment)?"),
        GbvType.PSYCHOLOGICAL_ABUSE,
    ),
)
GBVIMS_KEYS = frozenset(q.key for q in GBVIMS_QUESTIONS)


def gbvims_classify(*, answers: dict[str, bool]) -> str:
    """The GbvType value of the first question answered yes, or non-GBV when all six are no.

    Raises ValidationError (keyed by question) for a missing answer before the first yes, an answer
    that is not a boolean, or an unknown question."""
    if not isinstance(answers, dict):
        raise ValidationError({"answers": [gettext("Answer the classification questions with yes or no.")]})
    errors: dict[str, list[str]] = {}
    for key in sorted(set(answers) - GBVIMS_KEYS, key=str):
        errors[str(key)] = [gettext("Unknown classification question.")]
    for key in GBVIMS_KEYS & set(answers):
        if not isinstance(answers[key], bool):
            errors[key] = [gettext("Answer yes or no.")]
    if errors:
        raise ValidationError(errors)
    for question in GBVIMS_QUESTIONS:
        answer = answers.get(question.key)
        if answer is None:
            raise ValidationError({question.key: [gettext("This question must be answered.")]})
        if answer:
            return question.gbv_type
    return GbvType.NON_GBV


# Upper bounds (inclusive, in days) of the GBVIMS reporting-delay bands.
_DELAY_BANDS: tuple[tuple[int, str], ...] = (
    (3, ReportingDelay.DAYS_0_3),
    (5, ReportingDelay.DAYS_4_5),
    (14, ReportingDelay.DAYS_6_14),
    (30, ReportingDelay.DAYS_15_30),
)


def reporting_delay_bucket(*, occurred_on: datetime.date | None, reported_on: datetime.date) -> str:
    """Whole days from incident to report, as a GBVIMS band; unknown when the incident date is."""
    if occurred_on is None:
        return ReportingDelay.UNKNOWN
    days = (reported_on - occurred_on).days
    if days < 0:
        raise ValidationError({"occurred_on": [gettext("The incident cannot have happened after it was reported.")]})
    for upper, band in _DELAY_BANDS:
        if days <= upper:
            return band
    return ReportingDelay.OVER_30
