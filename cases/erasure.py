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
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
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
# The reason of the erasure done again on a case that a restored backup brought back (anonymised_reapply).
RESTORED_REASON = "backup_restored"


def case_is_anonymised(case) -> bool:
    return case.anonymised_at is not None


# Sent inside the erasure's transaction (anonymise_case, and anonymised_reapply after a restore), after the
# key is destroyed: apps that keep text about the case under the key ring (privacy's requests) blank it
# here, whoever anonymised the case.
case_anonymised = Signal()


def _case_rows(model, case: Case):
    """The rows of `model` that belong to `case`, along the model's `data_key_via`."""
    via = [name for name in model.data_key_via.split(".") if name]
    if not via:
        return model.objects.filter(pk=case.survivor_id if model is Survivor else case.pk)
    return model.objects.filter(**{"__".join(via): case})


def _blank_case_text(case: Case) -> None:
    """Blank every sealed field of the case's rows. A field whose CHECK constraint needs a value (a
    decline reason of a declined handoff...) keeps its sealed value, which has no key any more. The keyed
    digests of the case's text or identity that a model names in `sealed_text_keys` (a decline reason's
    key, the phone's search hash, a takedown's content reference hash) are blanked too (NULL, or "" where
    the column takes no NULL): the text is neither readable nor findable nor countable as itself any more."""
    from django.apps import apps

    specs = {spec.model: spec.columns for spec in current_specs()}
    for model in apps.get_models():
        keys = getattr(model, "sealed_text_keys", ())
        if model._meta.label not in specs and not keys:
            continue
        rows = _case_rows(model, case)
        for column in specs.get(model._meta.label, ()):
            name = next(f.name for f in model._meta.concrete_fields if f.column == column)
            try:
                with transaction.atomic():
                    rows.exclude(**{name: ""}).update(**{name: ""})
            except IntegrityError:
                pass
        for name in keys:
            if model._meta.get_field(name).null:
                rows.exclude(**{f"{name}__isnull": True}).update(**{name: None})
            else:
                rows.exclude(**{name: ""}).update(**{name: ""})


def _erase(case: Case, now) -> tuple[list[str], int]:
    """What erasing `case` does to the database, the first time (anonymise_case) and again after a backup
    taken before it was restored (anonymised_reapply), so that both blank exactly the same: its text and
    digests blanked, its data keys destroyed (and forgotten by this process), `anonymised_at` set, and
    the other apps told (case_anonymised). `case` comes with its survivor. Returns the kids of its keys and
    how many of them it destroyed (not destroyed already)."""
    key_ids = {case.data_key_id, case.survivor.data_key_id} - {None}
    kids = sorted(CaseKey.objects.filter(pk__in=key_ids).values_list("kid", flat=True))
    _blank_case_text(case)
    destroyed = CaseKey.objects.filter(pk__in=key_ids, destroyed_at__isnull=True).update(wrapped_key="",
                                                                                       destroyed_at=now)
    for kid in kids:
        crypto.key_cache_forget(kid)
    Case.objects.filter(pk=case.pk).update(anonymised_at=now, updated_at=now)
    case_anonymised.send(sender=Case, case_id=case.pk)
    return kids, destroyed


@transaction.atomic
def anonymise_case(case, *, actor: User | None, reason: str) -> None:
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
    kids, _destroyed = _erase(case, now)
    audit_record(actor=actor, action=AuditAction.CASE_ANONYMISED, case_id=case.pk, agency_id=case.lead_agency_id,
                 categories=[c.value for c in DataCategory], target=f"case:{case.pk}",
                 details={"reason": reason, "data_keys": kids})
    line = {"case_id": case.pk, "data_keys": kids, "at": now.isoformat()}
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


def _ledger_record(raw: str) -> dict | None:
    """The erasure a ledger line records, or None. A line cut short by a crash (its start, or NULs, is all
    that reached the disk) has the next erasure's line written straight after it: that record is the
    line's end, from one of its "{" on."""
    decoder = json.JSONDecoder()
    for start in (i for i, char in enumerate(raw) if char == "{"):
        try:
            record, end = decoder.raw_decode(raw, start)
        except ValueError:
            continue
        if raw[end:].strip() or not isinstance(record, dict):
            continue
        case_id, kids = record.get("case_id"), record.get("data_keys")
        if isinstance(case_id, int) and isinstance(kids, list) and all(isinstance(k, str) for k in kids):
            return record
    return None


class ErasureLedgerUnreadable(Exception):
    """The erasure ledger exists but cannot be read: reapplying the audit trail alone could miss erasures."""


def _ledger_read() -> tuple[list[dict], int]:
    """The ledger's erasures, and how many of its lines record none (torn by a crash)."""
    path = _ledger_path()
    if not path.exists():
        return [], 0
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ErasureLedgerUnreadable(f"{path}: {exc.strerror or exc}") from exc
    records, unreadable = [], 0
    for raw in text.splitlines():
        record = _ledger_record(raw)
        if record is not None:
            records.append(record)
        elif raw.strip("\x00 \t"):
            unreadable += 1
    return records, unreadable


@dataclass(frozen=True)
class Reapplied:
    destroyed: int  # data keys destroyed again
    ledger_unreadable: int  # ledger lines that record no erasure (torn by a crash)


def anonymised_reapply() -> Reapplied:
    """Destroy again the keys of cases anonymised according to the erasure ledger (outside the
    database) or the audit trail: after restoring a backup taken before an erasure, run
    `manage.py reapply_erasures` before opening the service. ErasureLedgerUnreadable, before anything
    changes, when the ledger exists but cannot be read."""
    from audit.models import AuditEvent

    kids: set[str] = set()
    case_ids: set[int] = set()
    records, unreadable = _ledger_read()
    for line in records:
        kids.update(line["data_keys"])
        case_ids.add(line["case_id"])
    for case_id, details in AuditEvent.objects.filter(action=AuditAction.CASE_ANONYMISED).values_list(
            "case_id", "details"):
        kids.update(details.get("data_keys", []))
        case_ids.add(case_id)
    now = timezone.now()
    with transaction.atomic():
        destroyed = CaseKey.objects.filter(kid__in=kids, destroyed_at__isnull=True).update(wrapped_key="",
                                                                                          destroyed_at=now)
        restored = Case.objects.filter(pk__in=case_ids - {None}, anonymised_at__isnull=True)
        for case in restored.select_related("survivor"):
            case_kids, case_destroyed = _erase(case, now)
            destroyed += case_destroyed
            # Its text blanked and its keys destroyed once more: a change of case data, audited as the
            # erasure was (whose own event the restored audit trail may not hold).
            audit_record(actor=None, action=AuditAction.CASE_ANONYMISED, case_id=case.pk,
                         agency_id=case.lead_agency_id, categories=[c.value for c in DataCategory],
                         target=f"case:{case.pk}", details={"reason": RESTORED_REASON, "data_keys": case_kids})
    for kid in kids:
        crypto.key_cache_forget(kid)
    return Reapplied(destroyed=destroyed, ledger_unreadable=unreadable)
