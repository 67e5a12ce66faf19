"""The two shapes the case pages share, for the cases, deadlines, takedowns and risk views.

- A form page: GET shows the form; a valid POST runs the service, once however often the form is sent
  (cases.sending), whose refusal comes back as the form's errors, then flashes what was done and returns
  to the case page. Most run a service that takes the case, the actor and the form's data
  (case_service_form_page).
- A change posted from a page (the case page's, change_posted_once): a bad choice or a refusal is flashed
  as an error, what was done as a success, once however often it is sent; back to the page. A page whose
  form holds typed text (the meeting page's) draws itself again instead on a refusal, with what was typed.

And a form that opens a case, the one-page form or the intake's last step (case_open_posted), also once.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from config.pages import flash_refusal

from .selectors import CaseAccess, case_get_for_user
from .sending import SendingMismatch, SendingUnsettled, Sent, sending_fingerprint, sending_token, sent_once

# What a form sends besides what was filled in: each drawing of a form has its own, one sending the same.
NOT_FILLED_IN = frozenset({"csrfmiddlewaretoken", "sending_token"})


@dataclass(frozen=True)
class Posted:
    """What became of a page's form (posted_once)."""

    # Where the sending led (its first sending's page when it was sent before); None when the form is shown.
    response: HttpResponse | None
    # The token to show the form with; 409 when an earlier sending of it cannot be settled (then a new
    # token, so that sending it again is the worker's own choice).
    token: uuid.UUID
    conflict: bool = False

    def status(self, form: Any, invalid_status: int = 400) -> int:
        """The status to show the form with: 409, invalid_status when it has errors, else 200."""
        return 409 if self.conflict else invalid_status if form.errors else 200


def form_token(request: HttpRequest) -> uuid.UUID:
    """The token of the form being sent (cases.sending.sending_token), or a new one for a form shown."""
    return sending_token(request.POST.get("sending_token")) if request.method == "POST" else uuid.uuid4()


def _sender(request: HttpRequest, save: Callable[[], Any], success: str | Callable[[Any], str],
            page: Callable[[Any], str], refused: Callable[[ValidationError], None],
            level: int = messages.SUCCESS) -> Callable[[], str | None]:
    """A send() for sent_once: save() writes; its refusal goes to refused() and sends nowhere (None), else
    `success` (a text, or a function of save's result) is flashed at `level` and the page is page(its result)."""

    def send() -> str | None:
        try:
            result = save()
        except ValidationError as exc:
            refused(exc)
            return None
        messages.add_message(request, level, success(result) if callable(success) else success)
        return page(result)

    return send


def form_sender(request: HttpRequest, form: Any, save: Callable[[], Any], success: Callable[[Any], str],
                next_page: Callable[[Any], str], level: int = messages.SUCCESS,
                refused: Callable[[ValidationError], None] | None = None) -> Callable[[], str | None]:
    """The send() of posted_once for a form written by save(): the service's refusal put on the form (or
    given to refused()) and None, or success(its result) flashed (at `level`) and the page next_page(its
    result)."""
    return _sender(request, save, success, next_page, refused or form.add_service_errors, level)


def posted_fingerprint(request: HttpRequest) -> str:
    """What the page's form sent (cases.sending.sending_fingerprint): its address and what was filled
    in, files by name and size. The same for a double tap; another for the form shown again from the
    browser's history (Back) and changed, which the browser sends with the token it was drawn with."""
    filled = sorted((name, value) for name, values in request.POST.lists() if name not in NOT_FILLED_IN
                    for value in values)
    files = sorted((name, upload.name, upload.size) for name, uploads in request.FILES.lists() for upload in uploads)
    return sending_fingerprint([request.path, filled, files])


def page_sent_once(request: HttpRequest, token: uuid.UUID, send: Callable[[], str | None], again: str) -> Sent:
    """send() once for the token (cases.sending.sent_once); sent before, the message `again` is flashed.
    SendingUnsettled when the token cannot be settled, or when it was sent before with other values: the
    form was drawn once, sent, then shown again from the browser's history and changed. What was sent
    now is not taken for the first sending (and silently dropped): it is refused, to be sent again."""
    try:
        sent = sent_once(token=token, user=request.user, send=send, fingerprint=posted_fingerprint(request))
    except SendingMismatch:
        raise SendingUnsettled({"sending_token": [_(
            "This form had already been sent with other values. What you sent now was not saved: check it "
            "and send it again.")]}) from None
    if sent.again:
        messages.info(request, again or _("This form had already been sent: it was saved once."))
    return sent


