"""This app's side of the cases' moments (cases.signals, cases.erasure), connected in PrivacyConfig.ready.
Each runs in the sender's transaction."""

import datetime

from django.contrib.auth.models import User

from agencies.models import Agency
from cases.models import Case


def case_anonymised_shred(sender, *, case_id: int, **kwargs) -> None:
    """Whoever anonymises a case (retention, a request, an operator), this app's text about it goes
    too: a request's details and outcomes and its package are sealed under the key ring, not the case
    key (the request outlives the erased case), so they are blanked here."""
    from .services import privacy_text_shred

    privacy_text_shred(case_id=case_id)


def case_reopened_notice_cancel(sender, *, case: Case, actor: User | None, agency: Agency | None, at: datetime.datetime,
                  **kwargs) -> None:
    """Receiver of cases.signals.case_reopened, in the reopening's transaction (the case locked): its
    pending retention notice is cancelled now, not at the next daily run, so closing it again before
    that run cannot leave the old notice standing (its day counted from the old closing)."""
    from .retention import retention_notice_cancel

    retention_notice_cancel(case=case, reason="reopened", actor=actor, agency_id=agency.pk if agency else None)
