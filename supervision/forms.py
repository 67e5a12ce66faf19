"""Forms of the supervision pages. Filter forms read GET parameters; the review and break-glass forms
only shape the input: the services check it again and their messages are put back on the fields."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Sector
from audit.models import AuditAction
from cases.models import Case
from config.api import input_validate
from config.forms import TypedTextField
from handoffs.models import HandoffKind, HandoffStatus, Urgency
from permissions.categories import DataCategory

from .access_review import DEFAULT_MIN_CASES, AccessFilters
from .dashboard import DEFAULT_WEEKS, MAX_WEEKS
from .models import DeadlineState, Direction, Verdict
from .selectors import DEFAULT_HANDED_ON_MORE_THAN, DEFAULT_IDLE_DAYS, RegisterFilters
from .serializers import COMMENT_MAX_LENGTH, ReviewInputSerializer

ANY = [("", _("Any"))]
DEADLINE_CHOICES = DeadlineState.choices
DIRECTION_CHOICES = Direction.choices
REVIEWED_CHOICES = [("no", _("Not yet reviewed")), ("yes", _("Reviewed"))]
MAX_PERIOD_DAYS = 3660


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, messages in exc.message_dict.items():
            self.add_error(key if key in self.fields else None, messages)


class PeriodMixin:
    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                self.add_error("until", _("The end of the period comes before its start."))
            elif (until - since).days > MAX_PERIOD_DAYS:
                self.add_error("since", _("Choose a period of at most ten years."))
        return data


class RegisterFilterForm(PeriodMixin, forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=ANY + DIRECTION_CHOICES, required=False)
    status = forms.MultipleChoiceField(label=_("Status"), choices=HandoffStatus.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=ANY + Urgency.choices, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=ANY + HandoffKind.choices, required=False)
    since = forms.DateField(label=_("Sent from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Sent until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    counterpart = forms.TypedChoiceField(label=_("Other agency"), coerce=int, required=False, empty_value=None)
    sector = forms.ChoiceField(label=_("Other agency's sector"), choices=ANY + Sector.choices, required=False)
    deadline = forms.ChoiceField(label=_("Response deadline"), choices=ANY + DEADLINE_CHOICES, required=False)
    overdue = forms.BooleanField(label=_("Only those waiting past their deadline"), required=False)
    reviewed = forms.ChoiceField(label=_("Review"), choices=ANY + REVIEWED_CHOICES, required=False)
    more_than = forms.IntegerField(label=_("Cases handed on more than (times)"), min_value=0, max_value=100,
                                   required=False)
    idle_days = forms.IntegerField(label=_("Cases with no action for (days)"), min_value=1, max_value=3650,
                                   required=False)

    def __init__(self, *args, counterparts: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counterpart"].choices = ANY + list(counterparts)

    def filters(self) -> RegisterFilters:
        data = self.cleaned_data
        return RegisterFilters(
            direction=data.get("direction") or None, statuses=tuple(data.get("status") or ()),
            urgency=data.get("urgency") or None, kind=data.get("kind") or None, since=data.get("since"),
            until=data.get("until"), counterpart=data.get("counterpart"), sector=data.get("sector") or None,
            overdue=bool(data.get("overdue")), deadline=data.get("deadline") or None,
            reviewed={"yes": True, "no": False}.get(data.get("reviewed") or ""),
        )

    def more_than_value(self) -> int:
        value = self.cleaned_data.get("more_than")
        return DEFAULT_HANDED_ON_MORE_THAN if value is None else value

    def idle_days_value(self) -> int:
        return self.cleaned_data.get("idle_days") or DEFAULT_IDLE_DAYS


class ReviewForm(ServiceErrorsMixin, forms.Form):
    verdict = forms.ChoiceField(label=_("Verdict"), choices=Verdict.choices, widget=forms.RadioSelect)
    comment = TypedTextField(label=_("Comment"), required=False, max_length=COMMENT_MAX_LENGTH,
                              help_text=_("Required with a concern."), widget=forms.Textarea(attrs={"rows": 3}))
    follow_up_due = forms.DateTimeField(
        label=_("Follow-up due"), required=False, help_text=_("Required when a follow-up is needed."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def service_arguments(self) -> dict:
        """The review service's arguments, checked by the API's ReviewInputSerializer."""
        data = self.cleaned_data
        return input_validate(ReviewInputSerializer, {"verdict": data["verdict"], "comment": data.get("comment") or "",
                                                      "follow_up_due": data.get("follow_up_due")})


class AccessLogFilterForm(PeriodMixin, forms.Form):
    case = forms.CharField(label=_("Case number"), required=False, max_length=20)
    actor = forms.CharField(label=_("User name"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), choices=ANY + AuditAction.choices, required=False)
    category = forms.ChoiceField(label=_("Data category"), choices=ANY + DataCategory.choices, required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.case_id = None

    def clean_case(self):
        number = (self.cleaned_data.get("case") or "").strip()
        if number:
            case_id = Case.objects.filter(lead_agency=self.agency, number__iexact=number).values_list(
                "pk", flat=True).first()
            if case_id is None:
                raise ValidationError(_("No case led by your agency has this number."))
            self.case_id = case_id
        return number

    def filters(self) -> AccessFilters:
        data = self.cleaned_data
        return AccessFilters(case_id=self.case_id, actor=(data.get("actor") or "").strip() or None,
                             action=data.get("action") or None, category=data.get("category") or None,
                             since=data.get("since"), until=data.get("until"))

    def as_details(self) -> dict:
        """The filters as recorded in the export's audit event."""
        data = self.cleaned_data
        return {key: (value.isoformat() if hasattr(value, "isoformat") else value)
                for key, value in data.items() if value not in (None, "")}


class UnusualAccessForm(PeriodMixin, forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    min_cases = forms.IntegerField(label=_("Cases read without acting, at least"), min_value=1, max_value=10000,
                                   required=False)

    def min_cases_value(self) -> int:
        return self.cleaned_data.get("min_cases") or DEFAULT_MIN_CASES


class DashboardForm(forms.Form):
    weeks = forms.IntegerField(label=_("Weeks"), min_value=1, max_value=MAX_WEEKS, required=False)

    def weeks_value(self) -> int:
        return self.cleaned_data.get("weeks") or DEFAULT_WEEKS


class BreakGlassForm(ServiceErrorsMixin, forms.Form):
    case_number = forms.CharField(label=_("Case number"), max_length=20)
    reason = TypedTextField(label=_("Why you must open this case now"), widget=forms.Textarea(attrs={"rows": 4}),
                             max_length=2000)
    categories = forms.MultipleChoiceField(
        label=_("Data categories you need"), choices=DataCategory.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only what the emergency needs. The case's general facts are always shown."),
    )
