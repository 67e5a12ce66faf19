"""Forms of the privacy pages; checks of meaning stay in privacy.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import ServiceErrorsMixin
from config.api import input_validate

from .models import RefusalGround, Requester, RequestKind
from .serializers import ReasonInputSerializer, RequestDecisionInputSerializer, RequestRecordInputSerializer
from .services import ERASURE_OUTCOME_FIXED, TEXT_MAX


class RequestRecordForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What she asks"), choices=RequestKind.choices)
    requester = forms.ChoiceField(label=_("Made by"), choices=Requester.choices)
    details = forms.CharField(label=_("Details of the request"), max_length=TEXT_MAX, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def service_data(self) -> dict:
        return input_validate(RequestRecordInputSerializer,
                              {key: self.cleaned_data[key] for key in ("kind", "requester", "details")})


class DecisionForm(ServiceErrorsMixin, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("grant", _("Grant")), ("refuse", _("Refuse"))])
    refusal_ground = forms.ChoiceField(label=_("Ground for refusal"), required=False,
                                       choices=[("", "—"), *RefusalGround.choices])
    outcome = forms.CharField(label=_("Outcome (what was done, or why it is refused)"), max_length=TEXT_MAX,
                              required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, kind: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if kind == RequestKind.ERASURE:
            self.fields["outcome"].help_text = ERASURE_OUTCOME_FIXED

    def service_data(self) -> dict:
        return input_validate(RequestDecisionInputSerializer,
                              {key: self.cleaned_data[key] for key in ("decision", "refusal_ground", "outcome")})


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}))

    def service_data(self) -> dict:
        return input_validate(ReasonInputSerializer, {"reason": self.cleaned_data["reason"]})
