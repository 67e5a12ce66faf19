"""Risk pages: the assessment (one scrolling form, saved part-way or completed), one assessment with
its answers, and reporting a separation or a breach. Thin: access through case_get_for_user, writes
through risk.services, POST-redirect-GET with a message."""

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.models import RiskLevel
from cases.pages import case_change_posted, form_sender, posted_once
from cases.selectors import case_get_for_user
from permissions.categories import CaseRight

from .forms import AssessmentForm, ReviewForm, item_field_name
from .instrument import instrument_current
from .selectors import assessment_answers, assessment_draft_for, assessment_reasons
from .services import assessment_save, assessment_view, assessment_writer_check, risk_review_request, variant_default


@login_required
@require_http_methods(["GET", "POST"])
def assessment_page(request, case_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.LOG_ACTION)
    assessment_writer_check(access)
    instrument = instrument_current()
    draft = assessment_draft_for(access=access, user=request.user)
    chosen = request.GET.get("variant")
    code = draft.variant if draft else (chosen if chosen in instrument.variants else variant_default(access.case))
    variant = instrument.variants[code]
    initial = {}
    if draft is not None:
        initial = {item_field_name(c): v for c, v in json.loads(draft.answers or "{}").items()}
    form = AssessmentForm(request.POST or None, initial=initial, variant=variant)
    complete = "complete" in request.POST

    def saved(assessment) -> str:
        if not complete:
            return _("Your answers are saved. You can finish the assessment later.")
        return _("Risk assessed: %(level)s.") % {"level": RiskLevel(assessment.level).label}

    # Once per rendered form: a double tap on "Complete" completes one assessment, not a second one.
    posted = posted_once(request, form, form_sender(request, form, lambda: assessment_save(
        access=access, actor=request.user, **form.service_data(
            complete=complete, draft_variant=draft.variant if draft else None,
            default_variant=variant_default(access.case))), saved,
        lambda _assessment: reverse("cases:detail" if complete else "risk:assess", kwargs={"case_id": access.case.pk})))
    if posted.response is not None:
        return posted.response
    other = [v for v in instrument.variants.values() if v.code != variant.code]
    return render(request, "risk/assess.html", {
        "case": access.case, "form": form, "variant": variant, "instrument": instrument, "draft": draft,
        "other_variant": None if draft else (other[0] if other else None), "sending_token": posted.token,
    }, status=posted.status(form, invalid_status=200))


@login_required
@require_http_methods(["GET"])
def assessment_detail_page(request, case_id: int, assessment_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id)
    assessment = assessment_view(access=access, actor=request.user, assessment_id=assessment_id)
    instrument = instrument_current()
    variant = instrument.variants.get(assessment.variant)
    answers = assessment_answers(assessment)
    labels = dict(ANSWER_LABELS())
    rows = [(item.text, labels.get(answers.get(item.code, ""), "—")) for item in (variant.items if variant else ())]
    return render(request, "risk/assessment.html", {
        "case": access.case, "assessment": assessment, "rows": rows,
        "reasons": assessment_reasons(assessment), "variant": variant,
        "same_version": assessment.instrument_version == instrument.version,
        "threshold": variant.visible_high_threshold if variant else None,
    })


def ANSWER_LABELS():  # noqa: N802 - a constant translated at call time
    return [("yes", _("Yes")), ("no", _("No")), ("not_known", _("Not known"))]


@login_required
@require_POST
def review_request_page(request, case_id: int):
    access = case_get_for_user(user=request.user, case_id=case_id, require=CaseRight.LOG_ACTION)
    form = ReviewForm(request.POST)
    return case_change_posted(
        request, access=access, form=form, invalid=_("Choose what happened."),
        save=lambda: risk_review_request(access=access, actor=request.user, **form.service_data()),
        success=lambda _review: _("A new risk assessment is now due."))
