"""Handoff pages: incoming and outgoing lists, a handoff with its timeline and the buttons of the
viewer's side, and sending a case to another agency (also "send on" after a decline).

Thin: the handoff comes from `handoff_get_for_user` / the audited `handoff_view` (404 for anyone
outside the two agencies), the case from `case_get_for_user`, and every change from a service.
Access is checked before the input, so the wrong person gets 404/403 whatever they post.
POST-redirect-GET with a message; a form with errors is shown again, with a 400.
"""

import functools
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agencies.acting import ActingAgencyRequired
from agencies.models import Agency
from cases.pages import change_posted_once, form_sender, form_token, posted_once
from cases.selectors import case_get_for_user
from cases.services import consent_record_many
from config.exceptions import row_id_or_none
from config.formats import datetime_text
from config.pages import BoundedPaginator, count_bound, flash_refusal
from handoffs.models import Handoff, HandoffService, HandoffStatus
from permissions.categories import CaseRight, DataCategory

from .forms import (
    AgencyChoiceForm,
    HandoffConsentForm,
    HandoffFilterForm,
    HandoffSendForm,
    OutcomeForm,
    ReasonForm,
)
from .selectors import (
    HandoffAccess,
    consented_categories,
    handoff_actions_for,
    handoff_cards_for_user,
    handoff_get_for_user,
    handoff_is_overdue,
    handoff_receivers,
    handoff_timeline,
    handoff_triage,
)
from .services import (
    ACCEPT,
    COMPLETE,
    DECLINE,
    SEND_ON,
    WITHDRAW,
    handoff_accept,
    handoff_complete,
    handoff_decline,
    handoff_send,
    handoff_view,
    handoff_withdraw,
)

PER_PAGE = 20
DIRECTIONS = ("incoming", "outgoing")


def _category_labels(values) -> list[str]:
    return [str(label) for value, label in DataCategory.choices if value in values]


# --- Lists ---------------------------------------------------------------------------------------


def _page_offset(request) -> int | None:
    """Where the page asked for starts (None: a page number that is none, which the Paginator reads as
    the first)."""
    number = request.GET.get("page") or "1"
    return (int(number) - 1) * PER_PAGE if number.isascii() and number.isdigit() and 0 < int(number) < 10**6 else None


def _handoff_list(request, *, direction: str):
    offset = _page_offset(request)
    # The pager counts up to a bound (config.pages.count_bound). Unfiltered, the page's cards are read with
    # the list's count (handoff_cards_for_user); filtered, the Paginator reads them as it always does.
    bound = count_bound(offset, PER_PAGE)
    handoffs = handoff_cards_for_user(user=request.user, direction=direction,
                                      offset=None if request.GET.get("status") else offset, count_up_to=bound)
    if handoffs is None:
        raise PermissionDenied
    form = HandoffFilterForm(request.GET or None)
    if form.is_bound and form.is_valid() and form.cleaned_data["status"]:
        handoffs = handoffs.of_status(form.cleaned_data["status"])
    page = BoundedPaginator(handoffs, PER_PAGE, bound=bound).get_page(request.GET.get("page"))
    now = timezone.now()
    for handoff in page:
        handoff.overdue = handoff_is_overdue(handoff, now=now)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "handoffs/list.html", {
        "direction": direction, "form": form, "page": page, "query": query.urlencode(), "now": now,
        "blank_filter": None if form.is_bound else _blank_field(HandoffFilterForm, None, "status", get_language()),
    }, status=400 if form.is_bound and form.errors else 200)


@functools.lru_cache(maxsize=32)
def _blank_field(form_class, prefix: str | None, name: str, language: str) -> str:
    """cases/_field.html of the field `name` of a blank `form_class(prefix=prefix)`: a form that takes
    nothing of the request or the reader draws the same for everyone, so it is drawn once per language and
    process (the form's widget templates cost a page a millisecond a request)."""
    return render_to_string("cases/_field.html", {"field": form_class(prefix=prefix)[name]})


@login_required
@require_GET
def handoff_incoming(request):
    return _handoff_list(request, direction="incoming")


@login_required
@require_GET
def handoff_outgoing(request):
    return _handoff_list(request, direction="outgoing")


# --- One handoff ---------------------------------------------------------------------------------


# The one text field of each answer's form.
_TEXT_FIELD = {DECLINE: "reason", WITHDRAW: "reason", COMPLETE: "outcome"}


