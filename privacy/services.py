"""Writes of the privacy app: legal holds and data-subject requests.

Who may do what (decided here, for pages and API alike):
- a request is recorded by a responder or supervisor acting for the case's LEAD agency (a survivor
  who asks another agency is sent to the lead: only the lead sees her whole file and answers for it);
- requests are seen by the members (responders, supervisors) of the case's current lead agency;
- acknowledging, deciding, downloading the access package, placing and releasing a legal hold: the
  lead agency's supervisors only.
Everyone else gets 404 (they do not learn that a request exists); a lead responder who may see but
not decide gets 403.
"""

import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditAction
from audit.services import audit_record
from cases.erasure import anonymise_case
from cases.models import Case, Consent
from cases.selectors import CaseAccess, case_get_for_user
from cases.services import consent_withdraw
from cases.timeline import choice_label
from config.exceptions import NotFound
from notifications.models import Deadline, NotificationKind
from notifications.services import deadline_close, deadline_create, notify
from permissions.categories import CaseRight, DataCategory

from .models import (
    REQUEST_MACHINE,
    AccessPackage,
    DataSubjectRequest,
    LegalHold,
    RefusalGround,
    Requester,
    RequestKind,
    RequestStatus,
)
from .retention import lead_supervisors, retention_notice_cancel
from .selectors import consents_withdrawable, erasure_blockers, lead_supervisor_require, privacy_request_get

ACKNOWLEDGE_RULE = "data_subject_request_acknowledge"
COMPLETE_RULE = "data_subject_request_complete"
TEXT_MAX = 2000
# Why a grant of erasure takes no typed outcome: the service's refusal and the page's help text.
ERASURE_OUTCOME_FIXED = gettext_lazy("Leave the outcome empty when granting an erasure: a fixed sentence is "
                                     "recorded, so that nothing typed about her outlives the erasure.")
WITHDRAWAL_OUTCOME_FIXED = gettext_lazy("Leave the outcome empty when granting a withdrawal of consent: a fixed "
                                        "sentence says which consents were withdrawn.")
# The kinds whose grant records a fixed outcome instead of a typed one (_decision_values), and why.
FIXED_OUTCOMES: dict[str, Promise] = {RequestKind.ERASURE: ERASURE_OUTCOME_FIXED,
                                      RequestKind.WITHDRAW_CONSENT: WITHDRAWAL_OUTCOME_FIXED}
# A request written down late (taken on paper in the field) may be dated back this far.
RECEIVED_BACK_MAX = datetime.timedelta(days=15)


def request_path(request_id: int) -> str:
    return f"/privacy/requests/{request_id}/"


def _subject(request_id: int, code: str) -> str:
    return f"dsr:{request_id}:{code}"


def privacy_text_shred(*, case_id: int, keep_request_id: int | None = None) -> None:
    """Blank this app's free text about an anonymised case: what was asked, outcomes, hold reasons,
    an unread access package. Called beside anonymise_case by retention and erasure (the case key
    of cases.erasure does not reach rows of this app). The outcome of `keep_request_id` (the erasure
    request being completed: a fixed sentence, never typed text, _decision_values) stays."""
    DataSubjectRequest.objects.filter(case_id=case_id).update(details="")
    DataSubjectRequest.objects.filter(case_id=case_id).exclude(pk=keep_request_id).update(outcome="")
    LegalHold.objects.filter(case_id=case_id).update(reason="", release_reason="")
    AccessPackage.objects.filter(request__case_id=case_id).exclude(status=AccessPackage.Status.DOWNLOADED).update(
        content="", content_sha256="", status=AccessPackage.Status.FAILED)


# --- Data-subject requests -----------------------------------------------------------------------

def _record_values(data, *, case: Case, now: datetime.datetime) -> dict:
    """The request's values (validated by privacy.serializers.RequestRecordInputSerializer), received now
    unless said otherwise. A guardian asks only for a child."""
    if data["requester"] == Requester.GUARDIAN and case.survivor.is_minor is False:
        raise ValidationError({"requester": [_("She is an adult: only she may make the request.")]})
    return {"kind": data["kind"], "requester": data["requester"], "details": data.get("details", ""),
            "received_at": data.get("received_at") or now}


