"""Forms of the privacy pages; checks of meaning stay in privacy.services."""

from collections.abc import Sequence

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.forms import ServiceErrorsMixin
from cases.models import Consent
from config.api import input_validate
from config.forms import TypedTextField

from .models import RefusalGround, Requester, RequestKind
from .serializers import ReasonInputSerializer, RequestDecisionInputSerializer, RequestRecordInputSerializer
from .services import FIXED_OUTCOMES, TEXT_MAX, consent_categories_label, consent_recipient_label


class RequestRecordForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What she asks"), choices=RequestKind.choices)
    requester = forms.ChoiceField(label=_("Made by"), choices=Requester.choices)
    details = TypedTextField(label=_("Details of the request"), max_length=TEXT_MAX, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def service_data(self) -> dict:
        return input_validate(RequestRecordInputSerializer,
                              {key: self.cleaned_data[key] for key in ("kind", "requester", "details")})


def consent_choice_label(consent: Consent) -> str:
    """A consent as the decision form lists it: to whom, what it shares, when it was given."""
    return gettext("%(recipient)s — shares %(categories)s — given on %(given_at)s") % {
        "recipient": consent_recipient_label(consent),
        "categories": consent_categories_label(consent.granted_categories),
        "given_at": formats.date_format(timezone.localtime(consent.recorded_at), "DATETIME_FORMAT")}


class DecisionForm(ServiceErrorsMixin, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("grant", _("Grant")), ("refuse", _("Refuse"))])
    refusal_ground = forms.ChoiceField(label=_("Ground for refusal"), required=False,
                                       choices=[("", "—"), *RefusalGround.choices])
    outcome = TypedTextField(label=_("Outcome (what was done, or why it is refused)"), max_length=TEXT_MAX,
                              required=False, widget=forms.Textarea(attrs={"rows": 3}))
    consent_ids = forms.TypedMultipleChoiceField(
        label=_("Consents she withdraws"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Granting withdraws each one chosen at once, as on the case page: the agency stops seeing "
                    "what it shared."))

    def __init__(self, *args, kind: str = "", consents: Sequence[Consent] = (), **kwargs) -> None:
        """`consents`: those a withdrawal of consent may end (privacy.selectors.consents_withdrawable),
        listed only on such a request."""
        super().__init__(*args, **kwargs)
        if kind in FIXED_OUTCOMES:
            self.fields["outcome"].help_text = FIXED_OUTCOMES[kind]
        if kind != RequestKind.WITHDRAW_CONSENT:
            del self.fields["consent_ids"]
        elif consents:
            self.fields["consent_ids"].choices = [(consent.pk, consent_choice_label(consent)) for consent in consents]
        else:
            self.fields["consent_ids"].help_text = _("No consent that shares anything is in force: granting "
                                                     "withdraws nothing.")

    def service_data(self) -> dict:
        keys = [key for key in ("decision", "refusal_ground", "outcome", "consent_ids") if key in self.fields]
        return input_validate(RequestDecisionInputSerializer, {key: self.cleaned_data[key] for key in keys})


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = TypedTextField(label=_("Reason"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}))

    def service_data(self) -> dict:
        return input_validate(ReasonInputSerializer, {"reason": self.cleaned_data["reason"]})
