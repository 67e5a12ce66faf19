"""Supervisor pages: the handoff register (the supervisor's home), one handoff with its timeline,
readers and sign-off, the review queue, access review with CSV export, unusual access, the dashboard;
and the break-glass page for holders of that right.

Thin: each page resolves the supervised agency through `supervision_context` (PermissionDenied for
anyone else), reads through the selectors and writes through the services.
"""

import functools
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from agencies.models import Agency
from cases.breakglass import break_glass_open
from cases.models import Consent
from cases.pages import Posted, form_sender, posted_once
from config.api import input_validate
from config.db_router import replica_reads
from config.exceptions import row_id_or_none
from config.formats import datetime_text
from handoffs.selectors import handoff_read_by_agency
from notifications.calendar import VIETNAM
from permissions.breakglass import break_glass_allowed
from permissions.categories import DataCategory
from permissions.models import BreakGlassUse
from privacy.breaches.selectors import is_breach_admin

from . import access_review, charts
from .dashboard import dashboard
from .forms import (
    AccessLogFilterForm,
    BreakGlassForm,
    DashboardForm,
    RegisterFilterForm,
    ReviewForm,
    UnusualAccessForm,
)
from .models import BreakGlassReview, ConsentOverrideReview, Verdict
from .queue import review_queue
from .selectors import (
    RegisterRows,
    case_readers,
    cases_handed_on_rows,
    cases_without_action_rows,
    counterpart_agencies,
    decline_reasons,
    handoff_get_for_supervisor,
    handoff_milestones,
    handoff_register_summary,
    reviews_shown_to,
    supervised_agencies,
    supervised_agency_get,
)
from .serializers import BreakGlassInputSerializer
from .services import (
    access_log_export_record,
    break_glass_review_create,
    break_glass_reviewer_agency_ids,
    consent_override_review_create,
    handoff_review_create,
)

PAGE_SIZE = 50


def _agency_param(request) -> int | None:
    value = request.GET.get("agency", "")
    if value == "":
        return None
    agency_id = row_id_or_none(value)
    if agency_id is None:
        raise BadRequest("agency must be an agency id")
    return agency_id


def supervision_context(request, *, agency_id: int | None = None) -> tuple[Agency, dict]:
    """The supervised agency of this page and the context every supervision page shares."""
    agencies = supervised_agencies(user=request.user)
    agency = supervised_agency_get(user=request.user, agency_id=_agency_param(request) if agency_id is None
                                   else agency_id, agencies=agencies)
    return agency, {
        "agency": agency,
        "agencies": agencies,
        # Someone supervising several agencies keeps the one chosen from page to page.
        "agency_query": f"agency={agency.pk}" if len(agencies) > 1 else "",
    }