@transaction.atomic
def privacy_request_record(*, access: CaseAccess, actor: User, data: dict) -> DataSubjectRequest:
    """Record a request; the legal deadlines start (acknowledge in 2 working days, complete in 15
    days, notifications/data/time_limits.yaml) and the lead's supervisors are told."""
    if not access.can(CaseRight.LOG_ACTION):
        raise PermissionDenied
    agency = access.acting_agency()
    case = access.case
    if agency.pk != case.lead_agency_id:
        raise PermissionDenied
    if case.anonymised_at is not None:
        raise ValidationError({"case": [_("This case has been anonymised: nothing about her is held any more.")]})
    values = _record_values(data, case=case, now=timezone.now())
    dsr = DataSubjectRequest.objects.create(case=case, recorded_by=actor, recorded_by_agency=agency, **values)
    deadlines = [
        deadline_create(kind=Deadline.Kind.LEGAL_LIMIT, subject=_subject(dsr.pk, code), owner_agency=case.lead_agency,
                        owner_user=actor, rule=code, start=dsr.received_at, case_id=case.pk,
                        case_number=case.number, link=request_path(dsr.pk))
        for code in (ACKNOWLEDGE_RULE, COMPLETE_RULE)
    ]
    notify(recipients=lead_supervisors(case.lead_agency_id), kind=NotificationKind.DATA_SUBJECT_REQUEST,
           case_number=case.number, link=request_path(dsr.pk), params={"due_at": deadlines[0].due_at.isoformat()},
           event_key=f"dsr:{dsr.pk}:received")
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=case.pk, agency_id=agency.pk,
                 target=f"dsr:{dsr.pk}",
                 details={"kind": dsr.kind, "requester": dsr.requester})
    return dsr


def _acknowledge(dsr: DataSubjectRequest, *, actor: User, now) -> None:
    dsr.status, dsr.acknowledged_at, dsr.acknowledged_by = RequestStatus.ACKNOWLEDGED, now, actor
    deadline_close(subject=_subject(dsr.pk, ACKNOWLEDGE_RULE), reason=f"acknowledged:{actor.pk}")


@transaction.atomic
def privacy_request_acknowledge(*, user: User, request_id: int) -> DataSubjectRequest:
    dsr = privacy_request_get(user=user, request_id=request_id, supervisor=True, lock=True)
    REQUEST_MACHINE.check("acknowledge", dsr)
    _acknowledge(dsr, actor=user, now=timezone.now())
    dsr.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    audit_record(actor=user, action=AuditAction.CHANGE, case_id=dsr.case_id, agency_id=dsr.case.lead_agency_id,
                 target=f"dsr:{dsr.pk}", details={"status": dsr.status})
    return dsr


DECISIONS = ("grant", "refuse")


def _decision_values(data, *, dsr: DataSubjectRequest) -> dict:
    """The decision (validated by privacy.serializers.RequestDecisionInputSerializer); a grant of a
    correction, an objection or a restriction says what was done. A grant of erasure or of withdrawal
    of consent takes no typed outcome (FIXED_OUTCOMES): an erasure's is a fixed sentence, which outlives
    the erasure as the record of it (privacy_text_shred keeps it), so nothing typed about her (her name,
    her phone) may be in it; a withdrawal's names the consents withdrawn. Consents are chosen only when
    granting a withdrawal of consent."""
    decision, outcome = data["decision"], data.get("outcome", "")
    consent_ids = list(dict.fromkeys(data.get("consent_ids") or []))
    errors: dict[str, list[str]] = {}
    granted = decision == "grant"
    if granted and dsr.kind in FIXED_OUTCOMES and outcome:
        errors["outcome"] = [str(FIXED_OUTCOMES[dsr.kind])]
    elif granted and dsr.kind not in (RequestKind.ACCESS, *FIXED_OUTCOMES) and not outcome:
        errors["outcome"] = [_("Say what was done.")]
    if consent_ids and not (granted and dsr.kind == RequestKind.WITHDRAW_CONSENT):
        errors["consent_ids"] = [_("Choose consents only when granting a request to withdraw consent.")]
    if errors:
        raise ValidationError(errors)
    return {"decision": decision, "refusal_ground": data.get("refusal_ground", ""), "outcome": outcome,
            "consent_ids": consent_ids}


