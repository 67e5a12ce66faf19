"""Takedown pages: record a request (its own page, reached from the case page) and record an
outcome (a small form on the case page). Thin: access through case_get_for_user, writes through
takedowns.services, POST-redirect-GET with a message."""

from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.pages import case_change_posted, case_service_form_page
from cases.selectors import case_get_for_user
from permissions.categories import CaseRight

from .forms import TakedownOutcomeForm, TakedownRequestForm
from .services import takedown_outcome_record, takedown_request_record


@login_required
@require_http_methods(["GET", "POST"])
def takedown_request_page(request, case_id: int):
    return case_service_form_page(
        request, case_id=case_id, require=CaseRight.LOG_ACTION, template="takedowns/request.html",
        form=lambda access: TakedownRequestForm(request.POST or None, access=access),
        service=takedown_request_record, success=lambda takedown: _("Takedown request to %(platform)s recorded.")
        % {"platform": takedown.get_platform_display()})


@login_required
@require_POST
def takedown_outcome_page(request, case_id: int, takedown_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.LOG_ACTION)
    form = TakedownOutcomeForm(request.POST)
    return case_change_posted(
        request, access=access, form=form, invalid=_("Choose an outcome."),
        save=lambda: takedown_outcome_record(access=access, actor=request.user, takedown_id=takedown_id,
                                             data=form.service_data()),
        success=lambda takedown: _("Outcome recorded: %(outcome)s.") % {"outcome": takedown.get_outcome_display()})
