"""Case-meeting pages: the meetings of one's agencies with the coordinator's list and the schedule
form; the meeting screen for the chair (desktop) with a form per operation; the responder's plan
items (phone). Thin: access through conferences.selectors, input through the API's serializers
(config.api.input_validate), writes through conferences.services, POST-redirect-GET with a message, each
form written once however often it is sent (cases.pages.change_posted_once). A refused form that holds
typed text (a contribution, a decision, a plan item, the held date, a correction's reason) is not
emptied: the meeting page is drawn again with it, its errors beside it, and a 400."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.pages import NOT_FILLED_IN, change_posted_once
from config.api import input_validate
from config.exceptions import row_id_or_none
from permissions.categories import ACTION_CATEGORY_CHOICES

from . import serializers as inputs
from . import services
from .apis import meeting_detail_data
from .models import MeetingMode, PlanItemStatus
from .selectors import (
    agencies_invitable,
    agency_members,
    cases_awaiting_meeting,
    coordinator_agency_for,
    meeting_get_for_user,
    meeting_list_for_user,
    plan_item_actions,
    plan_item_get_for_user,
    plan_item_overdue,
    plan_items_for_user,
)
from .services import CANCEL_REASON_LIMIT, REASON_LIMIT, TEXT_LIMIT


@login_required
@require_GET
def meeting_list_page(request):
    coordinator = coordinator_agency_for(request.user)
    return render(request, "conferences/list.html", {
        "meetings": list(meeting_list_for_user(user=request.user)[:100]),
        "coordinator": coordinator,
        "awaiting": cases_awaiting_meeting(user=request.user) if coordinator else [],
        "chairs": list(agency_members(agency_id=coordinator.pk)) if coordinator else [],
        "modes": MeetingMode.choices,
        "plan_items": list(plan_items_for_user(user=request.user)[:50]),
        "now": timezone.now(),
    })


@login_required
@require_POST
def meeting_schedule_page(request):
    agency = coordinator_agency_for(request.user)
    if agency is None:
        raise PermissionDenied
    return change_posted_once(
        request, lambda: services.meeting_schedule(actor=request.user, **input_validate(
            inputs.MeetingScheduleInputSerializer, {
                "scheduled_for": request.POST.get("scheduled_for", ""), "mode": request.POST.get("mode", ""),
                "place": request.POST.get("place", ""), "chair": request.POST.get("chair") or None},
            agency=agency)),
        _("The meeting is scheduled. Put cases on its agenda, then invite agencies."),
        back=reverse("conferences:list"), fields=True,
        page=lambda meeting: reverse("conferences:detail", kwargs={"meeting_id": meeting.pk}))


@dataclass(frozen=True)
class RefusedForm:
    """A form of the meeting page the server refused, drawn again in place of its blank one: what was
    sent, the errors by field it draws ("" for the others, shown above it), the token to send it with."""

    operation: str
    row: int | None  # the agenda row (MeetingCase) of a case's form; None for the meeting's own forms
    values: dict[str, str]
    errors: dict[str, list[str]]
    token: uuid.UUID
    # False when the page no longer draws that form (the meeting or minutes moved on, the case left the
    # page): the errors and what was typed are then shown at the top of the page, to be copied.
    placed: bool = True
    typed: list[str] = field(default_factory=list)

    def on(self, operation: str, row: int | None = None) -> "RefusedForm | None":
        """Itself when it is the form of `operation` (on agenda row `row`) and drawn in place; else None
        (the template draws that form blank)."""
        return self if self.placed and self.operation == operation and self.row == row else None


def _meeting_page(request, access, *, refused: RefusedForm | None = None, status: int = 200) -> HttpResponse:
    data = meeting_detail_data(access)
    invitable = agencies_invitable(access=access) if access.is_coordinator else []
    invited_ids = {inv.agency_id for inv in data["invitations"]}
    owners = {inv.agency_id: list(agency_members(agency_id=inv.agency_id)) for inv in data["invitations"]} \
        if access.may_run else {}
    by_case = {row.case_id: {"row": row, "contributions": [], "decision": None, "plan": []} for row in data["agenda"]}
    for contribution in data["contributions"]:
        by_case[contribution.case_id]["contributions"].append(contribution)
    for decision in data["decisions"]:
        by_case[decision.case_id]["decision"] = decision
    for item in data["plan_items"]:
        by_case[item.case_id]["plan"].append(item)
    awaiting = cases_awaiting_meeting(user=request.user) if access.is_coordinator else []
    if refused is not None and not _drawn(refused, data["allowed_actions"], {row.pk for row in data["agenda"]}):
        refused = replace(refused, placed=False)
    return render(request, "conferences/detail.html", {
        "access": access, "meeting": access.meeting, **data, "actions": data["allowed_actions"],
        "cases": list(by_case.values()),
        "invitable": [row for row in invitable if row.agency.pk not in invited_ids],
        "owners": owners, "categories": ACTION_CATEGORY_CHOICES, "awaiting": awaiting,
        "latest_minutes": data["minutes"][-1] if data["minutes"] else None,
        "today": timezone.localdate(), "refused": refused, "text_limit": TEXT_LIMIT, "reason_limit": REASON_LIMIT,
        "cancel_reason_limit": CANCEL_REASON_LIMIT,
    }, status=status)


@login_required
@require_GET
def meeting_detail_page(request, meeting_id: int):
    return _meeting_page(request, services.meeting_view(user=request.user, meeting_id=meeting_id))


def _attendance(post) -> dict:
    present = set(post.getlist("attended"))
    return {"attended": {key.removeprefix("invited_"): key.removeprefix("invited_") in present
                         for key in post if key.startswith("invited_")}}


# Each operation of the meeting screen: (input serializer, service, how the form's fields become input).
OPERATIONS: dict[str, tuple[Any, Callable[..., Any], Any]] = {
    "agenda": (inputs.MeetingCaseAddInputSerializer, services.meeting_case_add, ("case_id",)),
    "invite": (inputs.MeetingInviteInputSerializer, services.meeting_invite, ("agency_id",)),
    "cancel": (inputs.MeetingCancelInputSerializer, services.meeting_cancel, ("reason",)),
    "attendance": (inputs.AttendanceInputSerializer, services.attendance_record, _attendance),
    "contribute": (inputs.ContributionInputSerializer, services.contribution_add,
                   ("meeting_case_id", "category", "text", "agency_id")),
    "hold": (inputs.MeetingHoldInputSerializer, services.meeting_hold, ("held_on",)),
    "decide": (inputs.DecisionInputSerializer, services.decision_record, ("meeting_case_id", "text")),
    "sign": (inputs.MinutesSignInputSerializer, services.minutes_sign, ()),
    "correct": (inputs.MinutesCorrectInputSerializer, services.minutes_correct, ("reason",)),
    "plan": (inputs.PlanItemInputSerializer, services.plan_item_add,
             ("meeting_case_id", "action", "owner_agency_id", "owner_user", "due_at")),
}


# The operations whose form holds what was typed, with the meeting's action that draws it (meeting_actions):
# refused, the page is drawn again with the form as sent (RefusedForm). The others (buttons, choices of a
# list) are flashed over the page as before.
TYPED = {"contribute": "contribute", "decide": "decide", "plan": "plan_add", "hold": "hold", "correct": "correct",
         "cancel": "cancel"}
# Their free text, shown at the top of the page when the form is no longer drawn.
TYPED_TEXT = ("text", "action", "reason")
# The form's field a service's refusal is about, where the service names it otherwise (as on the API).
ERROR_FIELD = {"agency": "agency_id", "owner_agency": "owner_agency_id"}


def _drawn(refused: RefusedForm, actions: list[str], rows: set[int]) -> bool:
    """Whether the page draws the refused form: its action allowed, and its case's row on the page."""
    per_case = "meeting_case_id" in OPERATIONS[refused.operation][2]
    return TYPED[refused.operation] in actions and (not per_case or refused.row in rows)