def _paginate(request, object_list):
    return Paginator(object_list, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_less(request, *keys):
    """The query parameters without ?page= (the pager's) and those named."""
    query = request.GET.copy()
    for key in ("page", *keys):
        query.pop(key, None)
    return query


def _query_without(request, *keys) -> str:
    return _query_less(request, *keys).urlencode()


def _filter_data(request):
    """The query parameters as a filter form reads them: ?agency= is supervision_context's."""
    return _query_less(request, "agency")


@functools.lru_cache(maxsize=512)
def _blank_register_filters(language: str, agency_id: int, agency_query: str,
                            counterparts: tuple[tuple[int, str], ...]) -> str:
    """The register's filter form as the home page without a query shows it: a function of these values
    alone (the form is empty), so rendered once per process for each (about 3 ms of the page's CPU)."""
    return render_to_string("supervision/_register_filters.html", {
        "form": RegisterFilterForm(QueryDict(), counterparts=counterparts), "query": "", "agency_query": agency_query,
        "agency": Agency(pk=agency_id),
    })


@login_required
@require_GET
def handoff_register_page(request):
    """The supervisor's home page (/supervision/, supervision:register)."""
    agency, context = supervision_context(request)
    counterparts = tuple(counterpart_agencies(agency=agency))
    form = RegisterFilterForm(_filter_data(request), counterparts=counterparts)
    context.update(form=form, query=_query_without(request), section="register")
    if not request.GET:
        # Called by the template (the page's own template is rendered first).
        context["filters_html"] = functools.partial(_blank_register_filters, get_language(), agency.pk,
                                                    context["agency_query"], counterparts)
    if not form.is_valid():
        return render(request, "supervision/register.html", context, status=400)
    filters, now = form.filters(), timezone.now()
    more_than, idle_days = form.more_than_value(), form.idle_days_value()
    summary = handoff_register_summary(agency=agency, filters=filters, now=now)
    context.update(
        valid=True, now=now, more_than=more_than, idle_days=idle_days, summary=summary,
        # The summary's total is the filtered register's length: the pager counts nothing more.
        page=_paginate(request, RegisterRows(agency=agency, filters=filters, now=now, count=summary["total"])),
        decline_reasons=decline_reasons(agency=agency, filters=filters, now=now),
        handed_on=cases_handed_on_rows(agency=agency, more_than=more_than, now=now),
        idle=cases_without_action_rows(agency=agency, days=idle_days, now=now),
    )
    return render(request, "supervision/register.html", context)


def _review_posted(request, form: ReviewForm, create, *, back: str, **kwargs) -> Posted:
    """The review form, saved once by the review service however often it is sent (cases.pages.posted_once):
    on to `back`, or the form with the service's refusal on it."""
    return posted_once(request, form, form_sender(
        request, form, lambda: create(user=request.user, **kwargs, **form.service_arguments()),
        lambda _review: _("Review saved: %(verdict)s.") % {"verdict": Verdict(form.cleaned_data["verdict"]).label},
        lambda _review: back))


@login_required
@require_http_methods(["GET", "POST"])
def handoff_review_page(request, handoff_id: int):
    _agency, context = supervision_context(request)
    handoff, agency = handoff_get_for_supervisor(user=request.user, handoff_id=handoff_id,
                                                 agencies=context["agencies"], agency_id=_agency_param(request))
    context.update(agency=agency, section="register")
    form = ReviewForm(request.POST or None)
    posted = _review_posted(request, form, handoff_review_create, handoff_id=handoff.pk, agency_id=agency.pk,
                            back=_with_agency(reverse("supervision:handoff", args=[handoff.pk]), context))
    if posted.response is not None:
        return posted.response
    lead = handoff.case.lead_agency_id == agency.pk
    context.update(
        handoff=handoff, handoff_access=handoff_read_by_agency(handoff=handoff, agency=agency), form=form,
        milestones=handoff_milestones(handoff=handoff, agency=agency),
        readers=case_readers(case_id=handoff.case_id, agency=agency, lead=lead), lead=lead,
        counterpart=handoff.to_agency if handoff.direction == "sent" else handoff.from_agency,
        sending_token=posted.token,
    )
    return render(request, "supervision/handoff.html", context, status=posted.status(form))


def _with_agency(url: str, context: dict) -> str:
    return f"{url}?{context['agency_query']}" if context["agency_query"] else url


@login_required
@require_GET
def review_queue_page(request):
    agency, context = supervision_context(request)  # on the primary: decides what the user may see
    with replica_reads():
        context.update(section="queue", queue=review_queue(agency=agency),
                       refresh_seconds=settings.SUPERVISION_QUEUE_REFRESH_SECONDS)
        return render(request, "supervision/queue.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def consent_override_review_page(request, consent_id: int):
    _agency, context = supervision_context(request)
    ids = {a.pk for a in context["agencies"]}
    consent = get_object_or_404(
        Consent.objects.select_related("case", "case__lead_agency", "receiving_agency", "recorded_by",
                                       "recorded_by_agency"),
        pk=consent_id, emergency_override=True, case__lead_agency_id__in=ids,
    )
    agency = next(a for a in context["agencies"] if a.pk == consent.case.lead_agency_id)
    context.update(agency=agency, section="queue")
    form = ReviewForm(request.POST or None)
    posted = _review_posted(request, form, consent_override_review_create, consent_id=consent.pk,
                            agency_id=agency.pk, back=_with_agency(reverse("supervision:queue"), context))
    if posted.response is not None:
        return posted.response
    context.update(
        consent=consent, form=form,
        granted=[label for value, label in DataCategory.choices if value in consent.granted_categories],
        reviews=reviews_shown_to(ConsentOverrideReview.objects.filter(consent=consent), agency=agency,
                                 case_id=consent.case_id).select_related("reviewer", "agency"),
        sending_token=posted.token,
    )
    return render(request, "supervision/consent_override.html", context, status=posted.status(form))


@login_required
@require_http_methods(["GET", "POST"])
def break_glass_review_page(request, use_id: int):
    _agency, context = supervision_context(request)
    use = get_object_or_404(BreakGlassUse.objects.select_related("case", "user", "lead_agency"), pk=use_id)
    sides = [i for i in break_glass_reviewer_agency_ids(use=use) if i in {a.pk for a in context["agencies"]}]
    if not sides:
        raise Http404
    wanted = _agency_param(request)
    agency = next(a for a in context["agencies"] if a.pk == (wanted if wanted in sides else sides[0]))
    context.update(agency=agency, section="queue")
    form = ReviewForm(request.POST or None)
    posted = _review_posted(request, form, break_glass_review_create, use_id=use.pk, agency_id=agency.pk,
                            back=_with_agency(reverse("supervision:queue"), context))
    if posted.response is not None:
        return posted.response
    context.update(
        use=use, form=form, active=use.ends_at > timezone.now(),
        categories=[label for value, label in DataCategory.choices if value in use.categories],
        reviews=reviews_shown_to(BreakGlassReview.objects.filter(use=use), agency=agency,
                                 case_id=use.case_id).select_related("reviewer", "agency"),
        sending_token=posted.token,
    )
    return render(request, "supervision/break_glass_review.html", context, status=posted.status(form))


def _access_form(request, agency: Agency) -> AccessLogFilterForm:
    return AccessLogFilterForm(_filter_data(request), agency=agency)


def _report_page(request, template: str, *, section: str, form_for: Callable[[Agency], Any],
                 report: Callable[[Agency, Any], dict], replica: bool = True, **shown) -> HttpResponse:
    """A supervision report filtered by a GET form (form_for(agency)): invalid filters show the form
    again with 400; valid ones add report(agency, form) to the page, read from the replica if `replica`."""
    agency, context = supervision_context(request)
    form = form_for(agency)
    context.update(form=form, section=section, **shown)
    if not form.is_valid():
        return render(request, template, context, status=400)
    with replica_reads() if replica else nullcontext():
        context.update(valid=True, **report(agency, form))
        return render(request, template, context)


@login_required
@require_GET
def access_log_page(request):
    def report(agency: Agency, form: AccessLogFilterForm) -> dict:
        return {"page": _paginate(request, access_review.access_log(agency=agency, filters=form.filters())),
                "export_query": _query_without(request)}

    return _report_page(request, "supervision/access_log.html", section="access",
                        form_for=lambda agency: _access_form(request, agency), report=report,
                        query=_query_without(request))


@login_required
@require_GET
def access_log_export(request):
    agency, _context = supervision_context(request)
    form = _access_form(request, agency)
    if not form.is_valid():
        raise BadRequest("invalid filters")
    return access_log_csv_response(request, agency=agency, form=form)


def access_log_csv_response(request, *, agency: Agency, form: AccessLogFilterForm) -> StreamingHttpResponse:
    """The filtered access log as CSV (shared with the API); the export is audited first."""
    events = access_review.access_log(agency=agency, filters=form.filters())
    access_log_export_record(user=request.user, agency=agency, filters=form.as_details(), rows=events.count(),
                             case_id=form.case_id)
    stamp = timezone.localtime(timezone.now(), VIETNAM).strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(access_review.access_log_csv_rows(events.iterator(chunk_size=500)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="access-log-{agency.pk}-{stamp}.csv"'
    return response


@login_required
@require_GET
def unusual_access_page(request):
    def report(agency: Agency, form: UnusualAccessForm) -> dict:
        return {"report": access_review.unusual_access_report(
                    agency=agency, since=form.cleaned_data.get("since"), until=form.cleaned_data.get("until"),
                    min_cases=form.min_cases_value()),
                "breach_admin": is_breach_admin(request.user)}

    return _report_page(request, "supervision/unusual_access.html", section="unusual",
                        form_for=lambda _agency: UnusualAccessForm(_filter_data(request)), report=report,
                        replica=False)


@login_required
@require_GET
def dashboard_page(request):
    def report(agency: Agency, form: DashboardForm) -> dict:
        return _dashboard_shown(dashboard(agency=agency, weeks=form.weeks_value()))

    return _report_page(request, "supervision/dashboard.html", section="dashboard",
                        form_for=lambda _agency: DashboardForm(_filter_data(request)), report=report)


def _dashboard_shown(board) -> dict:
    series_names = (_("Met"), _("Missed"), _("Open"))
    return dict(
        board=board,
        compliance_charts=[
            (row, charts.stacked_bars_svg(
                chart_id=f"compliance-{row.agency_id}",
                title=_("Deadlines of %(agency)s by ISO week") % {"agency": row.agency_name},
                labels=[f"{w.week:02d}" for w in row.weeks],
                series=[(series_names[0], charts.MET, [w.met for w in row.weeks]),
                        (series_names[1], charts.MISSED, [w.missed for w in row.weeks]),
                        (series_names[2], charts.OPEN, [w.open for w in row.weeks])],
            ))
            for row in board.compliance
        ],
        reviews_chart=charts.horizontal_bars_svg(chart_id="pending-reviews", title=_("Pending reviews"), items=[
            (_("Handoffs"), board.pending_reviews["handoff"], charts.OPEN),
            (_("Consent overrides"), board.pending_reviews["consent_override"], charts.MISSED),
            (_("Break-glass uses"), board.pending_reviews["break_glass"], charts.MISSED),
            (_("Risk lowered after it was raised"), board.pending_reviews["risk_lowered"], charts.MISSED),
            (_("Meetings held without signed minutes"), board.pending_reviews["meeting_without_minutes"],
             charts.OPEN),
        ]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def break_glass_page(request):
    if not break_glass_allowed(user=request.user):
        raise PermissionDenied
    form = BreakGlassForm(request.POST or None, initial={"case_number": request.GET.get("case", "")[:20]})
    posted = posted_once(request, form, form_sender(
        request, form, lambda: break_glass_open(
            user=request.user, **input_validate(BreakGlassInputSerializer, form.cleaned_data)),
        lambda use: _("Break-glass access to %(number)s until %(time)s. Your supervisors and the case's lead "
                      "agency have been told.") % {"number": use.case.number, "time": datetime_text(use.ends_at)},
        lambda use: reverse("cases:detail", kwargs={"case_id": use.case_id}), level=messages.WARNING))
    if posted.response is not None:
        return posted.response
    return render(request, "supervision/break_glass.html", {
        "form": form, "hours": settings.BREAK_GLASS_HOURS, "sending_token": posted.token,
    }, status=posted.status(form))
