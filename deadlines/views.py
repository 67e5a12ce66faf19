"""Pages for a responder's deadlines on a case: set a follow-up or an action plan, mark one done.
The case's open deadlines are listed on the case page (handoffs.templatetags.handoff_tags)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.selectors import case_get_for_user
from config.formats import datetime_text
from permissions.categories import CaseRight

from .forms import CaseDeadlineForm
from .services import case_deadline_done, case_deadline_set


@login_required
@require_http_methods(["GET", "POST"])
def case_deadline_set_page(request, case_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.LOG_ACTION)
    form = CaseDeadlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deadline = case_deadline_set(access=access, actor=request.user, data=form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("%(kind)s due %(due)s. You will be reminded before then.") % {
                "kind": deadline.get_kind_display(),
                "due": datetime_text(deadline.due_at)})
            return redirect("cases:detail", case_id=access.case.pk)
    return render(request, "handoffs/deadline_set.html", {"case": access.case, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def case_deadline_done_page(request, case_id: int, deadline_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.LOG_ACTION)
    try:
        deadline = case_deadline_done(access=access, actor=request.user, deadline_id=deadline_id)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        name = deadline.rule.label if deadline.rule_id else deadline.get_kind_display()
        messages.success(request, _("Marked done: %(kind)s.") % {"kind": name})
    return redirect("cases:detail", case_id=access.case.pk)
