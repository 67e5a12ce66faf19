"""A new row's INSERT as Django's ORM writes it, for the hot paths that send it in SQL of their own
(audit.services._event_insert, cases.combined_writes): the same columns, each value prepared the same way."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Field, Model


def inserted_fields(model: type[Model]) -> tuple[Field, ...]:
    """The fields the ORM's INSERT of a new `model` row names: its concrete fields but the automatic key
    and generated columns."""
    meta = model._meta
    return tuple(field for field in meta.local_concrete_fields
                 if field is not meta.auto_field and not getattr(field, "generated", False))


def insert_params(instance: Model, fields: Iterable[Field], connection: Any) -> list[Any]:
    """`instance`'s values of `fields` as the ORM's INSERT sends them: each field's pre_save (a sealed
    text sealed, an automatic date set), then its get_db_prep_save."""
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
