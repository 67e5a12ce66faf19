"""The two shapes the case pages share, for the cases, deadlines, takedowns and risk views.

- A form page: GET shows the form; a valid POST runs the service, whose refusal comes back as the
  form's errors, then flashes what was done and returns to the case page. Most run a service that
  takes the case, the actor and the form's data (case_service_form_page).
- A change posted from the case page: a bad choice or a refusal is flashed as an error, what was
  done as a success; either way back to the case page.

And a form that opens a case, the one-page form or the intake's last step (case_open_posted).
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from config.pages import flash_outcome

from .selectors import CaseAccess, case_get_for_user
from .services import CaseAlreadyOpened


def case_form_page(request: HttpRequest, *, access: CaseAccess, form: Any, template: str,
                   save: Callable[[], Any], success: Callable[[Any], str], context: dict | None = None,
                   invalid_status: int = 200) -> HttpResponse:
    """save() runs only on a valid POST; success(its result) is the message flashed on the case page.
    The form is shown with {"case", "form"} and context, with invalid_status when it has errors."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save()
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, success(result))
            return redirect("cases:detail", case_id=access.case.pk)
    return render(request, template, {"case": access.case, "form": form, **(context or {})},
                  status=invalid_status if form.errors else 200)


def case_service_form_page(request: HttpRequest, *, case_id: int, require: str, form: Callable[[CaseAccess], Any],
                           template: str, service: Callable[..., Any], success: Callable[[Any], str],
                           invalid_status: int = 200) -> HttpResponse:
    """A form page on a case the user holds `require` on, whose valid form is saved by
    service(access=, actor=, data=form.service_data()); form(access) builds the bound form."""
    access = case_get_for_user(user=request.user, case_id=case_id, require=require)
    bound = form(access)
    return case_form_page(
        request, access=access, form=bound, template=template, invalid_status=invalid_status, success=success,
        save=lambda: service(access=access, actor=request.user, data=bound.service_data()))


def case_change_posted(request: HttpRequest, *, access: CaseAccess, save: Callable[[], Any],
                       success: Callable[[Any], str], form: forms.Form | None = None,
                       invalid: str = "") -> HttpResponse:
    """An invalid form flashes invalid; else save() runs, each message of its refusal is flashed, or
    success(its result)."""
    if form is not None and not form.is_valid():
        messages.error(request, invalid)
        return redirect("cases:detail", case_id=access.case.pk)
    flash_outcome(request, save, success)
    return redirect("cases:detail", case_id=access.case.pk)


def case_open_posted(request: HttpRequest, form: Any, open_case: Callable[[], Any]) -> HttpResponse | None:
    """A valid form that opens a case (the one-page form, the intake's last step): open_case() runs
    cases.services.case_open_once; the new case's page with its number flashed, or the case the form
    opened when it was sent before (a double tap; the case list for a token that is not the user's), or
    None with the service's refusal on the form."""
    try:
        case = open_case()
    except CaseAlreadyOpened as refusal:
        if refusal.case_id is None:
            return redirect("cases:list")
        messages.info(request, _("This case has already been opened."))
        return redirect("cases:detail", case_id=refusal.case_id)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
    return redirect("cases:detail", case_id=case.pk)
