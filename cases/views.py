"""Responder pages: my cases, a case with its timeline, open a case, log an action, record and
withdraw consent.

Thin: every page gets its case through `case_get_for_user` (or the audited `case_view` when it
shows case data) and every change goes through a service; POST-redirect-GET with a message.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Choices
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from agencies.models import Role
from agencies.selectors import user_agencies
from config.pages import BoundedPaginator, count_bound
from permissions.categories import CaseRight, DataCategory

from .forms import (
    ActionLogForm,
    CaseCloseForm,
    CaseFilterForm,
    CaseOpenForm,
    CaseStatusForm,
    ConsentRecordForm,
    ConsentWithdrawForm,
)
from .models import CASE_STATUS_MACHINE, ActionType, CaseStatus, Survivor, TechForm
from .pages import case_change_posted, case_form_page, case_open_posted, case_service_form_page
from .selectors import (
    CaseList,
    case_get_for_user,
    consent_list_for_case,
    consents_for_case_page,
)
from .serializers import SURVIVOR_FIELDS_BY_CATEGORY
from .services import (
    action_log,
    case_change_status,
    case_list_audit,
    case_open,
    case_timeline,
    case_view,
    consent_record,
    consent_withdraw,
)

CASES_PER_PAGE = 20
OPENING_ROLES = (Role.RESPONDER, Role.SUPERVISOR)


def my_cases_page(request, *, data=None, per_page: int | None = None, count_least: int | None = None):
    """One page of the cases the user sees, filtered, with its audit event: (the filter form, or None when
    nothing was asked of the list, the page). Shared by the list page and the responder home page. The
    pager counts the cases up to a bound (config.pages.count_bound, at least `count_least`, by default
    config.pages.COUNT_BOUND): past it, "more than"."""
    per_page = per_page or CASES_PER_PAGE
    # Without a query the form would be unbound, with no value and no error: not made (copying its fields
    # was a tenth of the list's own work), its fields drawn once per language (case_list_filter_fields).
    form = CaseFilterForm(data) if data else None
    criteria = form.criteria() if form is not None and form.is_valid() else {}
    # The page asked for is read with the holders and the count (CaseList); a page beyond the last is
    # read as the Paginator finds it.
    number = str((data or {}).get("page") or "1")
    offset = (int(number) - 1) * per_page if number.isascii() and number.isdigit() and 0 < int(number) < 10**6 else 0
    bound = count_bound(offset, per_page, count_least)
    # Unfiltered, the pager counts the user's cases from their access rows (read with the holders and the
    # page), not the join over the country's cases; filters narrow the count themselves.
    cases = CaseList(user=request.user, criteria=criteria, counted=not criteria, count_up_to=bound,
                     read_ahead=(offset, per_page))
    page = BoundedPaginator(cases, per_page, bound=bound).get_page((data or {}).get("page"))
    case_list_audit(user=request.user, case_ids=[case.pk for case in page])
    return form, page


# The filter fields of an unbound form, by language: the same for every reader (fixed choices, no
# value), and their widget templates were a quarter of the list page's rendering.
_BLANK_FILTER_FIELDS: dict[str, str] = {}


def case_list_filter_fields(form: CaseFilterForm | None) -> str:
    """The list's filter fields as HTML: a bound form's; an unbound one's (None) rendered once per
    process and language."""
    if form is not None and form.is_bound:
        return render_to_string("cases/_case_list_filters.html", {"form": form})
    language = get_language()
    fields = _BLANK_FILTER_FIELDS.get(language)
    if fields is None:
        fields = _BLANK_FILTER_FIELDS[language] = render_to_string("cases/_case_list_filters.html",
                                                                   {"form": CaseFilterForm()})
    return fields


@login_required
def case_list(request):
    form, page = my_cases_page(request, data=request.GET)
    # The filters to keep in the pager's links: the query without its page (none without a query).
    query = ""
    if request.GET:
        kept = request.GET.copy()
        kept.pop("page", None)
        query = kept.urlencode()
    return render(request, "cases/case_list.html", {
        "form": form, "filter_fields": case_list_filter_fields(form), "page": page, "query": query,
        # A list read through an agency of the reader's is read through a responder's or supervisor's
        # membership of an active agency (CASE_ROLES, which are OPENING_ROLES): no query to know.
        "can_open": (page.paginator.object_list.reads_through_an_agency()
                     or user_agencies(user=request.user, roles=OPENING_ROLES).exists()),
    })


@functools.cache
def _choices_in(language: str | None, choices: type[Choices]) -> tuple[tuple[str, str], ...]:
    """(value, label) of `choices` in `language`, the active one: translated once per process, not
    at every render of every label (the case page shows a dozen action types)."""
    return tuple((value, str(label)) for value, label in choices.choices)


def _labels(choices: type[Choices]) -> tuple[tuple[str, str], ...]:
    return _choices_in(get_language(), choices)


def _category_labels(values) -> list[str]:
    return [label for value, label in _labels(DataCategory) if value in values]


def _consent_rows(consents) -> list[tuple]:
    return [(c, _category_labels(c.granted_categories), _category_labels(c.refused_categories)) for c in consents]


@functools.cache
def _survivor_label_in(language: str | None, field: str) -> str:
    """The survivor field's label as the case page shows it, in `language`, the active one: once per process."""
    return str(capfirst(Survivor._meta.get_field(field).verbose_name))


