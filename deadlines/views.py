"""Pages for a responder's deadlines on a case: set a follow-up or an action plan, mark one done.
The case's open deadlines are listed on the case page (handoffs.templatetags.handoff_tags)."""

from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.pages import case_change_posted, case_service_form_page
from cases.selectors import case_get_for_user
from config.formats import datetime_text
from permissions.categories import CaseRight

from .forms import CaseDeadlineForm
from .services import case_deadline_done, case_deadline_set


@login_required
@require_http_methods(["GET", "POST"])
def case_deadline_set_page(request, case_id: int):
    return case_service_form_page(
        request, case_id=case_id, require=CaseRight.LOG_ACTION, template="handoffs/deadline_set.html",
        invalid_status=400, form=lambda _access: CaseDeadlineForm(request.POST or None), service=case_deadline_set,
        success=lambda deadline: _("%(kind)s due %(due)s. You will be reminded before then.") % {
            "kind": deadline.get_kind_display(),
            "due": datetime_text(deadline.due_at)})


@login_required
@require_POST
def case_deadline_done_page(request, case_id: int, deadline_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.LOG_ACTION)
    return case_change_posted(
        request, access=access,
        save=lambda: case_deadline_done(access=access, actor=request.user, deadline_id=deadline_id),
        success=lambda deadline: _("Marked done: %(kind)s.") % {
            "kind": deadline.rule.label if deadline.rule_id else deadline.get_kind_display()})
