"""Forms of the handoff and case-deadline pages. They turn posted text into the plain dicts the
services take; the rules (consent, who may send, which states allow what) live in the services,
whose messages are put next to the fields they concern."""

from django import forms
from django.utils.translation import gettext_lazy as _

from agencies.models import Sector
from notifications.models import Deadline
from permissions.categories import DataCategory

from .forms import ServiceErrorsMixin
from .handoffs import MESSAGE_LIMIT, REASON_LIMIT
from .inputs import TEXT_LIMITS
from .models import HandoffKind, HandoffService, HandoffStatus, Urgency


def _labels(values) -> list[tuple[str, str]]:
    """DataCategory choices limited to `values`, in the vocabulary's order."""
    return [(value, label) for value, label in DataCategory.choices if value in values]


def agency_choices_grouped(agencies, *, first_province_id: int | None, consented_ids: set[int]) -> list:
    """Agencies as <optgroup>s by province and sector, the case's province first; an agency the
    survivor agreed to involve says so in its label."""
    sector_labels = dict(Sector.choices)
    ordered = sorted(agencies, key=lambda a: (a.province_id != first_province_id, a.province.code, a.sector, a.name))
    groups: list[tuple[str, list]] = []
    for agency in ordered:
        title = f"{agency.province.name} · {sector_labels.get(agency.sector, agency.sector)}"
        if not groups or groups[-1][0] != title:
            groups.append((title, []))
        label = agency.name
        if agency.pk in consented_ids:
            label = _("%(name)s (consent recorded)") % {"name": agency.name}
        groups[-1][1].append((str(agency.pk), label))
    return groups


class AgencyChoiceForm(forms.Form):
    """Step one of sending: the receiving agency, whose consent decides what step two offers."""

    to_agency = forms.TypedChoiceField(label=_("Receiving agency"), coerce=int)

    def __init__(self, *args, agencies, first_province_id=None, consented_ids=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].choices = [("", _("— choose an agency —"))] + agency_choices_grouped(
            agencies, first_province_id=first_province_id, consented_ids=set(consented_ids)
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
    message = forms.CharField(label=_("Message to the receiving agency"), required=False, max_length=MESSAGE_LIMIT,
                              widget=forms.Textarea(attrs={"rows": 4}))
    emergency_override = forms.BooleanField(
        label=_("Emergency override: danger to life, share without consent"), required=False)
    override_categories = forms.MultipleChoiceField(
        label=_("Also share, only with the emergency override"), required=False,
        widget=forms.CheckboxSelectMultiple)
    override_reason = forms.CharField(
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
        return values


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))


class OutcomeForm(ServiceErrorsMixin, forms.Form):
    outcome = forms.CharField(label=_("What your agency did"), max_length=MESSAGE_LIMIT,
                              widget=forms.Textarea(attrs={"rows": 3}))


class HandoffFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All"))] + HandoffStatus.choices, required=False)


class CaseDeadlineForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), widget=forms.RadioSelect, initial=Deadline.Kind.FOLLOW_UP,
        choices=[(Deadline.Kind.FOLLOW_UP, Deadline.Kind.FOLLOW_UP.label),
                 (Deadline.Kind.ACTION_PLAN, Deadline.Kind.ACTION_PLAN.label)],
    )
    due_at = forms.DateTimeField(
        label=_("Due"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Viet Nam time. You are reminded before it; your supervisors are told if it passes."),
    )

    def service_data(self) -> dict:
        return dict(self.cleaned_data)

