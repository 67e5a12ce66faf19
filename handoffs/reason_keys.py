"""The decline reason keys of the handoffs already written (handoffs.models.Handoff.decline_reason_key): written
by migration 0008 and, after SEARCH_HASH_KEY changed, by `manage.py rewrite_decline_reason_keys`.

Every handoff with a reason is read in order of id, BATCH at a time, its reason opened with its case's key (the
keys of a batch read in one query) and the batch's keys written in one statement, those that changed only. A
reason whose case key was destroyed (an anonymised case) has no key. Values are read and written with plain SQL:
through the ORM the field would open them one by one. BATCH is small because what the statement-level update
trigger of supervision 0007 costs grows with the square of a statement's rows (one UPDATE of 2,000 handoffs cost
it 2.3 s, of 500 0.15 s)."""

import uuid

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from encryption import crypto

BATCH = 200
TABLE = "cases_handoff"


def _opened(value: str, keys: dict[str, Fernet | None]) -> str:
    if crypto.is_sealed(value):
        key = keys.get(crypto.sealed_kid(value))
        return crypto.unseal_with(value, key) if key else ""
    try:
        return crypto.decrypt(value)  # written before per-case keys, under the key ring
    except ImproperlyConfigured:
        return value  # neither: plaintext written before issue 12


def _hex(value) -> str | None:
    """A stored key as hex: a UUID (PostgreSQL) or the 32 characters SQLite keeps."""
    return None if value is None else value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "")


def decline_reason_keys_write(*, connection, case_keys, batch_size: int = BATCH) -> int:
    """Write the key of every handoff's reason where it differs; how many were written. `case_keys` is the
    CaseKey model (a migration's historical one, or cases.models.CaseKey)."""
    last, written = 0, 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(f"SELECT id, decline_reason, decline_reason_key FROM {TABLE} "  # noqa: S608
                           "WHERE id > %s AND decline_reason <> '' ORDER BY id LIMIT %s", [last, batch_size])
            rows = cursor.fetchall()
            if not rows:
                return written
            last = rows[-1][0]
            kids = {crypto.sealed_kid(value) for _pk, value, _key in rows if crypto.is_sealed(value)}
            # The field unwraps each key; "" for a destroyed one.
            keys = {kid: Fernet(raw.encode()) if raw else None
                    for kid, raw in case_keys.objects.filter(kid__in=kids).values_list("kid", "wrapped_key")}
            changed = []
            for pk, value, stored in rows:
                digest = crypto.reason_key(_opened(value, keys))
                if _hex(digest) != _hex(stored):
                    changed.append((pk, digest))
            if not changed:
                continue
            if connection.vendor == "postgresql":
                values = ", ".join(["(%s, %s::uuid)"] * len(changed))
                cursor.execute(f"UPDATE {TABLE} h SET decline_reason_key = v.k FROM (VALUES {values}) v(id, k) "  # noqa: S608
                               "WHERE h.id = v.id", [x for pk, digest in changed for x in (pk, digest and str(digest))])
            else:
                cursor.executemany(f"UPDATE {TABLE} SET decline_reason_key = %s WHERE id = %s",  # noqa: S608
                                   [(digest and digest.hex, pk) for pk, digest in changed])
            written += len(changed)
