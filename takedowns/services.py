"""Content takedown requests: asking a platform to remove content, and what came of it.

A request is an Action of type takedown_requested (its timeline line, audit event and data category
come from action_log) with a TakedownRequest beside it: the platform, a keyed hash of the content's
reference and the outcome. Neither the content nor its address is stored (Principle 5); the hash
lets two requests about the same content be recognised. Both services run in one transaction with
their audit event; each outcome recorded is a timeline line (cases.events) in the action's category.
"""

import datetime
import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from cases.models import ActionType
from cases.selectors import CaseAccess
from cases.services import action_log
from config.exceptions import NotFound
from permissions.categories import GENERAL, CaseRight
from takedowns.models import TakedownOutcome, TakedownRequest

from . import events
from .selectors import TAKEDOWN_MACHINE, takedown_list_for_case

REFERENCE_LIMIT = 2000


def content_reference_normalize(reference: str) -> str:
    """The same address written twice the same way: surrounding space, the case of the scheme and
    host, and the fragment do not change what a web address points at. Other references (a post
    ID, a hash from an image-hashing tool) are taken as written."""
    reference = reference.strip()
    parts = urlsplit(reference)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))
    return reference


def content_reference_hash(reference: str) -> str:
    """Keyed hash (as phone numbers are kept for search): equal references match, and the address
    cannot be read back nor confirmed by hashing a guess without the key."""
    key = settings.SEARCH_HASH_KEY.encode()
    return hmac.new(key, content_reference_normalize(reference).encode(), hashlib.sha256).hexdigest()


def _sensitive(category: str) -> list[str]:
    return [] if category == GENERAL else [category]


@transaction.atomic(durable=True)
def takedown_request_record(*, access: CaseAccess, actor: User, data: dict) -> TakedownRequest:
    """Record a request to a platform to take content down: the action, and the request with the
    hash of the content reference (validated by takedowns.apis.TakedownRecordApi.InputSerializer).
    Needs log_action, like any action."""
    if not access.can(CaseRight.LOG_ACTION):
        raise PermissionDenied
    access.acting_agency()
    platform, reference = data["platform"], data["content_reference"]
    action_data = {"type": ActionType.TAKEDOWN_REQUESTED.value}
    action_data |= {key: data[key] for key in ("occurred_at", "category", "text") if data.get(key) not in (None, "")}
    action = action_log(access=access, actor=actor, data=action_data)
    takedown = TakedownRequest.objects.create(
        case=access.case, action=action, platform=platform, content_reference_hash=content_reference_hash(reference),
        requested_at=action.occurred_at,
    )
    audit_record(actor=actor, action=AuditAction.CREATE, case_id=access.case.pk, agency_id=action.agency_id,
                 categories=_sensitive(action.category), target=f"takedown:{takedown.pk}",
                 details={"platform": platform, "action_id": action.pk})
    return takedown


def _outcome_time(data, *, takedown: TakedownRequest, now: datetime.datetime) -> tuple[str, datetime.datetime | None]:
    """The outcome and when it became known (now unless given; none for pending), as the request allows."""
    outcome = data["outcome"]
    resolved_at = None if outcome == TakedownOutcome.PENDING else data.get("resolved_at") or now
    if resolved_at is not None and resolved_at < takedown.requested_at:
        raise ValidationError({"resolved_at": [_("The outcome cannot be known before the request was made.")]})
    if (outcome, resolved_at) == (takedown.outcome, takedown.resolved_at):
        raise ValidationError({"outcome": [_("This outcome is already recorded.")]})
    return outcome, resolved_at


@transaction.atomic(durable=True)
def takedown_outcome_record(*, access: CaseAccess, actor: User, takedown_id: int, data: dict) -> TakedownRequest:
    """Record what the platform did (removed, refused, no response) or set the request back to
    pending (validated by takedowns.apis.TakedownOutcomeApi.InputSerializer); `resolved_at` defaults to
    now. A later outcome replaces an earlier one; each is audited."""
    if not access.can(CaseRight.LOG_ACTION):
        raise PermissionDenied
    access.acting_agency()
    if isinstance(takedown_id, bool) or not isinstance(takedown_id, int):
        raise NotFound
    takedown = takedown_list_for_case(access=access).select_for_update(of=("self",)).filter(pk=takedown_id).first()
    if takedown is None:
        raise NotFound
    now = timezone.now()
    outcome, resolved_at = _outcome_time(data, takedown=takedown, now=now)
    TAKEDOWN_MACHINE.check(outcome, takedown)
    previous = takedown.outcome
    takedown.outcome, takedown.resolved_at, takedown.outcome_recorded_by = outcome, resolved_at, actor
    takedown.save(update_fields=["outcome", "resolved_at", "outcome_recorded_by"])
    events.takedown_outcome_recorded(takedown=takedown, actor=actor, agency=access.agency, at=now, previous=previous)
    audit_record(actor=actor, action=AuditAction.CHANGE, case_id=access.case.pk, agency_id=access.agency.pk,
                 categories=_sensitive(takedown.action.category), target=f"takedown:{takedown.pk}",
                 details={"outcome": outcome, "previous": previous})
    return takedown