def _refused_form(request, operation: str, exc: ValidationError, token: uuid.UUID) -> RefusedForm:
    drawn = set(OPERATIONS[operation][2]) - {"meeting_case_id"}
    errors: dict[str, list[str]] = {}
    for name, texts in (exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}).items():
        name = ERROR_FIELD.get(name, name)
        errors.setdefault(name if name in drawn else "", []).extend(texts)
    values = {name: request.POST.get(name, "") for name in request.POST if name not in NOT_FILLED_IN}
    return RefusedForm(operation=operation, row=row_id_or_none(values.get("meeting_case_id", "")),
                       values=values, errors=errors, token=token,
                       typed=[values[name] for name in TYPED_TEXT if values.get(name, "").strip()])


@login_required
@require_POST
def meeting_operation_page(request, meeting_id: int, operation: str):
    if operation not in OPERATIONS:
        raise Http404
    serializer, service, fields = OPERATIONS[operation]
    access = meeting_get_for_user(user=request.user, meeting_id=meeting_id)
    data = fields(request.POST) if callable(fields) else {
        name: request.POST.get(name) or None for name in fields if request.POST.get(name) not in (None, "")}

    def shown_again(exc: ValidationError, token: uuid.UUID, status: int) -> HttpResponse:
        return _meeting_page(request, services.meeting_view(user=request.user, meeting_id=meeting_id),
                             refused=_refused_form(request, operation, exc, token), status=status)

    return change_posted_once(
        request, lambda: service(access=access, actor=request.user, **input_validate(serializer, data)),
        _("Saved."), back=reverse("conferences:detail", kwargs={"meeting_id": meeting_id}), fields=True,
        shown_again=shown_again if operation in TYPED else None)


@login_required
@require_GET
def plan_item_page(request, item_id: int):
    item = plan_item_get_for_user(user=request.user, item_id=item_id)
    return render(request, "conferences/plan_item.html", {
        "item": item, "overdue": plan_item_overdue(item), "actions": plan_item_actions(user=request.user, item=item),
    })


@login_required
@require_POST
def plan_item_finish_page(request, item_id: int):
    plan_item_get_for_user(user=request.user, item_id=item_id)

    def finish() -> str:
        values = input_validate(inputs.PlanItemFinishInputSerializer, {"status": request.POST.get("status", "")})
        services.plan_item_finish(actor=request.user, item_id=item_id, **values)
        return values["status"]

    return change_posted_once(
        request, finish, lambda status: _("Done.") if status == PlanItemStatus.DONE else _("Cancelled."),
        back=reverse("conferences:plan-item", kwargs={"item_id": item_id}), fields=True)
