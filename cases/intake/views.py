"""Pages of the guided intake (cases.intake): start, one page per step, check your answers.

Every page finds the draft through `cases.intake.selectors.draft_get`, which knows only the signed-in
person's own drafts for the agency they act for: anyone else gets 404, whoever they are.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.exceptions import NotFound, row_id_or_none

from ..forms import CONSENT_PREFIX
from ..pages import case_open_posted, form_token, page_sent_once
from ..sending import SendingUnsettled, sending_location
from . import forms as intake_forms
from . import selectors, services, steps


def _agency_or_refuse(request):
    agencies, agency = selectors.acting_opening_agency(user=request.user)
    if not agencies:
        raise PermissionDenied
    return agency


def _choose_agency(request):
    return render(request, "cases/intake_choose_agency.html", status=400)


def _field_target(form, name: str) -> str:
    field = form[name]
    return f"{field.auto_id}_0" if field.field.widget.use_fieldset else field.auto_id


def _error_summary(form, *, step_urls: dict[str, str] | None = None) -> list[dict]:
    """Every message at once, in the order of the steps and fields, each linking to its field."""
    items = []
    for message in form.non_field_errors():
        items.append({"message": message, "href": ""})
    order = [name for step in steps.STEPS for name in step.fields]
    for name in sorted((n for n in form.errors if n != "__all__"), key=lambda n: order.index(n) if n in order else 99):
        if name not in form.fields:
            continue
        anchor = "#" + _field_target(form, name)
        url = (step_urls or {}).get(steps.STEP_OF_FIELD.get(name, ""), "")
        label = form[name].label
        for message in form.errors[name]:
            items.append({"message": f"{label}: {message}" if step_urls else message, "href": url + anchor})
    return items


def _step_urls(draft) -> dict[str, str]:
    return {step.key: reverse("cases:intake-step", args=[draft.pk, step.key]) for step in steps.STEPS}


def _render_step(request, *, step, form, draft, values, errors=None, status=200):
    province = (values.get("province") or [""])[0]
    return render(request, "cases/intake_step.html", {
        "step": step, "steps": steps.STEPS, "step_number": steps.STEP_KEYS.index(step.key) + 1,
        "step_count": len(steps.STEPS), "form": form, "draft": draft, "error_summary": errors or [],
        "fields": {name: form[name] for name in step.fields},
        "answer_values": values,
        "communes": selectors.communes_in_force(province_code=province) if step.key == "what" else [],
        "child": intake_forms.is_child(values),
        "previous": steps.step_previous(step.key),
        "return_to_check": request.GET.get("return") == "check" or request.POST.get("return") == "check",
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def intake_start(request):
    """The first step, before any draft exists; with unfinished drafts, the choice to go on with one."""
    agency = _agency_or_refuse(request)
    if agency is None:
        return _choose_agency(request)
    step = steps.STEP_BY_KEY["who"]
    values = intake_forms.draft_defaults(agency=agency)
    if request.method == "GET":
        drafts = list(selectors.drafts_of(user=request.user, agency_id=agency.pk))
        if drafts and request.GET.get("new") != "1":
            return render(request, "cases/intake_start.html", {"drafts": drafts})
        form = intake_forms.intake_form(values, agency=agency, bound=False)
        return _render_step(request, step=step, form=form, draft=None, values=values)
    values = steps.draft_merge(values, step, request.POST)
    form = intake_forms.step_check(step, values, agency=agency)
    shown = {}

    def start() -> str:
        # The draft is kept even when the step has errors: what was typed is never lost.
        draft = services.draft_create(user=request.user, agency=agency, values=values,
                                      step=step.key if form.errors else steps.step_next(step.key))
        if form.errors:
            shown["errors"] = _render_step(request, step=step, form=form, draft=draft, values=values,
                                           errors=_error_summary(form), status=400)
        return reverse("cases:intake-step", kwargs={"draft_id": draft.pk, "step": draft.step})

    # One draft however often the first step is sent (a double tap): sent again, it goes on with that draft.
    try:
        sent = page_sent_once(request, form_token(request), start, _("This step had already been sent: it was "
                                                                       "saved once, in this draft."))
    except SendingUnsettled as exc:
        # Nothing was saved now: what was typed is shown again, with a new token, to be sent again or not.
        errors = [{"message": message, "href": ""} for message in exc.messages] + _error_summary(form)
        return _render_step(request, step=step, form=form, draft=None, values=values, errors=errors, status=409)
    return shown["errors"] if "errors" in shown else redirect(sent.location)


@login_required
@require_http_methods(["GET", "POST"])
def intake_step(request, draft_id: int, step: str):
    agency = _agency_or_refuse(request)
    try:
        draft = selectors.draft_get(user=request.user, agency_id=agency.pk if agency else None, draft_id=draft_id)
    except NotFound:
        # "Open the case" sent again after the first sending opened it (and deleted the draft): its case.
        opened = (sending_location(token=form_token(request), user=request.user)
                  if request.method == "POST" and step == "check" else None)
        if opened is None:
            raise
        messages.info(request, _("This case has already been opened."))
        return redirect(opened)
    if step not in steps.STEP_BY_KEY:
        return redirect("cases:intake-step", draft_id=draft.pk, step="who")
    step = steps.STEP_BY_KEY[step]
    values = selectors.draft_values(draft)
    if step.key == "check":
        return _check(request, draft=draft, values=values, agency=agency)
    if request.method == "GET":
        form = intake_forms.intake_form(values, agency=agency, bound=False)
        return _render_step(request, step=step, form=form, draft=draft, values=values)

    values = steps.draft_merge(values, step, request.POST)
    going_back = request.POST.get("go") == "back"
    if going_back:
        # Back saves what was typed without checking it: it is checked when the person continues.
        target = steps.step_previous(step.key) or step.key
        services.draft_save(draft=draft, values=values, step=target)
        return redirect("cases:intake-step", draft_id=draft.pk, step=target)
    form = intake_forms.step_check(step, values, agency=agency)
    if form.errors:
        services.draft_save(draft=draft, values=values, step=step.key)
        return _render_step(request, step=step, form=form, draft=draft, values=values,
                            errors=_error_summary(form), status=400)
    target = "check" if request.POST.get("return") == "check" else steps.step_next(step.key)
    services.draft_save(draft=draft, values=values, step=target)
    return redirect("cases:intake-step", draft_id=draft.pk, step=target)


def _answer_groups(values, *, agency, step_urls: dict[str, str]) -> list[dict]:
    """Check your answers: each step's answers as label and text, with a link to change them."""
    form = intake_forms.intake_form(values, agency=agency, bound=False)
    sharing = (values.get("share") or ["no"])[0] == "yes"
    groups = []
    for step in steps.STEPS[:-1]:
        rows = []
        for name in step.fields:
            raw = values.get(name) or []
            if not raw or (name.startswith(CONSENT_PREFIX) and not sharing):
                continue
            field = form.fields[name]
            if name == "statistics_consent" or name.endswith("emergency_override"):
                text = _("Yes")
            elif name == "what_happened":
                text = intake_forms.what_happened_label(raw[0])
            elif name == "commune_name":
                commune = selectors.commune_find(province_code=(values.get("province") or [""])[0], name=raw[0])
                text = commune.name if commune else raw[0]
            elif name.endswith("receiving_agency"):
                text = ", ".join(str(a) for a in field.queryset.filter(pk__in=[v for v in raw if row_id_or_none(v)]))
            else:
                choices = {str(k): v for k, v in getattr(field, "choices", []) if k not in ("", None)}
                text = ", ".join(str(choices.get(v, v)) for v in raw)
            rows.append({"label": field.label, "text": text, "name": name})
        if step.key == "risk" and not values.get("statistics_consent"):
            rows.append({"label": form.fields["statistics_consent"].label, "text": _("No"),
                         "name": "statistics_consent"})
        groups.append({"step": step, "url": step_urls[step.key] + "?return=check", "rows": rows})
    return groups


