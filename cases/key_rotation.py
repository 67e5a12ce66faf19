"""Re-encrypting every encrypted column under the newest key of FIELD_ENCRYPTION_KEYS.

The procedure: put the new key first in FIELD_ENCRYPTION_KEYS on every web and worker process (they
then write under it and still read the old one), run `manage.py rotate_encryption_keys`, check
with `--check`, then drop the old key.

Case data is sealed with per-case data keys (encryption.crypto); those keys are stored wrapped by the key
ring in cases.CaseKey.wrapped_key, an encrypted column like the others: rotating re-wraps every case
key, and the case values themselves need no re-encryption.

Tokens are read and written with plain SQL: through the ORM the field would decrypt on read and
encrypt again on write. Each batch is its own transaction and values already under the newest
key are left alone, so an interrupted run is simply run again.
"""

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from encryption import crypto
from encryption.fields import EncryptedTextField


class KeyRotationError(Exception):
    pass


@dataclass
class ColumnCount:
    label: str  # app_label.Model.field
    rotated: int = 0
    current: int = 0
    empty: int = 0


def encrypted_columns() -> list[tuple[type, list]]:
    """Every model with encrypted fields, and those fields."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields and not model._meta.proxy and model._meta.managed:
            found.append((model, fields))
    return found


def _newest_key() -> Fernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise KeyRotationError("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return Fernet(keys[0].encode())
    except ValueError as exc:
        raise KeyRotationError(f"The first key of FIELD_ENCRYPTION_KEYS is not a Fernet key: {exc}") from exc


def _is_current(newest: Fernet, token: str) -> bool:
    try:
        newest.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def encrypted_values_rotate(*, batch_size: int = 500, check_only: bool = False) -> list[ColumnCount]:
    """Re-encrypt every value not yet under the newest key (or with `check_only`, count them).

    An UPDATE only lands if the stored token is still the one read: a value the application
    changed meanwhile was written under the newest key already and needs nothing."""
    if batch_size < 1:
        raise KeyRotationError("The batch size must be at least 1.")
    newest = _newest_key()
    quote = connection.ops.quote_name
    counts: list[ColumnCount] = []
    for model, fields in encrypted_columns():
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        columns = [quote(f.column) for f in fields]
        column_counts = [ColumnCount(f"{model._meta.label}.{f.name}") for f in fields]
        counts.extend(column_counts)
        last = None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = f"WHERE {pk} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT {pk}, {', '.join(columns)} FROM {table} {where}ORDER BY {pk} LIMIT %s",  # noqa: S608
                    [last, batch_size] if last is not None else [batch_size],
                )
                rows = cursor.fetchall()
                for row in rows:
                    for column, count, token in zip(columns, column_counts, row[1:], strict=True):
                        if not token:
                            count.empty += 1
                            continue
                        # Sealed with a case's data key: nothing to do here, that key's wrapping
                        # (cases.CaseKey.wrapped_key, a column of this loop) is what rotates.
                        if crypto.is_sealed(token) or _is_current(newest, token):
                            count.current += 1
                            continue
                        try:
                            rotated = crypto.rotate(token)
                        except InvalidToken as exc:
                            raise KeyRotationError(
                                f"{count.label} of row {row[0]} cannot be decrypted with any key of "
                                "FIELD_ENCRYPTION_KEYS."
                            ) from exc
                        count.rotated += 1
                        if not check_only:
                            cursor.execute(
                                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",  # noqa: S608
                                [rotated, row[0], token],
                            )
            if len(rows) < batch_size:
                break
            last = rows[-1][0]
    return counts