def consent_recipient_label(consent: Consent) -> str:
    """Whom a consent shares with, in words: the agency's name or the whole sector."""
    if consent.receiving_agency is not None:
        return consent.receiving_agency.name
    return _("Every agency of the sector %(sector)s") % {"sector": consent.get_receiving_sector_display()}


def consent_categories_label(categories) -> str:
    return ", ".join(choice_label(DataCategory, category) for category in categories)


def _consents_chosen(*, case: Case, consent_ids: list[int]) -> list[Consent]:
    """The consents chosen for withdrawal, each one the request may end (selectors.consents_withdrawable),
    read with the case locked as consent changes lock it, so that none is withdrawn or recorded in
    between. While any is in force at least one is chosen; when none is, none can be."""
    Case.objects.select_for_update(of=("self",)).filter(pk=case.pk).values_list("pk", flat=True).get()
    withdrawable = {consent.pk: consent for consent in consents_withdrawable(case_id=case.pk)}
    unknown = [consent_id for consent_id in consent_ids if consent_id not in withdrawable]
    if unknown:
        raise ValidationError({"consent_ids": [
            _("Not a consent of this case in force that shares something: %(ids)s.")
            % {"ids": ", ".join(str(consent_id) for consent_id in unknown)}]})
    if withdrawable and not consent_ids:
        raise ValidationError({"consent_ids": [_("Choose the consents she withdraws.")]})
    return [consent for consent in withdrawable.values() if consent.pk in consent_ids]


def _consents_withdraw(*, user: User, dsr: DataSubjectRequest, consent_ids: list[int]) -> tuple[list[Consent], str]:
    """Withdraw the chosen consents through cases.services.consent_withdraw, as the case page does (its
    rules, the rights they gave ending at once, the case's timeline line and the audit event of each),
    each with the same fixed reason. Returns them and the request's fixed outcome."""
    chosen = _consents_chosen(case=dsr.case, consent_ids=consent_ids)
    if not chosen:
        return [], _("No consent of hers that shares anything was in force: there was nothing to withdraw.")
    access = case_get_for_user(user=user, case_id=dsr.case_id, require=CaseRight.MANAGE_SHARING)
    # Every agency on the case reads a consent's withdrawal reason, and only the lead sees requests: the
    # reason says it was at her request, not which request.
    reason = _("Withdrawn at her request, recorded by the lead agency.")
    for consent in chosen:
        consent_withdraw(access=access, actor=user, consent_id=consent.pk, reason=reason)
    named = "; ".join(_("no. %(id)s, %(recipient)s (%(categories)s)") % {
        "id": consent.pk, "recipient": consent_recipient_label(consent),
        "categories": consent_categories_label(consent.granted_categories)} for consent in chosen)
    return chosen, _("Consent withdrawn; what it shared ended at once: %(consents)s.") % {"consents": named}


def _finish(dsr: DataSubjectRequest, *, status: str, now, reason: str) -> None:
    dsr.status, dsr.completed_at = status, now
    deadline_close(subject=_subject(dsr.pk, ACKNOWLEDGE_RULE), reason=reason)
    deadline_close(subject=_subject(dsr.pk, COMPLETE_RULE), reason=reason)


