"""The deadlines' side of a case's moments (cases.signals), connected in DeadlinesConfig.ready. Each
runs in the sender's transaction."""

import datetime

from django.contrib.auth.models import User

from agencies.models import Agency
from cases.models import Action, Case

from .services import (
    case_deadlines_after_action,
    case_deadlines_after_close,
    case_legal_deadlines_start,
)


def case_opened(sender, *, case: Case, opened_at: datetime.datetime, **kwargs) -> None:
    case_legal_deadlines_start(case=case, opened_at=opened_at)


def action_logged(sender, *, case: Case, action: Action, **kwargs) -> None:
    case_deadlines_after_action(case=case, action=action)


def case_closed(sender, *, case: Case, actor: User | None, agency: Agency | None, at: datetime.datetime,
                **kwargs) -> None:
    case_deadlines_after_close(case=case, actor=actor, agency=agency, at=at)