def _survivor_rows(survivor: Survivor, access) -> list[tuple[str, object]]:
    """(label, value) of each survivor field the viewer may see, general ones first."""
    hidden = {field for category, fields in SURVIVOR_FIELDS_BY_CATEGORY.items() if not access.sees(category)
              for field in fields}
    language = get_language()

    def label(field: str) -> str:
        return _survivor_label_in(language, field)

    # Outside the f-string: gettext called inside one is invisible to message extraction.
    estimated = _("estimated")
    rows = [
        (_("Pseudonym"), survivor.pseudonym),
        (label("sex"), survivor.get_sex_display()),
        (label("birth_year"),
         f"{survivor.birth_year} ({estimated})" if survivor.birth_year and survivor.birth_year_estimated
         else survivor.birth_year or _("Unknown")),
        (label("disability"), survivor.get_disability_display()),
    ]
    if survivor.ethnicity:
        rows.append((label("ethnicity"), survivor.ethnicity))
    for fields in SURVIVOR_FIELDS_BY_CATEGORY.values():
        for field in fields:
            if field not in hidden and getattr(survivor, field):
                rows.append((label(field), getattr(survivor, field)))
    return rows


@login_required
def case_detail(request, case_id: int):
    # With the case, its incidents and which of the panels of other apps have nothing to read.
    access = case_view(user=request.user, case_id=case_id, page=True)
    case = access.case
    tech_forms = dict(_labels(TechForm))
    for incident in case.incidents.all():
        incident.tech_form_labels = [tech_forms[value] for value in incident.tech_forms]
    return render(request, "cases/case_detail.html", {
        "access": access,
        "case": case,
        "survivor_rows": _survivor_rows(case.survivor, access),
        "hidden_categories": [label for value, label in _labels(DataCategory) if not access.sees(value)],
        "timeline": case_timeline(access=access),
        "consents": _consent_rows(consents_for_case_page(access=access)),
        "action_types": _labels(ActionType) if access.can(CaseRight.LOG_ACTION) else [],
        "next_statuses": [(value, dict(_labels(CaseStatus))[value]) for value in access.next_statuses()],
        "can_manage_sharing": access.can(CaseRight.MANAGE_SHARING),
    })


@login_required
@require_http_methods(["GET", "POST"])
def case_open_page(request):
    agencies = list(user_agencies(user=request.user, roles=OPENING_ROLES).select_related("province"))
    if not agencies:
        raise PermissionDenied
    form = CaseOpenForm(request.POST or None, agencies=agencies)
    # The form opens one case however often it is sent.
    posted = case_open_posted(request, form, lambda: case_open(actor=request.user, **form.service_arguments()))
    if posted.response is not None:
        return posted.response
    return render(request, "cases/case_open.html", {"form": form, "sending_token": posted.token},
                  status=posted.status(form, invalid_status=200))


@login_required
@require_POST
def case_status_change(request, case_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id)
    form = CaseStatusForm(request.POST)
    return case_change_posted(
        request, access=access, form=form, invalid=_("Choose a status."),
        save=lambda: case_change_status(access=access, actor=request.user, status=form.cleaned_data["status"]),
        success=lambda case: _("The case is now %(status)s.") % {"status": case.get_status_display()})


@login_required
@require_http_methods(["GET", "POST"])
def case_close_page(request, case_id: int):
    """Closing asks first: a confirmation page with the reason, which is recorded with the case."""
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.CLOSE)
    if not CASE_STATUS_MACHINE.allows("close", access.case):
        messages.error(request, _("This case is already closed."))
        return redirect("cases:detail", case_id=access.case.pk)
    form = CaseCloseForm(request.POST or None)
    return case_form_page(
        request, access=access, form=form, template="cases/case_close.html", invalid_status=400,
        save=lambda: case_change_status(access=access, actor=request.user, status=CaseStatus.CLOSED,
                                        close_reason=form.cleaned_data["close_reason"]),
        success=lambda _case: _("The case is now %(status)s.") % {"status": CaseStatus.CLOSED.label})


@login_required
@require_http_methods(["GET", "POST"])
def action_log_page(request, case_id: int):
    return case_service_form_page(
        request, case_id=case_id, require=CaseRight.LOG_ACTION, template="cases/action_log.html",
        form=lambda access: ActionLogForm(request.POST or None, access=access, action_type=request.GET.get("type")),
        service=action_log, success=lambda action: _("Action logged: %(type)s.") % {"type": action.get_type_display()})


@login_required
@require_http_methods(["GET", "POST"])
def consent_record_page(request, case_id: int):
    return case_service_form_page(
        request, case_id=case_id, require=CaseRight.MANAGE_SHARING, template="cases/consent_record.html",
        form=lambda _access: ConsentRecordForm(request.POST or None),
        service=consent_record, success=lambda _consent: _("Consent recorded. It applies at once."))


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw_page(request, case_id: int, consent_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.MANAGE_SHARING)
    consent = consent_list_for_case(access=access).filter(pk=consent_id).first()
    if consent is None:
        raise Http404
    form = ConsentWithdrawForm(request.POST or None)
    return case_form_page(
        request, access=access, form=form, template="cases/consent_withdraw.html",
        context={"consent": consent, "granted": _category_labels(consent.granted_categories)},
        save=lambda: consent_withdraw(access=access, actor=request.user, consent_id=consent.pk,
                                      reason=form.service_reason()),
        success=lambda _withdrawn: _("Consent withdrawn. The access it gave has ended."))