@transaction.atomic(durable=True)
def privacy_request_decide(*, user: User, request_id: int, data: dict) -> DataSubjectRequest:
    """The lead supervisor's decision, ending in the documented outcome:
    - refuse: with a ground and the words the survivor is told;
    - grant access: a worker builds the package, downloadable once (access_package_download ends it);
    - grant erasure: the case is anonymised, unless the law keeps it (legal hold, open investigation):
      then the request is refused on that ground, which is recorded;
    - grant withdrawal of consent: the chosen consents (`consent_ids`) are withdrawn in this
      transaction, as on the case page; the outcome names them;
    - grant correction, objection, restriction: what was done, in `outcome` (the change itself is
      made on the case pages, where its own rules and audit apply)."""
    dsr = privacy_request_get(user=user, request_id=request_id, supervisor=True, lock=True)
    REQUEST_MACHINE.check("decide", dsr)
    values = _decision_values(data, dsr=dsr)
    now = timezone.now()
    if dsr.status == RequestStatus.RECEIVED:
        _acknowledge(dsr, actor=user, now=now)
    dsr.decided_at, dsr.decided_by, dsr.outcome = now, user, values["outcome"]
    case = dsr.case
    enqueue = False
    withdrawn: list[Consent] | None = None
    if values["decision"] == "refuse":
        dsr.refusal_ground = values["refusal_ground"]
        _finish(dsr, status=RequestStatus.REFUSED, now=now, reason="refused")
    elif dsr.kind == RequestKind.ERASURE:
        blockers = erasure_blockers(case)
        if blockers:
            dsr.refusal_ground = blockers[0]
            dsr.outcome = _("Erasure refused: the law requires the case to be kept (%(ground)s).") % {
                "ground": RefusalGround(blockers[0]).label}
            _finish(dsr, status=RequestStatus.REFUSED, now=now, reason="refused: law keeps the case")
        else:
            anonymise_case(case, actor=user, reason=f"subject_request:{dsr.pk}")
            privacy_text_shred(case_id=case.pk, keep_request_id=dsr.pk)
            dsr.details = ""
            dsr.outcome = _("The case was anonymised: her identity and every text were erased.")
            _finish(dsr, status=RequestStatus.COMPLETED, now=now, reason="erased")
    elif dsr.kind == RequestKind.ACCESS:
        dsr.status = RequestStatus.GRANTED
        AccessPackage.objects.create(request=dsr)
        enqueue = True
    elif dsr.kind == RequestKind.WITHDRAW_CONSENT:
        withdrawn, dsr.outcome = _consents_withdraw(user=user, dsr=dsr, consent_ids=values["consent_ids"])
        _finish(dsr, status=RequestStatus.COMPLETED, now=now, reason="granted")
    else:
        _finish(dsr, status=RequestStatus.COMPLETED, now=now, reason="granted")
    dsr.save()
    details = {"decision": values["decision"], "status": dsr.status, "ground": dsr.refusal_ground}
    if withdrawn is not None:
        details["consents_withdrawn"] = [consent.pk for consent in withdrawn]
    audit_record(actor=user, action=AuditAction.CHANGE, case_id=case.pk, agency_id=case.lead_agency_id,
                 target=f"dsr:{dsr.pk}", details=details)
    if enqueue:
        from .tasks import build_access_package

        transaction.on_commit(lambda: build_access_package.apply_async(args=[dsr.pk], queue=_queue()))
    return dsr


def _queue() -> str:
    from django.conf import settings

    return settings.PRIVACY_QUEUE


class PackageGone(Exception):
    """The package was downloaded already (or never built): it cannot be handed over again."""


