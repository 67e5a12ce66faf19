"""Writes of the intake: a draft created and saved step by step, kept INTAKE_DRAFT_HOURS after its
last save, and the case opened from it once."""

import datetime
import json
import uuid

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency

from ..models import Case, IntakeDraft
from ..services import case_open_once


def _expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(hours=settings.INTAKE_DRAFT_HOURS)


def draft_create(*, user: User, agency: Agency, values: dict[str, list[str]], step: str) -> IntakeDraft:
    now = timezone.now()
    # Expired drafts are never shown; they are deleted here, at the next start of anyone's intake.
    IntakeDraft.objects.filter(expires_at__lte=now).delete()
    return IntakeDraft.objects.create(user=user, agency=agency, data=json.dumps(values), step=step,
                                      created_at=now, updated_at=now, expires_at=_expiry(now))


def draft_save(*, draft: IntakeDraft, values: dict[str, list[str]], step: str) -> None:
    now = timezone.now()
    draft.data, draft.step, draft.updated_at, draft.expires_at = json.dumps(values), step, now, _expiry(now)
    draft.save(update_fields=["data", "step", "updated_at", "expires_at"])


def _draft_token(draft: IntakeDraft) -> uuid.UUID:
    """The draft's token for case_open_once: its id and creation time (SQLite may give a deleted draft's
    id to a new one)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"hopluc:intake-draft:{draft.pk}:{draft.created_at.isoformat()}")


@transaction.atomic
def draft_case_open(*, draft: IntakeDraft, actor: User, arguments: dict) -> Case:
    """Open the case the draft holds and delete the draft, once: through case_open_once with the draft's
    token, so a second "Open the case" sent before the first has answered (a double tap on a slow
    connection) waits for it and gets CaseAlreadyOpened with the first one's case."""
    case = case_open_once(token=_draft_token(draft), actor=actor, **arguments)
    IntakeDraft.objects.filter(pk=draft.pk).delete()
    return case
