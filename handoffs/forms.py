"""Forms of the handoff and case-deadline pages. They turn posted text into the plain dicts the
services take; the rules (consent, who may send, which states allow what) live in the services,
whose messages are put next to the fields they concern."""

from django import forms
from django.utils.translation import gettext_lazy as _

from agencies.models import Sector
from cases.forms import ServiceErrorsMixin, _consent_fields
from cases.serializers import TEXT_LIMITS, ConsentManyInputSerializer
from config.api import input_validate
from config.forms import TypedTextField
from handoffs.apis import HandoffSendApi
from handoffs.models import HandoffKind, HandoffService, HandoffStatus, Urgency
from permissions.categories import DataCategory

from .services import MESSAGE_LIMIT, REASON_LIMIT


def _labels(values) -> list[tuple[str, str]]:
    """DataCategory choices limited to `values`, in the vocabulary's order."""
    return [(value, label) for value, label in DataCategory.choices if value in values]


def consent_summary(shareable, refused) -> str:
    """What the consent in force allows for one agency, in a few words (shown beside its name)."""
    if not shareable and not refused:
        return str(_("consent recorded, no data category"))
    parts = []
    if shareable:
        parts.append(str(_("consent: %(c)s")) % {"c": ", ".join(str(label) for _v, label in _labels(shareable))})
    if refused:
        parts.append(str(_("refused: %(c)s")) % {"c": ", ".join(str(label) for _v, label in _labels(refused))})
    return "; ".join(parts)


def agency_choices_grouped(agencies, *, first_province_id: int | None, allowed: dict) -> list:
    """Agencies as <optgroup>s by province and sector, the case's province first; each label says
    what the survivor's consent in force allows for that agency, or that there is none."""
    sector_labels = dict(Sector.choices)
    ordered = sorted(agencies, key=lambda a: (a.province_id != first_province_id, a.province.code, a.sector, a.name))
    groups: list[tuple[str, list]] = []
    for agency in ordered:
        title = f"{agency.province.name} · {sector_labels.get(agency.sector, agency.sector)}"
        if not groups or groups[-1][0] != title:
            groups.append((title, []))
        if agency.pk in allowed:
            label = f"{agency.name} ({consent_summary(*allowed[agency.pk])})"
        else:
            label = str(_("%(name)s (no consent yet)")) % {"name": agency.name}
        groups[-1][1].append((str(agency.pk), label))
    return groups


class AgencyChoiceForm(forms.Form):
    """Step one of sending: the receiving agency, whose consent decides what step two offers."""

    to_agency = forms.TypedChoiceField(label=_("Receiving agency"), coerce=int)

    def __init__(self, *args, agencies, first_province_id=None, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].choices = [("", _("— choose an agency —"))] + agency_choices_grouped(
            agencies, first_province_id=first_province_id, allowed=allowed or {}
        )


class HandoffSendForm(ServiceErrorsMixin, forms.Form):
    """Step two: what is asked of the chosen agency. Categories are limited to what the consent in
    force allows it; the others (never the refused ones) can only go with an emergency override."""

    to_agency = forms.IntegerField(widget=forms.HiddenInput)
    forwarded_from = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=HandoffKind.choices, initial=HandoffKind.REFERRAL,
                             widget=forms.RadioSelect)
    services = forms.MultipleChoiceField(label=_("Services asked"), choices=HandoffService.choices,
                                         widget=forms.CheckboxSelectMultiple)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.STANDARD,
                                widget=forms.RadioSelect,
                                help_text=_("The urgency sets the receiving agency's response deadline."))
    categories = forms.MultipleChoiceField(label=_("Data to share (within the survivor's consent)"), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    message = TypedTextField(label=_("Message to the receiving agency"), required=False, max_length=MESSAGE_LIMIT,
                              widget=forms.Textarea(attrs={"rows": 4}))
    emergency_override = forms.BooleanField(
        label=_("Emergency override: danger to life, share without consent"), required=False)
    override_categories = forms.MultipleChoiceField(
        label=_("Also share, only with the emergency override"), required=False,
        widget=forms.CheckboxSelectMultiple)
    override_reason = TypedTextField(
        label=_("Reason for the override"), required=False, max_length=TEXT_LIMITS["override_reason"],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required with the override. A supervisor reviews every override."))

    # Service keys that have no visible field of their own are shown at the top of the form.
    SERVICE_KEYS = {"kind", "services", "urgency", "categories", "message", "emergency_override",
                    "override_reason"}

    def __init__(self, *args, shareable, refused, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = _labels(shareable)
        self.fields["override_categories"].choices = _labels(set(DataCategory.values) - set(shareable) - set(refused))
        if not self.is_bound:
            self.initial.setdefault("categories", [value for value, _label in self.fields["categories"].choices])

    def field_for_error(self, key: str) -> str | None:
        return key if key in self.SERVICE_KEYS else None

    def service_data(self) -> dict:
        data = self.cleaned_data
        values = {
            "kind": data["kind"], "to_agency": data["to_agency"], "services": data["services"],
            "urgency": data["urgency"], "categories": list(data["categories"]) + list(data["override_categories"]),
            "message": data["message"], "emergency_override": data["emergency_override"],
            "override_reason": data["override_reason"],
        }
        if data.get("forwarded_from"):
            values["forwarded_from"] = data["forwarded_from"]
        return input_validate(HandoffSendApi.InputSerializer, values)


class HandoffConsentForm(ServiceErrorsMixin, forms.Form):
    """The survivor's consent recorded inside the send form, for several recipients at once (the
    receiving agency, whole sectors); cases.services.consent_record_many records one consent per
    recipient, all or none."""

    prefix = "consent"
    FIELDS = ("granted_categories", "refused_categories", "purpose", "given_by", "guardian_relationship")

    recipients = forms.MultipleChoiceField(label=_("The survivor agrees for"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, to_agency, **kwargs):
        super().__init__(*args, **kwargs)
        fields = _consent_fields(required=True)
        for name in self.FIELDS:
            self.fields[name] = fields[name]
        sector_label = dict(Sector.choices)
        self.fields["recipients"].choices = [
            (f"agency:{to_agency.pk}", _("%(agency)s only") % {"agency": to_agency.name}),
            (f"sector:{to_agency.sector}", _("Every agency of the sector %(sector)s")
             % {"sector": sector_label.get(to_agency.sector, to_agency.sector)}),
        ] + [
            (f"sector:{value}", _("Every agency of the sector %(sector)s") % {"sector": label})
            for value, label in Sector.choices if value != to_agency.sector
        ]
        self.initial.setdefault("recipients", [f"agency:{to_agency.pk}"])

    def field_for_error(self, key: str) -> str | None:
        return key if key in self.fields else None

    def service_recipients(self) -> list[dict]:
        recipients = []
        for value in self.cleaned_data["recipients"]:
            kind, _sep, code = value.partition(":")
            recipients.append({"receiving_agency": int(code)} if kind == "agency" else {"receiving_sector": code})
        return recipients

    def service_arguments(self) -> dict:
        """consent_record_many's recipients and data, checked by ConsentManyInputSerializer."""
        return input_validate(ConsentManyInputSerializer, {
            "recipients": self.service_recipients(), **{name: self.cleaned_data.get(name) for name in self.FIELDS}})


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = TypedTextField(label=_("Reason"), max_length=REASON_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))


class OutcomeForm(ServiceErrorsMixin, forms.Form):
    outcome = TypedTextField(label=_("What your agency did"), max_length=MESSAGE_LIMIT,
                              widget=forms.Textarea(attrs={"rows": 3}))


class HandoffFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All"))] + HandoffStatus.choices, required=False)
