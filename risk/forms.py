"""The assessment form: one radio group per item of the instrument's variant (yes / no / not known),
and the professional judgement. Built from the instrument file, so a new version needs no code.
The posted fields become the operation's input, checked by the API's serializer
(risk.serializers, through config.api.input_validate); the rules stay in risk.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import ServiceErrorsMixin
from cases.models import RiskLevel
from config.api import input_validate
from config.forms import TypedTextField

from .instrument import Variant
from .serializers import AssessmentInputSerializer, ReviewRequestInputSerializer
from .services import REASON_LIMIT

ANSWER_CHOICES = [("yes", _("Yes")), ("no", _("No")), ("not_known", _("Not known"))]
REVIEW_CHOICES = [("separation", _("Separation")), ("breach", _("Breach of an order"))]


def item_field_name(code: str) -> str:
    return f"item_{code}"


class AssessmentForm(ServiceErrorsMixin, forms.Form):
    raised_level = forms.ChoiceField(
        label=_("Professional judgement: raise the level to"), required=False,
        choices=[("", _("Keep the level the checklist gives"))] + RiskLevel.choices,
        help_text=_("You may raise the level, never lower it. Write why."),
    )
    judgement_reason = TypedTextField(label=_("Why you raise the level"), max_length=REASON_LIMIT, required=False,
                                       widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, variant: Variant, **kwargs):
        super().__init__(*args, **kwargs)
        self.variant = variant
        items = {}
        for number, item in enumerate(variant.items, start=1):
            items[item_field_name(item.code)] = forms.ChoiceField(
                label=f"{number}. {item.text}", choices=ANSWER_CHOICES, required=False, widget=forms.RadioSelect)
        # The items first, in the instrument's order, then the judgement.
        self.fields = {**items, **self.fields}

    @property
    def item_fields(self):
        return [self[item_field_name(item.code)] for item in self.variant.items]

    def field_for_error(self, key: str) -> str | None:
        if key.startswith("answers."):
            name = item_field_name(key.removeprefix("answers."))
            return name if name in self.fields else None
        return super().field_for_error(key)

    def service_data(self, *, complete: bool, **context) -> dict:
        """The values of risk.services.assessment_save; `context` is
        risk.serializers.assessment_input_context's (ValidationError by field otherwise)."""
        answers = {item.code: self.cleaned_data[item_field_name(item.code)] for item in self.variant.items
                   if self.cleaned_data.get(item_field_name(item.code))}
        return input_validate(AssessmentInputSerializer, {
            "variant": self.variant.code, "answers": answers, "raised_level": self.cleaned_data["raised_level"],
            "judgement_reason": self.cleaned_data["judgement_reason"], "complete": complete,
        }, **context)


class ReviewForm(forms.Form):
    trigger = forms.ChoiceField(label=_("What happened"), choices=REVIEW_CHOICES)

    def service_data(self) -> dict:
        """The values of risk.services.risk_review_request (ValidationError by field otherwise)."""
        return input_validate(ReviewRequestInputSerializer, {"trigger": self.cleaned_data["trigger"]})
