"""Moving existing case data to per-case data keys (envelope encryption).

Before issue 12 the identity fields were Fernet tokens under the key ring and the free text of a
case (reasons, purposes, outcomes, review comments) was stored in plaintext. `seal_case_data` gives
every case a data key (cases.CaseKey) and re-writes each such value sealed with it. Values already
sealed, and values changed since they were read, are left alone, so it runs again safely (and beside
the running application); migrations call it with the models of their time
(cases 0008, supervision 0002), and `manage.py seal_case_data` with the current ones.

Values are read and written with plain SQL: through the ORM the field would open and seal them.
"""

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.db import connection, transaction

from encryption import crypto


@dataclass(frozen=True)
class SealSpec:
    model: str  # "app_label.Model"
    via: str  # dotted relations to the Case or Survivor holding data_key ("" = the model itself)
    columns: tuple[str, ...]


# The models whose data key is a case's: the case's own, shared by its survivor.
CASE_KEY_HOLDERS = ("cases.Case", "cases.Survivor")


def _key_holder_label(model, via: str) -> str:
    """The label of the model at the end of `via` from `model` (the model holding the data key)."""
    for name in filter(None, via.split(".")):
        model = model._meta.get_field(name).related_model
    return model._meta.label


def current_specs() -> list[SealSpec]:
    """Every model of the running code whose encrypted fields are sealed with a case key. A model sealed
    with another holder's key (a case meeting's reasons, under the meeting's key: conferences.keys) is
    not: its rows are not one case's, and erasing a case must not blank them by the case's id."""
    from django.apps import apps

    from encryption.fields import EncryptedTextField

    specs = []
    for model in apps.get_models():
        via = getattr(model, "data_key_via", None)
        fields = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if via is not None and fields and model._meta.managed and not model._meta.proxy \
                and _key_holder_label(model, via) in CASE_KEY_HOLDERS:
            specs.append(SealSpec(model._meta.label, via, tuple(fields)))
    return specs


def keys_ensure(apps) -> int:
    """A data key for every survivor without one, shared by her case. Returns how many were made."""
    Survivor = apps.get_model("cases", "Survivor")
    Case = apps.get_model("cases", "Case")
    CaseKey = apps.get_model("cases", "CaseKey")
    made = 0
    for survivor_id in Survivor.objects.filter(data_key__isnull=True).values_list("pk", flat=True).iterator():
        kid, raw = crypto.data_key_new()
        key = CaseKey.objects.create(kid=kid, wrapped_key=raw)
        Survivor.objects.filter(pk=survivor_id).update(data_key=key)
        made += 1
    for case_id, key_id in Case.objects.filter(data_key__isnull=True).values_list("pk", "survivor__data_key_id"):
        Case.objects.filter(pk=case_id).update(data_key_id=key_id)
    return made


def _open_legacy(value: str) -> str:
    """A value written before per-case keys: a token under the key ring, or plaintext."""
    try:
        return crypto.fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        return value


def seal_case_data(apps, specs: list[SealSpec], *, batch_size: int = 500) -> dict[str, int]:
    """Seal every value of `specs` not yet sealed with its case's key; counts per model.field."""
    CaseKey = apps.get_model("cases", "CaseKey")
    keys_ensure(apps)
    quote = connection.ops.quote_name
    keys: dict[int, tuple[str, Fernet | None]] = {}

    def key_for(pk: int) -> tuple[str, Fernet | None]:
        if pk not in keys:
            row = CaseKey.objects.get(pk=pk)  # the field unwraps it
            keys[pk] = (row.kid, Fernet(row.wrapped_key.encode()) if row.wrapped_key else None)
        return keys[pk]

    counts: dict[str, int] = {}
    for spec in specs:
        model = apps.get_model(spec.model)
        alias, current, joins = "t", model, []
        for i, name in enumerate(filter(None, spec.via.split("."))):
            field = current._meta.get_field(name)
            nxt = f"j{i}"
            target = field.related_model
            joins.append(f"JOIN {quote(target._meta.db_table)} {nxt} "
                         f"ON {nxt}.{quote(target._meta.pk.column)} = {alias}.{quote(field.column)}")
            alias, current = nxt, target
        key_column = f"{alias}.{quote(current._meta.get_field('data_key').column)}"
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        columns = [quote(c) for c in spec.columns]
        for column in spec.columns:
            counts[f"{spec.model}.{column}"] = 0
        last = None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = f"WHERE t.{pk} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT t.{pk}, {key_column}, {', '.join('t.' + c for c in columns)} "  # noqa: S608
                    f"FROM {table} t {' '.join(joins)} {where}ORDER BY t.{pk} LIMIT %s",
                    [last, batch_size] if last is not None else [batch_size],
                )
                rows = cursor.fetchall()
                for row in rows:
                    if row[1] is None:
                        continue
                    kid, key = key_for(row[1])
                    for name, column, value in zip(spec.columns, columns, row[2:], strict=True):
                        if not value or crypto.is_sealed(value):
                            continue
                        sealed = crypto.seal(_open_legacy(value), kid=kid, key=key) if key else ""
                        # Only if the value is still the one read: one the application wrote meanwhile
                        # is newer, and sealed already.
                        cursor.execute(
                            f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",  # noqa: S608
                            [sealed, row[0], value],
                        )
                        counts[f"{spec.model}.{name}"] += cursor.rowcount
            if len(rows) < batch_size:
                break
            last = rows[-1][0]
    return counts


# What the migrations seal: the models as they were when each migration was written.
CASES_0008_SPECS = [
    SealSpec("cases.Survivor", "", ("full_name", "phone", "address", "guardian_name", "guardian_phone", "ethnicity")),
    SealSpec("cases.Action", "case", ("text",)),
    SealSpec("cases.Consent", "case", ("purpose", "guardian_relationship", "override_reason", "withdrawal_reason")),
    SealSpec("cases.Handoff", "case", ("message", "override_reason", "decline_reason", "outcome", "withdraw_reason")),
    SealSpec("cases.BreakGlassUse", "case", ("reason",)),
]
SUPERVISION_0002_SPECS = [
    SealSpec("supervision.HandoffReview", "handoff.case", ("comment",)),
    SealSpec("supervision.ConsentOverrideReview", "consent.case", ("comment",)),
    SealSpec("supervision.BreakGlassReview", "use.case", ("comment",)),
]
