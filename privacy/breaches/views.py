"""Pages of personal-data breaches: the list, recording one (system administrators), and one breach
(read by the supervisors of an affected agency; changed by system administrators)."""

import functools

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from agencies.models import Agency
from cases.forms import ServiceErrorsMixin
from cases.pages import Posted, form_sender, posted_once
from config.api import input_validate
from config.exceptions import row_id_or_none
from config.forms import TypedTextField
from permissions.categories import DataCategory

from ..models import BreachStatus
from .selectors import breach_get_for_user, breach_list_for_user, is_breach_admin
from .serializers import BreachInputSerializer
from .services import breach_record, breach_update

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AgencyIdsField(forms.ModelMultipleChoiceField):
    """Agencies chosen by id. A value that is no id ("²", a number beyond a bigint) is an invalid choice
    before any query: on SQLite Django's own field let OverflowError out of the query (a 500)."""

    def clean(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            if row_id_or_none(pk) is None:
                raise forms.ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                      params={"pk": pk})
        return super().clean(value)


class BreachForm(ServiceErrorsMixin, forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=BreachStatus.choices, initial=BreachStatus.SUSPECTED)
    discovered_at = forms.DateTimeField(label=_("time of discovery"), widget=DATETIME_WIDGET)
    occurred_at = forms.DateTimeField(label=_("time it happened (if known)"), widget=DATETIME_WIDGET, required=False)
    description = TypedTextField(label=_("description of the breach"), max_length=10000)
    categories = forms.MultipleChoiceField(label=_("categories of personal data"), choices=DataCategory.choices,
                                           widget=forms.CheckboxSelectMultiple, required=False)
    subjects_approx = forms.IntegerField(label=_("approximate number of data subjects"), min_value=0, required=False)
    records_approx = forms.IntegerField(label=_("approximate number of records"), min_value=0, required=False)
    consequences = TypedTextField(label=_("likely consequences"), required=False,
                                   max_length=10000)
    measures_taken = TypedTextField(label=_("measures taken"), required=False, max_length=10000)
    measures_proposed = TypedTextField(label=_("measures proposed"), required=False,
                                        max_length=10000)
    contact_point = forms.CharField(label=_("contact point"), max_length=200, help_text=_(
        "The person or office the authority may contact about this breach (role, phone, email)."))
    affected_agencies = AgencyIdsField(
        label=_("affected agencies"), queryset=Agency.objects.filter(active=True).order_by("name"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    access_events = forms.CharField(label=_("linked access records"), required=False, help_text=_(
        "Numbers (#) of audit events, separated by commas, e.g. from the unusual-access report."))
    notified_at = forms.DateTimeField(label=_("time of notification"), widget=DATETIME_WIDGET, required=False)
    delay_reason = TypedTextField(label=_("reason for notifying late"), required=False,
                                   max_length=10000)

    def clean_access_events(self) -> list[int]:
        raw = self.cleaned_data.get("access_events") or ""
        try:
            seqs = [int(part.strip().lstrip("#")) for part in raw.replace(" ", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Give audit event numbers separated by commas.")) from None
        if any(seq < 1 for seq in seqs):
            raise forms.ValidationError(_("Give audit event numbers separated by commas."))
        return seqs

    def service_data(self) -> dict:
        """Every field of the form (a field left empty empties it), checked by the API's declaration
        (BreachInputSerializer), the agencies given by their ids."""
        values = dict(self.cleaned_data)
        values["affected_agencies"] = [agency.pk for agency in values["affected_agencies"]]
        return input_validate(BreachInputSerializer, values)


def _breach_posted(request, form: BreachForm, save, success) -> Posted:
    """The form handed to save (breach_record, or breach_update bound to a breach) once however often it is
    sent (cases.pages.posted_once): on to the breach with `success` flashed, or the form with the errors."""

    def write():
        values = form.service_data()
        return save(actor=request.user, affected_agencies=values.pop("affected_agencies"),
                    access_events=values.pop("access_events"), **values)

    return posted_once(request, form, form_sender(
        request, form, write, lambda _breach: str(success), lambda breach: reverse("audit:breach", args=[breach.pk])))


@login_required
@require_GET
def breach_list_page(request):
    # PermissionDenied (403) for anyone who may read no breach at all.
    breaches = list(breach_list_for_user(user=request.user)[:200])
    return render(request, "privacy/breach_list.html",
                  {"breaches": breaches, "is_admin": is_breach_admin(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def breach_new_page(request):
    if not is_breach_admin(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = BreachForm(request.POST)
    else:
        event_ids = (row_id_or_none(s) for s in request.GET.get("events", "").split(","))
        initial = {"access_events": ", ".join(str(seq) for seq in event_ids if seq is not None)}
        agency_ids = [a for a in (row_id_or_none(s) for s in request.GET.get("agencies", "").split(",")) if a]
        if agency_ids:
            initial["affected_agencies"] = Agency.objects.filter(pk__in=agency_ids, active=True)
        form = BreachForm(initial=initial)
    posted = _breach_posted(request, form, breach_record, _("Breach recorded."))
    if posted.response is not None:
        return posted.response
    return render(request, "privacy/breach_form.html", {"form": form, "breach": None, "sending_token": posted.token},
                  status=posted.status(form))


@login_required
@require_http_methods(["GET", "POST"])
def breach_detail_page(request, breach_id: int):
    breach = breach_get_for_user(user=request.user, breach_id=breach_id)
    admin = is_breach_admin(request.user)
    form, posted = None, None
    if request.method == "POST":
        if not admin:
            raise PermissionDenied
        form = BreachForm(request.POST)
    elif admin:
        initial = {name: getattr(breach, name) for name in BreachForm.base_fields if hasattr(breach, name)}
        initial["affected_agencies"] = list(breach.affected_agencies.all())
        initial["access_events"] = ", ".join(map(str, breach.access_event_seqs))
        form = BreachForm(initial=initial)
    if form is not None:
        posted = _breach_posted(request, form, functools.partial(breach_update, breach=breach), _("Saved."))
        if posted.response is not None:
            return posted.response
    return render(request, "privacy/breach_detail.html", {
        "breach": breach, "form": form, "agencies": list(breach.affected_agencies.all()),
        "categories": [DataCategory(c).label for c in breach.categories if c in DataCategory.values],
        "sending_token": posted and posted.token,
    }, status=posted.status(form) if posted else 200)