def posted_once(request: HttpRequest, form: Any, send: Callable[[], str | None], *, again: str = "") -> Posted:
    """For a page with one form: on a valid POST, send() once for the form's token however often the form
    is sent (cases.sending); it writes, flashes what was done and returns the page to go to, or puts the
    service's refusal on the form and returns None. A form sent again is led where the first went, with
    the message `again`. A GET or an invalid form sends nothing."""
    token = form_token(request)
    if request.method != "POST" or not form.is_valid():
        return Posted(response=None, token=token)
    try:
        sent = page_sent_once(request, token, send, again)
    except SendingUnsettled as exc:
        form.add_service_errors(exc)
        return Posted(response=None, token=uuid.uuid4(), conflict=True)
    return Posted(response=None if sent.location is None else redirect(sent.location), token=token)


def case_form_page(request: HttpRequest, *, access: CaseAccess, form: Any, template: str,
                   save: Callable[[], Any], success: Callable[[Any], str], context: dict | None = None,
                   invalid_status: int = 200, next_page: Callable[[Any], str] | None = None) -> HttpResponse:
    """save() runs only on a valid POST, once for the rendered form however often it is sent
    (posted_once); success(its result) is the message flashed on the case page (or on next_page(its
    result)). The form is shown with {"case", "form", "sending_token"} and context, with invalid_status
    when it has errors (409 when an earlier sending of it cannot be settled)."""
    posted = posted_once(request, form, form_sender(
        request, form, save, success,
        next_page or (lambda _result: reverse("cases:detail", kwargs={"case_id": access.case.pk}))))
    if posted.response is not None:
        return posted.response
    return render(request, template, {"case": access.case, "form": form, "sending_token": posted.token,
                                      **(context or {})}, status=posted.status(form, invalid_status))


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


def change_posted_once(request: HttpRequest, save: Callable[[], Any], success: str | Callable[[Any], str], *,
                       back: str, page: Callable[[Any], str] | None = None, fields: bool = False,
                       shown_again: Callable[[ValidationError, uuid.UUID, int], HttpResponse] | None = None,
                       ) -> HttpResponse:
    """A change posted from a page that shows no form again (POST, redirect, GET), saved once for the
    form's token however often it is sent (cases.sending): save() runs and `success` (a text, or a function
    of its result) is flashed, then the page is page(its result), or `back`. Its refusal (ValidationError)
    is flashed (config.pages.flash_refusal) and frees the token, and the page is `back`. Sent again, it is
    led where the first went and told so; a sending that cannot be settled is flashed, and nothing written.

    A page whose form holds what was typed gives shown_again(error, token, status), which draws the page
    again with the posted form, its values and the error: then a refusal is answered by it with the form's
    own token (freed, so the corrected form is sent with it) and 400, and a sending that cannot be settled
    with a new token and 409 (posted_once's answers), instead of a flash over an emptied form."""
    refusals: list[ValidationError] = []

    def refused(exc: ValidationError) -> None:
        if shown_again is None:
            flash_refusal(request, exc, fields=fields)
        else:
            refusals.append(exc)

    send = _sender(request, save, success, page or (lambda _result: back), refused)
    token = form_token(request)
    try:
        sent = page_sent_once(request, token, send, "")
    except SendingUnsettled as exc:
        if shown_again is not None:
            return shown_again(exc, uuid.uuid4(), 409)
        flash_refusal(request, exc)
        return redirect(back)
    if refusals and shown_again is not None:
        return shown_again(refusals[0], token, 400)
    return redirect(sent.location or back)


def case_change_posted(request: HttpRequest, *, access: CaseAccess, save: Callable[[], Any],
                       success: Callable[[Any], str], form: forms.Form | None = None,
                       invalid: str = "") -> HttpResponse:
    """An invalid form flashes invalid; else the change is saved once (change_posted_once): each message of
    its refusal is flashed, or success(its result). Back to the case page."""
    case_page = reverse("cases:detail", kwargs={"case_id": access.case.pk})
    if form is not None and not form.is_valid():
        messages.error(request, invalid)
        return redirect(case_page)
    return change_posted_once(request, save, success, back=case_page)


def case_open_posted(request: HttpRequest, form: Any, open_case: Callable[[], Any]) -> Posted:
    """A form that opens a case (the one-page form, the intake's last step), once for its token
    (posted_once): open_case() opens it; the new case's page with its number flashed, or the case the
    form opened when it was sent before (a double tap), or no page with the service's refusal on the form."""
    send = form_sender(request, form, open_case, lambda case: _("Case %(number)s opened.") % {"number": case.number},
                       lambda case: reverse("cases:detail", kwargs={"case_id": case.pk}))
    return posted_once(request, form, send, again=_("This case has already been opened."))
