"""Forms of the takedown pages: record a request, record its outcome. Checks of meaning stay in
takedowns.services; these turn form fields into the service's input, checked by the API's input
serializers (takedowns.apis)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import ServiceErrorsMixin
from cases.models import ActionType
from cases.serializers import ACTION_DEFAULT_CATEGORY, TEXT_LIMITS
from config.api import input_validate
from config.forms import TypedTextField
from permissions.categories import ACTION_CATEGORY_CHOICES
from takedowns.apis import TakedownOutcomeApi, TakedownRecordApi
from takedowns.models import TakedownOutcome, TakedownPlatform

from .services import REFERENCE_LIMIT


class TakedownRequestForm(ServiceErrorsMixin, forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=TakedownPlatform.choices)
    content_reference = forms.CharField(
        label=_("Address or ID of the content"), max_length=REFERENCE_LIMIT, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Only a keyed fingerprint of it is kept, to recognise the same content again. Never upload "
                    "or paste the image itself."),
    )
    category = forms.ChoiceField(label=_("Who may read it (data category)"))
    text = TypedTextField(label=_("Details"), max_length=TEXT_LIMITS["text"], required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        # As for any action: a responder writes only in a category they can read.
        self.fields["category"].choices = [(v, label) for v, label in ACTION_CATEGORY_CHOICES if access.sees(v)]
        default = ACTION_DEFAULT_CATEGORY[ActionType.TAKEDOWN_REQUESTED]
        if access.sees(default):
            self.fields["category"].initial = default

    def service_data(self) -> dict:
        return input_validate(TakedownRecordApi.InputSerializer, {
            key: self.cleaned_data[key] for key in ("platform", "content_reference", "category", "text")})


class TakedownOutcomeForm(ServiceErrorsMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=TakedownOutcome.choices)

    def service_data(self) -> dict:
        return input_validate(TakedownOutcomeApi.InputSerializer, {"outcome": self.cleaned_data["outcome"]})
