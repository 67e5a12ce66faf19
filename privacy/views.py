"""Privacy pages: the agency's data-subject requests, one request (acknowledge, decide, download the
package once), recording a request on a case, a case's legal holds, and the coming anonymisations.
Thin: access and writes through privacy.services, POST-redirect-GET with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.models import Role
from cases.pages import case_form_page, change_posted_once, form_sender, posted_once
from cases.selectors import case_get_for_user
from permissions.categories import CaseRight

from .forms import DecisionForm, ReasonForm, RequestRecordForm
from .models import DataSubjectRequest, RequestKind, RetentionNotice
from .selectors import (
    consents_withdrawable,
    lead_member_require,
    legal_holds_of_case,
    member_agency_ids,
    privacy_request_actions,
    privacy_request_get,
    privacy_requests_visible_to,
    request_deadlines,
    user_supervises,
)
from .services import (
    PackageGone,
    access_package_download,
    legal_hold_place,
    legal_hold_release,
    privacy_request_acknowledge,
    privacy_request_decide,
    privacy_request_record,
)


@login_required
@require_GET
def request_list_page(request):
    rows = list(privacy_requests_visible_to(user=request.user)[:200])
    return render(request, "privacy/request_list.html", {"requests": rows})


def _decision_form(dsr: DataSubjectRequest, data=None) -> DecisionForm:
    """The decision form; on a request to withdraw consent, with the consents it may end as choices."""
    consents = consents_withdrawable(case_id=dsr.case_id) if dsr.kind == RequestKind.WITHDRAW_CONSENT else []
    return DecisionForm(data, kind=dsr.kind, consents=consents)


def _request_page(request, dsr: DataSubjectRequest, form: DecisionForm, *, status: int = 200, **context):
    return render(request, "privacy/request_detail.html", {
        "dsr": dsr, "deadlines": request_deadlines(dsr), "package": getattr(dsr, "package", None),
        "actions": privacy_request_actions(user=request.user, dsr=dsr), "form": form, **context,
    }, status=status)


@login_required
@require_GET
def request_detail_page(request, request_id: int):
    dsr = privacy_request_get(user=request.user, request_id=request_id)
    return _request_page(request, dsr, _decision_form(dsr))


@login_required
@require_http_methods(["GET", "POST"])
def request_record_page(request, case_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.LOG_ACTION)
    lead_member_require(user=request.user, case=access.case)
    form = RequestRecordForm(request.POST or None)
    return case_form_page(
        request, access=access, form=form, template="privacy/request_record.html", invalid_status=400,
        save=lambda: privacy_request_record(access=access, actor=request.user, data=form.service_data()),
        success=lambda _dsr: _("Request recorded. The lead agency's supervisors were told; it must be "
                               "acknowledged within 2 working days and completed within 15 days."),
        next_page=lambda dsr: reverse("privacy:request", kwargs={"request_id": dsr.pk}))


@login_required
@require_POST
def request_acknowledge_page(request, request_id: int):
    return change_posted_once(
        request, lambda: privacy_request_acknowledge(user=request.user, request_id=request_id),
        _("Request acknowledged."), back=reverse("privacy:request", kwargs={"request_id": request_id}))


@login_required
@require_POST
def request_decide_page(request, request_id: int):
    dsr = privacy_request_get(user=request.user, request_id=request_id, supervisor=True)
    form = _decision_form(dsr, request.POST)
    posted = posted_once(request, form, form_sender(
        request, form, lambda: privacy_request_decide(user=request.user, request_id=request_id,
                                                      data=form.service_data()),
        lambda decided: _("Decision recorded: %(status)s.") % {"status": decided.get_status_display()},
        lambda _decided: reverse("privacy:request", kwargs={"request_id": request_id})))
    if posted.response is not None:
        return posted.response
    return _request_page(request, dsr, form, status=posted.status(form), decide_token=posted.token)


@login_required
@require_POST
def package_download_page(request, request_id: int):
    try:
        content, filename = access_package_download(user=request.user, request_id=request_id)
    except PackageGone:
        messages.error(request, _("The package is not ready, or was downloaded already."))
        return redirect("privacy:request", request_id=request_id)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def case_holds_page(request, case_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id)
    holds = legal_holds_of_case(user=request.user, case=access.case)
    form = ReasonForm(request.POST or None)
    posted = posted_once(request, form, form_sender(
        request, form, lambda: legal_hold_place(user=request.user, case=access.case, data=form.service_data()),
        lambda _hold: _("Legal hold placed: retention and erasure are suspended."),
        lambda _hold: reverse("privacy:case-holds", kwargs={"case_id": case_id})))
    if posted.response is not None:
        return posted.response
    return render(request, "privacy/case_holds.html", {
        "case": access.case, "holds": list(holds), "form": form, "hold_token": posted.token,
        "may_hold": user_supervises(request.user, access.case.lead_agency_id),
    }, status=posted.status(form, 400))


@login_required
@require_POST
def hold_release_page(request, hold_id: int):
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the release."))
        return redirect("privacy:requests")
    return change_posted_once(
        request, lambda: legal_hold_release(user=request.user, hold_id=hold_id, data=form.service_data()),
        _("Legal hold released."), back=reverse("privacy:requests"),
        page=lambda hold: reverse("privacy:case-holds", kwargs={"case_id": hold.case_id}))


@login_required
@require_GET
def retention_page(request):
    """Coming anonymisations of the cases the user's agency leads (supervisors only)."""
    agency_ids = member_agency_ids(request.user, roles=(Role.SUPERVISOR,))
    notices = list(
        RetentionNotice.objects.filter(status=RetentionNotice.Status.PENDING, case__lead_agency_id__in=agency_ids)
        .select_related("case")[:500]
    ) if agency_ids else []
    return render(request, "privacy/retention.html", {"notices": notices, "supervisor": bool(agency_ids)})
