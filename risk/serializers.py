"""Input of the risk operations, one declaration for the API (risk.apis) and the pages (risk.forms
validate with it too, config.api.input_validate). The services take the checked values: the
assessment's variant as the instrument's Variant, answers of that variant's items only.

Which variant an assessment is of depends on the assessor's draft (a draft keeps its own) and on the
survivor's age (the default), so the edge gives the serializer both in its context:
`assessment_input_context(access=..., user=...)`.
"""

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import serializers

from cases.models import RiskLevel
from cases.selectors import CaseAccess
from config.api import StrictInputSerializer, TextField

from .instrument import ANSWERS, Variant, instrument_current
from .models import AssessmentVariant
from .selectors import assessment_draft_for
from .services import REASON_LIMIT, RISK_REVIEW_TRIGGERS, variant_default

# What a person reports; a new incident makes a review due by itself.
REVIEW_TRIGGERS = tuple(t for t in RISK_REVIEW_TRIGGERS if t != "new_incident")


def assessment_input_context(*, access: CaseAccess, user: User) -> dict:
    """What AssessmentInputSerializer needs to know of the case: the variant of the user's draft, if
    they have one, and the default variant for the survivor."""
    draft = assessment_draft_for(access=access, user=user)
    return {"draft_variant": draft.variant if draft else None, "default_variant": variant_default(access.case)}


class AnswersField(serializers.DictField):
    """Item code: yes, no or not_known, for the items of the assessment's variant. An empty answer
    (null, "") is no answer; each bad item has its messages under `answers.<code>`."""

    child = serializers.ChoiceField(choices=ANSWERS)
    default_error_messages = {"not_a_dict": _lazy("Give the answers as item: yes, no or not_known.")}

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            self.fail("not_a_dict")
        variant = self.parent.variant_resolve(self.parent.initial_data)
        answers: dict[str, str] = {}
        errors: dict[str, list[str]] = {}
        for code, value in data.items():
            code = str(code)
            if variant is not None and code not in variant.item_codes:
                errors[code] = [_("Not an item of this form.")]
            elif value is None or value == "":
                continue
            elif not isinstance(value, str) or value not in ANSWERS:
                errors[code] = [_("Answer yes, no or not known.")]
            else:
                answers[code] = value
        if errors:
            raise serializers.ValidationError(errors)
        return answers


class AssessmentInputSerializer(StrictInputSerializer):
    """Saving an assessment (risk.services.assessment_save): the answers so far, or with `complete`
    the whole form and the professional judgement. `variant` comes out as the instrument's Variant."""

    variant = serializers.ChoiceField(
        choices=AssessmentVariant.choices, required=False,
        error_messages={"invalid_choice": _lazy("Choose the adult or the child form.")},
        help_text="Defaults to child for a survivor under 16, adult otherwise; a draft keeps its own.")
    answers = AnswersField(required=False, help_text="Item code (GET /api/risk/instrument/): yes, no or not_known.")
    raised_level = serializers.ChoiceField(
        choices=RiskLevel.choices, required=False, allow_blank=True,
        error_messages={"invalid_choice": _lazy("Choose a risk level.")},
        help_text="Professional judgement: a level above the computed one.")
    judgement_reason = TextField(max_length=REASON_LIMIT, required=False, allow_blank=True,
                                 help_text="Why the level is raised; needed to raise it.")
    complete = serializers.BooleanField(
        default=True, help_text="false saves the answers so far as your draft (continued by the next call).")

    class Meta:
        ref_name = "RiskAssessmentInput"

    def variant_resolve(self, data) -> Variant | None:
        """The draft's variant, else the one asked for, else the survivor's default; None when the one
        asked for is not a variant of the instrument in force."""
        variants = instrument_current().variants
        code = self.context.get("draft_variant")
        if not code:
            asked = data.get("variant") if isinstance(data, Mapping) else None
            code = asked if asked not in (None, "") else self.context.get("default_variant")
        return variants.get(code) if isinstance(code, str) else None

    def validate(self, attrs):
        variant = self.variant_resolve(self.initial_data)
        if variant is None:
            raise serializers.ValidationError({"variant": [_("Choose the adult or the child form.")]})
        return {"variant": variant, "answers": attrs.get("answers", {}),
                "raised_level": attrs.get("raised_level", ""), "judgement_reason": attrs.get("judgement_reason", ""),
                "complete": attrs["complete"]}


class ReviewRequestInputSerializer(StrictInputSerializer):
    """A separation or a breach of an order reported (risk.services.risk_review_request)."""

    trigger = serializers.ChoiceField(
        choices=REVIEW_TRIGGERS,
        error_messages={"invalid_choice": _lazy("Choose a separation or a breach of an order.")},
        help_text="A separation, or a breach of an order (a new incident makes a review due by itself).")

    class Meta:
        ref_name = "RiskReviewInput"