def _check(request, *, draft, values, agency):
    form = intake_forms.intake_form(values, agency=agency)
    errors = []
    # "Open the case" opens one case however often it is sent.
    posted = case_open_posted(request, form, lambda: services.draft_case_open(
        draft=draft, actor=request.user, arguments=form.service_arguments()))
    if posted.response is not None:
        return posted.response
    if request.method == "POST":
        errors = _error_summary(form, step_urls={k: u + "?return=check" for k, u in _step_urls(draft).items()})
    return render(request, "cases/intake_check.html", {
        "draft": draft, "steps": steps.STEPS, "step": steps.STEP_BY_KEY["check"],
        "step_number": len(steps.STEPS), "step_count": len(steps.STEPS),
        "groups": _answer_groups(values, agency=agency, step_urls=_step_urls(draft)), "error_summary": errors,
        "sending_token": posted.token,
    }, status=posted.status(form) if request.method == "POST" else 200)


@login_required
@require_POST
def intake_discard(request, draft_id: int):
    agency = _agency_or_refuse(request)
    draft = selectors.draft_get(user=request.user, agency_id=agency.pk if agency else None, draft_id=draft_id)
    draft.delete()
    messages.success(request, _("The unfinished case was discarded."))
    return redirect("cases:intake")


@login_required
def intake_communes(request):
    """The communes in force in a province, for the commune list when the province changes."""
    from django.http import JsonResponse

    if not selectors.opening_agencies(user=request.user):
        raise PermissionDenied
    code = request.GET.get("province", "")[:8]
    return JsonResponse({"communes": [name for _code, name in selectors.communes_in_force(province_code=code)]})