def _render_detail(request, access: HandoffAccess, *, bound: dict | None = None, token=None, status: int = 200):
    """The handoff page; `bound` holds a posted form with errors, shown in place of its blank one with its
    sending token (cases.pages.posted_once); each other form is drawn with a new token."""
    handoff = access.handoff
    actions = handoff_actions_for(access=access)
    forms = {
        DECLINE: ReasonForm(prefix=DECLINE) if DECLINE in actions else None,
        WITHDRAW: ReasonForm(prefix=WITHDRAW) if WITHDRAW in actions else None,
        COMPLETE: OutcomeForm(prefix=COMPLETE) if COMPLETE in actions else None,
    }
    forms.update(bound or {})
    language = get_language()
    # The blank forms' fields, drawn once per language (_blank_field); a posted form with errors is drawn.
    blanks = {key: _blank_field(type(form), key, _TEXT_FIELD[key], language)
              for key, form in forms.items() if form is not None and not form.is_bound}
    return render(request, "handoffs/detail.html", {
        "access": access, "handoff": handoff, "case": handoff.case, "actions": actions,
        "can_accept": ACCEPT in actions, "can_send_on": SEND_ON in actions,
        "decline_form": forms[DECLINE], "withdraw_form": forms[WITHDRAW], "complete_form": forms[COMPLETE],
        "decline_blank": blanks.get(DECLINE), "withdraw_blank": blanks.get(WITHDRAW),
        "complete_blank": blanks.get(COMPLETE),
        "overdue": handoff_is_overdue(handoff), "timeline": handoff_timeline(access=access),
        "triage": handoff_triage(access=access),
        "categories": _category_labels(handoff.categories),
        "services": [str(label) for value, label in HandoffService.choices if value in handoff.services],
        # The receiver reaches the case once it has accepted; the sender while it may still see it.
        "case_open_to_viewer": access.is_sender or handoff.status in (HandoffStatus.ACCEPTED, HandoffStatus.COMPLETED),
        "form_tokens": {key: token for key in bound or {}},
    }, status=status)


@login_required
@require_GET
def handoff_detail(request, handoff_id: int):
    access = handoff_view(user=request.user, handoff_id=handoff_id)
    return _render_detail(request, access)


def _side(request, handoff_id: int, side: str) -> HandoffAccess:
    """The handoff for a member of the side that may act on it: 404 outside both agencies, 403
    for the other side, before any input is looked at."""
    access = handoff_get_for_user(user=request.user, handoff_id=handoff_id)
    if access.side != side:
        raise PermissionDenied
    return access


def _after(request, handoff_id: int, success: str, call) -> object:
    return change_posted_once(request, call, success,
                              back=reverse("handoffs:detail", kwargs={"handoff_id": handoff_id}))


@login_required
@require_POST
def handoff_accept_page(request, handoff_id: int):
    _side(request, handoff_id, "receiver")
    return _after(request, handoff_id, _("Handoff accepted. The case is open to your agency."),
                  lambda: handoff_accept(user=request.user, handoff_id=handoff_id))


def _with_text(request, handoff_id: int, *, side: str, key: str, field: str, form_class, service, success: str):
    """A decline, withdrawal or completion: its one text field (`field`) goes to the service, once however
    often the form is sent (cases.pages.posted_once)."""
    _side(request, handoff_id, side)
    form = form_class(request.POST, prefix=key)
    detail = reverse("handoffs:detail", kwargs={"handoff_id": handoff_id})
    answered = []

    def refused(exc: ValidationError) -> None:
        # Refused by the handoff's state (answered meanwhile): flashed over the page; any other, on the form.
        if "status" in getattr(exc, "error_dict", {}):
            flash_refusal(request, exc)
            answered.append(exc)
        else:
            form.add_service_errors(exc)

    posted = posted_once(request, form, form_sender(
        request, form, lambda: service(user=request.user, handoff_id=handoff_id, **{field: form.cleaned_data[field]}),
        lambda _handoff: success, lambda _handoff: detail, refused=refused))
    if posted.response is not None:
        return posted.response
    if answered:
        return redirect(detail)
    access = handoff_view(user=request.user, handoff_id=handoff_id)
    return _render_detail(request, access, bound={key: form}, token=posted.token, status=posted.status(form))


@login_required
@require_POST
def handoff_decline_page(request, handoff_id: int):
    return _with_text(request, handoff_id, side="receiver", key=DECLINE, field="reason", form_class=ReasonForm,
                      service=handoff_decline, success=_("Handoff declined. The sending agency has been told."))


@login_required
@require_POST
def handoff_withdraw_page(request, handoff_id: int):
    return _with_text(request, handoff_id, side="sender", key=WITHDRAW, field="reason", form_class=ReasonForm,
                      service=handoff_withdraw, success=_("Handoff withdrawn. The receiving agency has been told."))


@login_required
@require_POST
def handoff_complete_page(request, handoff_id: int):
    return _with_text(request, handoff_id, side="receiver", key=COMPLETE, field="outcome", form_class=OutcomeForm,
                      service=handoff_complete, success=_("Handoff completed. The sending agency has been told."))


# --- Sending -------------------------------------------------------------------------------------


def _declined_from(access, value) -> Handoff | None:
    """The declined handoff this one sends on, when `value` names one of this case sent by the
    user's agency; anything else is ignored (the service checks it again)."""
    handoff_id = row_id_or_none(value) if value else None
    if handoff_id is None:
        return None
    return Handoff.objects.filter(pk=handoff_id, case=access.case, from_agency=access.agency,
                                  status=HandoffStatus.DECLINED).select_related("to_agency").first()


