"""Erasure of a case by crypto-shredding: the primitive that retention and data-subject requests call.

`anonymise_case` destroys the case's data key (cases.CaseKey), so that every sealed copy of its
identity and free text, in the live database, a dump or a backup restored without the key, can no
longer be opened; it also blanks those fields where the schema allows it. The structured facts
(dates, statuses, categories, incident type, birth year, sex, locations) stay, so monthly reports
count the case as before. The audit trail records the erasure and never held the text.
"""

import json
import logging
import os
import re
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from encryption import crypto
from permissions.categories import DataCategory

from .models import Case, CaseKey, Survivor
from .sealing import current_specs

logger = logging.getLogger("hopluc.erasure")

# The reason is a code ("retention", "subject_request:12"), never text typed about the case: it is
# kept in the audit trail, which is append-only and outlives the case's key.
REASON_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")


def case_is_anonymised(case) -> bool:
    return case.anonymised_at is not None


def _blank_case_text(case: Case) -> None:
    """Blank every sealed field of the case's rows. A field whose CHECK constraint needs a value (a
    decline reason of a declined handoff...) keeps its sealed value, which has no key any more. The keyed
    digests of the case's text that a model names in `sealed_text_keys` (a decline reason's key) are set to
    NULL: the text is neither readable nor countable as itself any more."""
    from django.apps import apps

    for spec in current_specs():
        model = apps.get_model(spec.model)
        via = [name for name in spec.via.split(".") if name]
        rows = model.objects.filter(pk=case.survivor_id) if model is Survivor and not via else (
            model.objects.filter(pk=case.pk) if model is Case and not via
            else model.objects.filter(**{"__".join(via): case}))
        for column in spec.columns:
            name = next(f.name for f in model._meta.concrete_fields if f.column == column)
            try:
                with transaction.atomic():
                    rows.exclude(**{name: ""}).update(**{name: ""})
            except IntegrityError:
                pass
        for name in getattr(model, "sealed_text_keys", ()):
            rows.exclude(**{f"{name}__isnull": True}).update(**{name: None})


# Sent inside anonymise_case's transaction, after the key is destroyed: apps that keep text about the
# case under the key ring (privacy's requests) blank it here, whoever anonymised the case.
case_anonymised = Signal()


@transaction.atomic
def anonymise_case(case, *, actor, reason: str) -> None:
    """Crypto-shred `case`: destroy its data key, blank its identity and free text, keep its
    structured facts, set `anonymised_at` and record a `case.anonymised` audit event.

    `actor` is the user deciding (a supervisor answering a request) or None (the retention task).
    `reason` is a code such as "retention" or "subject_request:12" (letters, digits and _.:/-, at most
    100 characters): ValueError otherwise, as it is kept in the append-only audit trail. Running it
    again on an anonymised case does nothing."""
    if not isinstance(reason, str) or not REASON_RE.match(reason):
        raise ValueError("reason must be a code (letters, digits, _.:/-), not free text")
    case = Case.objects.select_for_update().select_related("survivor").get(pk=case.pk)
    if case.anonymised_at is not None:
        return
    now = timezone.now()
    key_ids = {case.data_key_id, case.survivor.data_key_id} - {None}
    kids = list(CaseKey.objects.filter(pk__in=key_ids).values_list("kid", flat=True))
    _blank_case_text(case)
    Survivor.objects.filter(pk=case.survivor_id).update(phone_hash="")
    CaseKey.objects.filter(pk__in=key_ids).update(wrapped_key="", destroyed_at=now)
    for kid in kids:
        crypto.key_cache_forget(kid)
    Case.objects.filter(pk=case.pk).update(anonymised_at=now, updated_at=now)
    case_anonymised.send(sender=Case, case_id=case.pk)
    audit_record(actor=actor, action=AuditAction.CASE_ANONYMISED, case_id=case.pk, agency_id=case.lead_agency_id,
                 categories=[c.value for c in DataCategory], target=f"case:{case.pk}",
                 details={"reason": reason, "data_keys": sorted(kids)})
    line = {"case_id": case.pk, "data_keys": sorted(kids), "at": now.isoformat()}
    transaction.on_commit(lambda: _ledger_append(line))


def _ledger_path() -> Path:
    return Path(settings.ERASURE_LEDGER_FILE)


def _ledger_append(line: dict) -> None:
    path = _ledger_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (json.dumps(line, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        # The audit event holds the same ids; the ledger only helps after a restore.
        logger.error("case %s anonymised but the erasure ledger %s could not be written: %s", line["case_id"],
                     path, exc)
    logger.info("case %s anonymised; data keys %s destroyed", line["case_id"], ",".join(line["data_keys"]))


def _ledger_read() -> list[dict]:
    path = _ledger_path()
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue  # a torn last line
    return lines


def anonymised_reapply() -> int:
    """Destroy again the keys of cases anonymised according to the erasure ledger (outside the
    database) or the audit trail: after restoring a backup taken before an erasure, run
    `manage.py reapply_erasures` before opening the service. Returns how many keys it destroyed."""
    from audit.models import AuditEvent

    kids: set[str] = set()
    case_ids: set[int] = set()
    for line in _ledger_read():
        kids.update(line.get("data_keys", []))
        case_ids.add(line.get("case_id"))
    for case_id, details in AuditEvent.objects.filter(action=AuditAction.CASE_ANONYMISED).values_list(
            "case_id", "details"):
        kids.update(details.get("data_keys", []))
        case_ids.add(case_id)
    now = timezone.now()
    with transaction.atomic():
        destroyed = CaseKey.objects.filter(kid__in=kids, destroyed_at__isnull=True).update(wrapped_key="",
                                                                                          destroyed_at=now)
        for case in Case.objects.filter(pk__in=case_ids - {None}, anonymised_at__isnull=True):
            _blank_case_text(case)
            Case.objects.filter(pk=case.pk).update(anonymised_at=now)
    for kid in kids:
        crypto.key_cache_forget(kid)
    return destroyed
