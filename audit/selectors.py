"""Reads of the audit trail, for access reviews. Whether the reader may see the events of a case
or an agency is decided by the caller (the permissions app): this app knows no cases."""

from datetime import datetime

from django.contrib.auth.models import User
from django.db import connections, router
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from .chain import ChainReport, Checkpoint, chain_walk, events_in_order
from .models import AUDIT_EVENT_TABLE, AuditEvent


def audit_events_for_case(*, case_id: int) -> QuerySet[AuditEvent]:
    """Every event of the case, oldest first."""
    return AuditEvent.objects.filter(case_id=case_id).order_by("seq")


def audit_event_list(
    *,
    case_id: int | None = None,
    agency_id: int | None = None,
    actor: User | None=None,
    actions: list[str] | None = None,
    categories: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Events matching every given filter, newest first. `categories` matches events touching any of
    them; the period is [since, until)."""
    qs = AuditEvent.objects.all()
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    if actor is not None:
        qs = qs.filter(actor=actor)
    if actions:
        qs = qs.filter(action__in=actions)
    if categories:
        qs = qs.filter(_touches_any_category(list(categories)))
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-seq")


def _touches_any_category(categories: list[str]):
    if connections[router.db_for_read(AuditEvent)].vendor == "postgresql":
        condition = Q()
        for category in categories:
            condition |= Q(categories__contains=[category])
        return condition
    # SQLite has no JSON containment lookup; json_each unnests the stored list. Only the table name
    # and placeholders are interpolated; the categories travel as parameters.
    placeholders = ", ".join(["%s"] * len(categories))
    return RawSQL(  # noqa: S611
        f"EXISTS (SELECT 1 FROM json_each({AUDIT_EVENT_TABLE}.categories) WHERE json_each.value IN ({placeholders}))",  # noqa: S608
        categories,
        output_field=BooleanField(),
    )


def audit_chain_head() -> tuple[int, str] | None:
    """(position, hash) of the newest chained event."""
    chained = AuditEvent.objects.filter(position__isnull=False)
    return chained.order_by("-position").values_list("position", "hash").first()


def audit_chain_verify(*, checkpoints: list[Checkpoint] = (), chunk_size: int = 2000) -> ChainReport:
    return chain_walk(events_in_order(chunk_size=chunk_size), checkpoints=checkpoints)