@login_required
@require_http_methods(["GET", "POST"])
def handoff_send_page(request, case_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.MANAGE_SHARING)
    if access.must_choose_agency:
        for message in ActingAgencyRequired().messages:
            messages.error(request, message)
        return redirect("cases:detail", case_id=access.case.pk)
    if access.agency is None:
        raise PermissionDenied
    case = access.case
    params = request.POST if request.method == "POST" else request.GET
    declined = _declined_from(access, params.get("forwarded_from"))
    agencies, allowed = handoff_receivers(case=case, from_agency=access.agency)
    chooser = AgencyChoiceForm({"to_agency": params["to_agency"]} if params.get("to_agency") else None,
                               agencies=agencies, first_province_id=case.province_id, allowed=allowed)
    if not chooser.is_bound or not chooser.is_valid():
        return render(request, "handoffs/send.html", {
            "case": case, "chooser": chooser, "declined": declined,
        }, status=400 if chooser.is_bound else 200)

    to_agency = Agency.objects.select_related("province").get(pk=chooser.cleaned_data["to_agency"])
    initial = {"to_agency": to_agency.pk}
    if declined is not None:
        initial.update(forwarded_from=declined.pk, kind=declined.kind, services=declined.services,
                       urgency=declined.urgency, message=declined.message)
    consent_form = None
    # The form's token: both of its sendings (the consent recorded inside it, then the handoff) write once
    # however often each is sent (cases.pages.posted_once); a recorded consent spends it, so the form comes
    # back with a new one for the handoff.
    token, conflict = form_token(request), False
    recording_consent = request.method == "POST" and request.POST.get("step") == "consent"
    if recording_consent:
        # Consent recorded inside the send form: what was typed for the handoff is kept, not checked.
        consent_form = HandoffConsentForm(request.POST, to_agency=to_agency)
        posted = posted_once(request, consent_form, form_sender(
            request, consent_form,
            lambda: consent_record_many(access=access, actor=request.user, **consent_form.service_arguments()),
            lambda consents: ngettext(
                "Consent recorded. Check what may now be shared and send the handoff.",
                "%(count)d consent records recorded. Check what may now be shared and send the handoff.",
                len(consents)) % {"count": len(consents)},
            lambda _consents: request.path), again=_("This consent had already been recorded: it was recorded once."))
        token, conflict = posted.token, posted.conflict
        if not consent_form.errors:
            consent_form, token = None, uuid.uuid4()
        initial.update(_typed(request.POST))
    shareable, refused = consented_categories(case=case, agency=to_agency)
    if recording_consent and consent_form is None:
        # Newly allowed categories are offered ticked, beside those ticked before.
        before, allowed_before = set(initial.get("categories") or []), allowed.get(to_agency.pk, (set(), set()))[0]
        initial["categories"] = sorted((before & shareable) | (shareable - allowed_before))
    bound = request.method == "POST" and not recording_consent
    form = HandoffSendForm(request.POST if bound else None, initial=initial, shareable=shareable, refused=refused)
    if bound:
        posted = posted_once(request, form, form_sender(
            request, form, lambda: handoff_send(access=access, actor=request.user, data=form.service_data()),
            lambda handoff: _("Handoff sent to %(agency)s. It must be answered by %(due)s.") % {
                "agency": to_agency.name, "due": datetime_text(handoff.due_at)},
            lambda handoff: reverse("handoffs:detail", kwargs={"handoff_id": handoff.pk})))
        if posted.response is not None:
            return posted.response
        token, conflict = posted.token, posted.conflict
    not_covered = set(DataCategory.values) - shareable - refused
    if consent_form is None and not_covered:
        consent_form = HandoffConsentForm(to_agency=to_agency)
    return render(request, "handoffs/send.html", {
        "case": case, "chooser": chooser, "form": form, "to_agency": to_agency, "declined": declined,
        "shareable": _category_labels(shareable), "refused": _category_labels(refused),
        "not_covered": _category_labels(not_covered), "has_consent": bool(shareable or refused),
        "consent_form": consent_form,
        "consent_open": bool(consent_form is not None and (consent_form.errors or not shareable)),
        "sending_token": token,
    }, status=409 if conflict else 400 if form.errors or (consent_form is not None and consent_form.errors) else 200)


_TYPED_LISTS = ("services", "categories", "override_categories")
_TYPED_TEXTS = ("kind", "urgency", "message", "override_reason", "forwarded_from")


def _typed(post) -> dict:
    """What was typed in the handoff part of the send form, as initial values for the form shown
    again after recording consent."""
    values = {name: post.getlist(name) for name in _TYPED_LISTS if name in post}
    values.update({name: post.get(name) for name in _TYPED_TEXTS if post.get(name) not in (None, "")})
    if post.get("emergency_override"):
        values["emergency_override"] = True
    return values