@transaction.atomic
def access_package_download(*, user: User, request_id: int) -> tuple[bytes, str]:
    """The package archive, once: the content is destroyed in the same transaction, the request is
    completed and the download audited."""
    import base64

    dsr = privacy_request_get(user=user, request_id=request_id, supervisor=True, lock=True)
    try:
        package = AccessPackage.objects.select_for_update().get(request=dsr)
    except AccessPackage.DoesNotExist:
        raise PackageGone from None
    dsr.package = package
    if not REQUEST_MACHINE.allows("download", dsr):
        raise PackageGone
    content = base64.b64decode(package.content)
    now = timezone.now()
    package.status, package.content, package.downloaded_at, package.downloaded_by = (
        AccessPackage.Status.DOWNLOADED, "", now, user)
    package.save(update_fields=["status", "content", "downloaded_at", "downloaded_by"])
    if not dsr.outcome:
        dsr.outcome = _("The package of everything held about her was handed over.")
    _finish(dsr, status=RequestStatus.COMPLETED, now=now, reason="package downloaded")
    dsr.save(update_fields=["status", "completed_at", "outcome"])
    audit_record(actor=user, action=AuditAction.EXPORT, case_id=dsr.case_id, agency_id=dsr.case.lead_agency_id,
                 target=f"dsr:{dsr.pk}",
                 details={"package": "downloaded", "sha256": package.content_sha256, "size": package.size})
    return content, f"hopluc-access-{dsr.case.number}-{dsr.pk}.zip"


# --- Legal holds ---------------------------------------------------------------------------------

@transaction.atomic
def legal_hold_place(*, user: User, case: Case, data: dict) -> LegalHold:
    """A supervisor of the lead agency suspends retention and erasure; a pending retention notice is
    cancelled. The reason is encrypted here; the audit event points at the hold."""
    lead_supervisor_require(user=user, case=case)
    reason = data["reason"]
    if case.anonymised_at is not None:
        raise ValidationError({"reason": [_("This case has been anonymised already.")]})
    hold = LegalHold.objects.create(case=case, reason=reason, placed_by=user, placed_by_agency=case.lead_agency)
    retention_notice_cancel(case=case, reason="legal hold", actor=user)
    audit_record(actor=user, action=AuditAction.CREATE, case_id=case.pk, agency_id=case.lead_agency_id,
                 target=f"legal_hold:{hold.pk}", details={"legal_hold": "placed"})
    return hold


@transaction.atomic(durable=True)
def legal_hold_release(*, user: User, hold_id: int, data: dict) -> LegalHold:
    try:
        hold = LegalHold.objects.select_for_update(of=("self",)).select_related("case").get(pk=hold_id)
    except (LegalHold.DoesNotExist, ValueError, TypeError):
        raise NotFound from None
    case = hold.case
    lead_supervisor_require(user=user, case=case)
    reason = data["reason"]
    if hold.released_at is not None:
        raise ValidationError({"reason": [_("This hold has been released already.")]})
    hold.released_at, hold.released_by, hold.release_reason = timezone.now(), user, reason
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    audit_record(actor=user, action=AuditAction.CHANGE, case_id=case.pk, agency_id=case.lead_agency_id,
                 target=f"legal_hold:{hold.pk}", details={"legal_hold": "released"})
    return hold


def access_package_build(*, request_id: int) -> str:
    """Worker side: build the package of a granted access request and tell the lead's supervisors.
    Idempotent: a package already built (or downloaded) is left alone. Returns its status."""
    import base64

    from .package import access_package_archive

    with transaction.atomic():
        package = AccessPackage.objects.select_for_update().select_related("request__case").get(request_id=request_id)
        if package.status != AccessPackage.Status.PENDING:
            return package.status
        dsr = package.request
        case = Case.objects.select_related("survivor", "province", "lead_agency", "lead_agency__province").get(
            pk=dsr.case_id)
        content, digest = access_package_archive(case)
        package.content = base64.b64encode(content).decode()
        package.content_sha256, package.size = digest, len(content)
        package.status, package.ready_at = AccessPackage.Status.READY, timezone.now()
        package.save()
        notify(recipients=lead_supervisors(case.lead_agency_id), kind=NotificationKind.ACCESS_PACKAGE_READY,
               case_number=case.number, link=request_path(dsr.pk), event_key=f"dsr:{dsr.pk}:package")
        audit_record(actor=None, action=AuditAction.CREATE, case_id=case.pk, agency_id=case.lead_agency_id,
                     target=f"dsr:{dsr.pk}", details={"package": "built", "sha256": digest, "size": len(content)})
    return package.status
