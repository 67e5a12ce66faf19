"""Writes of the intake: a draft created and saved step by step, kept INTAKE_DRAFT_HOURS after its
last save, and the case opened from it once."""

import datetime
import json

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from config.exceptions import StateConflict

from ..models import Case, IntakeDraft
from ..services import case_open


class DraftAlreadyOpened(StateConflict):
    """The draft's case was opened by an earlier request (a double tap on "Open the case", a resent form)."""


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


@transaction.atomic
def draft_case_open(*, draft: IntakeDraft, actor: User, arguments: dict) -> Case:
    """Open the case the draft holds (cases.services.case_open, with the form's service arguments) and
    delete the draft, once. The draft's row is locked first: a second request for the same draft, sent
    before the first has answered (a double tap on a slow connection), waits for it, then finds the
    draft gone and gets DraftAlreadyOpened instead of opening the case a second time."""
    if IntakeDraft.objects.select_for_update().filter(pk=draft.pk).values_list("pk", flat=True).first() is None:
        raise DraftAlreadyOpened({"draft": [_("This case has already been opened.")]})
    case = case_open(actor=actor, **arguments)
    IntakeDraft.objects.filter(pk=draft.pk).delete()
    return case
