"""The data key of a case meeting: what seals the reasons typed about the meeting as a whole (why it was
cancelled, why its minutes were corrected), and its destruction when a case on its agenda is anonymised.

Why a key of the meeting's own: a meeting discusses several cases and one reason may name the survivor
of any of them, so sealing it with one case's key would leave it readable after another case's erasure,
and a copy per case would leave the other copies readable. Blanking the text on erasure would not do
either: a correction reason is part of a signed version of the minutes, which the database refuses to
change (conferences.triggers), and a copy in a dump or backup taken before would stay readable. So the
reasons are sealed with the meeting's key (`CaseMeeting.data_key`, a `cases.CaseKey` row wrapped by the
key ring like a case's), and erasing any case on the agenda destroys that key: every copy of them, in the
live database, a dump or a backup, no longer opens, and the signed minutes are not touched. After the
restore of a backup taken before, `reapply_erasures` erases the restored cases again, which destroys the
meetings' keys again (the same signal). A meeting whose agenda holds an anonymised case keeps nothing new
typed about it (its key stays destroyed), as an anonymised case keeps nothing new.
"""

from django.db import transaction
from django.utils import timezone

from cases.models import CaseKey
from encryption import crypto

from .models import CaseMeeting


def meeting_key_ensure(meeting: CaseMeeting) -> None:
    """Give `meeting` its data key before a reason is sealed with it (and set it on the instance). The row
    is locked and read again, so two writes of one meeting never make two keys (one would be forgotten by
    the meeting and never destroyed)."""
    with transaction.atomic():
        key_id = CaseMeeting.objects.select_for_update().values_list("data_key_id", flat=True).get(pk=meeting.pk)
        if key_id is None:
            key = CaseKey.create_new()
            CaseMeeting.objects.filter(pk=meeting.pk).update(data_key=key)
            meeting.data_key = key
        elif meeting.data_key_id != key_id:
            meeting.data_key = CaseKey.objects.get(pk=key_id)


def meeting_keys_destroy(*, case_id: int) -> int:
    """Destroy the data key of every meeting with case `case_id` on its agenda; a meeting with no key yet
    gets one already destroyed, so that nothing typed about it later is kept. Returns how many keys were
    destroyed or made destroyed."""
    now = timezone.now()
    meetings = CaseMeeting.objects.select_for_update().filter(agenda__case_id=case_id).order_by("pk")
    rows = list(meetings.values_list("pk", "data_key_id"))
    key_ids = [key_id for _pk, key_id in rows if key_id is not None]
    kids = list(CaseKey.objects.filter(pk__in=key_ids).values_list("kid", flat=True))
    done = CaseKey.objects.filter(pk__in=key_ids, destroyed_at__isnull=True).update(wrapped_key="", destroyed_at=now)
    for meeting_id in [pk for pk, key_id in rows if key_id is None]:
        kid, _raw = crypto.data_key_new()
        CaseMeeting.objects.filter(pk=meeting_id).update(
            data_key=CaseKey.objects.create(kid=kid, wrapped_key="", destroyed_at=now))
        done += 1
    for kid in kids:
        crypto.key_cache_forget(kid)
    return done


def case_anonymised_meeting_keys(sender, *, case_id: int, **kwargs) -> None:
    """Receiver of cases.erasure.case_anonymised (sent inside the erasure's transaction, whoever erases)."""
    meeting_keys_destroy(case_id=case_id)
