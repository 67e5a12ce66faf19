"""The page form of a deadline a responder sets on a case (deadlines.services.case_deadline_set)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import ServiceErrorsMixin
from config.api import input_validate
from notifications.models import Deadline

from .apis import CaseDeadlineSetApi


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
        return input_validate(CaseDeadlineSetApi.InputSerializer, self.cleaned_data)

