"""Writes of the intake: a draft created and saved step by step, kept INTAKE_DRAFT_HOURS after its
last save and deleted within the hour after, and the case opened from it once."""

import datetime
import json

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency

from ..models import Case, IntakeDraft
from ..services import case_open


def _expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(hours=settings.INTAKE_DRAFT_HOURS)


def draft_create(*, user: User, agency: Agency, values: dict[str, list[str]], step: str) -> IntakeDraft:
    now = timezone.now()
    return IntakeDraft.objects.create(user=user, agency=agency, data=json.dumps(values), step=step,
                                      created_at=now, updated_at=now, expires_at=_expiry(now))


def drafts_expired_delete() -> int:
    """Delete the drafts past their expiry, with the survivor's name and phone in them (beat:
    cases.tasks.delete_expired_forms; the selectors never show them meanwhile); how many."""
    deleted, _by_model = IntakeDraft.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def draft_save(*, draft: IntakeDraft, values: dict[str, list[str]], step: str) -> None:
    now = timezone.now()
    draft.data, draft.step, draft.updated_at, draft.expires_at = json.dumps(values), step, now, _expiry(now)
    draft.save(update_fields=["data", "step", "updated_at", "expires_at"])


@transaction.atomic
def draft_case_open(*, draft: IntakeDraft, actor: User, arguments: dict) -> Case:
    """Open the case the draft holds and delete the draft (once however often the page is sent: the view
    runs it through cases.pages.case_open_posted)."""
    case = case_open(actor=actor, **arguments)
    IntakeDraft.objects.filter(pk=draft.pk).delete()
    return case
