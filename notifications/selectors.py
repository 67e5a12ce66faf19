"""Reads: a user's notifications and preferences, the deadlines they answer for."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections, router
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from agencies.models import Membership, Role
from agencies.selectors import active_non_analyst
from config.compiled import CompiledQuery

from .models import (
    MANDATORY_KINDS,
    SMS_DEFAULT_KINDS,
    Channel,
    Deadline,
    Heartbeat,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
)
from .sight import deadline_seen

# --- Notifications -------------------------------------------------------------------------------


def notification_list_for_user(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, in_app=True)


# The header's count on every page (notifications.context_processors): compiled once per process
# (config.compiled), the ORM's COUNT of the same rows (unordered: the model's ordering would sort them
# for nothing).
_UNREAD = CompiledQuery(
    lambda user_id: Notification.objects.filter(recipient_id=user_id, in_app=True, read_at__isnull=True)
    .order_by().values_list("pk"),
    user_id="int",
)


def notification_unread_count(*, user: User, prefetched: tuple | None = None) -> int:
    """The user's unread in-app notifications. `prefetched`: what `notification_unread_prefetched` made of a
    count read earlier in this request with another statement (the session's: accounts.session_store); it
    is the answer when it is this user's and no statement on the connection has named the notification table
    since (nothing this request did since can have changed it); else the count is read now."""
    if prefetched is not None:
        user_id, count, alias, mark = prefetched
        if user_id == user.pk and _table_mentions(connections[alias]) == mark:
            return count
    return _UNREAD.rows(wrap="SELECT COUNT(*) FROM (%s) unread", user_id=user.pk)[0][0]


# Reading the header's count with a statement a request sends anyway (issue 15: one statement less on
# every page). The count is read at the start of the request instead of when the page is drawn: what
# other requests write meanwhile may be missed, as it could be a moment later; what this request writes
# may not, so any statement on the connection that names the notification table (a write, a read, a
# trigger's DDL: anything) since the count was read makes the count be read again (`_table_mentions`).
_NOTIFICATION_TABLE = Notification._meta.db_table
_MENTIONS_ATTRIBUTE = "_hopluc_notification_mentions"


def _table_mentions(connection) -> int:
    """How many statements on this connection have named the notification table (or were not plain text,
    so could have), since this process opened it, as `notification_table_watch` counts them."""
    return getattr(connection, _MENTIONS_ATTRIBUTE, 0)


def _watch(execute, sql, params, many, context):
    connection = context["connection"]
    if not isinstance(sql, str) or _NOTIFICATION_TABLE in sql:
        setattr(connection, _MENTIONS_ATTRIBUTE, _table_mentions(connection) + 1)
    return execute(sql, params, many, context)


def notification_table_watch(sender, connection, **kwargs) -> None:
    """connection_created: count the statements that name the notification table on this connection
    (notifications.apps). Counted before each is sent, so a statement that fails counts too."""
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch)


def notification_unread_extra(*, using: str, user_alias: str) -> tuple[str, list] | None:
    """The user's unread count (as notification_unread_count reads it) as an extra column over a user row
    aliased `user_alias` (config.rows), with its parameters; None but on PostgreSQL, and None on a
    connection whose statements are not watched (the count is then read on its own)."""
    connection = connections[using]
    if (connection.vendor != "postgresql" or _watch not in connection.execute_wrappers
            or router.db_for_read(Notification) != using):
        return None
    sql, slots = _UNREAD.sql_with(using, user_id=f"{user_alias}.id")
    # The ORM's compiled SQL and a column name the caller wrote; every value is a parameter.
    return f"(SELECT COUNT(*) FROM ({sql}) unread)", CompiledQuery.params_of(slots)  # noqa: S608


def notification_unread_prefetched(*, using: str, user_id, count) -> tuple:
    """The `prefetched` argument of notification_unread_count for the count of user `user_id` just read on
    `using` (by notification_unread_extra's column)."""
    return (user_id, count, using, _table_mentions(connections[using]))


def notification_get_for_user(*, user: User, notification_id: int) -> Notification | None:
    """The user's own in-app notification, or None: another user's is indistinguishable from none."""
    return notification_list_for_user(user=user).filter(pk=notification_id).first()


# --- Preferences ---------------------------------------------------------------------------------


def preference_default(*, kind: str, channel: str) -> bool:
    if channel == Channel.SMS:
        return kind in SMS_DEFAULT_KINDS
    return True


def preference_locked(*, kind: str, channel: str) -> bool:
    """In-app delivery of an escalation or emergency cannot be switched off."""
    return channel == Channel.IN_APP and kind in MANDATORY_KINDS


@dataclass(frozen=True)
class PreferenceRow:
    kind: str
    label: str
    channels: dict[str, bool]
    locked: frozenset[str]


def preference_matrix_for_user(*, user: User) -> list[PreferenceRow]:
    """Every event × channel with the user's choice or the default, in one query."""
    stored = {
        (kind, channel): enabled
        for kind, channel, enabled in NotificationPreference.objects.filter(user=user).values_list(
            "kind", "channel", "enabled"
        )
    }
    rows = []
    for kind in NotificationKind:
        channels = {}
        for channel in Channel.values:
            enabled = stored.get((kind.value, channel), preference_default(kind=kind.value, channel=channel))
            channels[channel] = enabled or preference_locked(kind=kind.value, channel=channel)
        locked = frozenset(c for c in Channel.values if preference_locked(kind=kind.value, channel=c))
        rows.append(PreferenceRow(kind=kind.value, label=str(kind.label), channels=channels, locked=locked))
    return rows


def preferences_for_event(*, user_ids: list[int], kind: str) -> dict[int, dict[str, bool]]:
    """Channel choices of several users for one event, in one query."""
    stored = {
        (user_id, channel): enabled
        for user_id, channel, enabled in NotificationPreference.objects.filter(
            user_id__in=user_ids, kind=kind
        ).values_list("user_id", "channel", "enabled")
    }
    return {
        user_id: {
            channel: stored.get((user_id, channel), preference_default(kind=kind, channel=channel))
            or preference_locked(kind=kind, channel=channel)
            for channel in Channel.values
        }
        for user_id in user_ids
    }


# --- Deadlines -----------------------------------------------------------------------------------

DUE_SOON = "due_soon"
OVERDUE = "overdue"
DEADLINE_STATES = (DUE_SOON, OVERDUE)


def user_has_deadline_role(*, user: User) -> bool:
    return Membership.objects.filter(
        user=user, agency__active=True, role__in=(Role.RESPONDER, Role.SUPERVISOR)
    ).exists()


def deadline_list_for_user(
    *, user: User, state: str | None = None, now: datetime.datetime | None = None
) -> QuerySet[Deadline]:
    """Open deadlines the user answers for: their own; their agency's unassigned ones (responders);
    all of their agency's (supervisors); and those escalated to their agency (supervisors). A deadline
    about a case only through an agency that sees the case now (notifications.sight): one whose owner
    agency lost the case is listed for the supervisors of the agency it escalates to instead, before it
    escalates."""
    now = now or timezone.now()
    memberships = Membership.objects.filter(user=user, agency__active=True)
    responder_agencies = memberships.filter(role=Role.RESPONDER).values("agency_id")
    supervisor_agencies = memberships.filter(role=Role.SUPERVISOR).values("agency_id")
    owner_sees = deadline_seen(agency=OuterRef("owner_agency_id"), now=now)
    escalation_sees = deadline_seen(agency=OuterRef("escalate_agency_id"), now=now)
    answered_by_owner = (Q(owner_user=user)
                         | Q(owner_user__isnull=True, owner_agency__in=responder_agencies)
                         | Q(owner_agency__in=supervisor_agencies)) & owner_sees
    # Escalated; or, while its owner agency cannot see the case, answered by the agency it escalates to.
    answered_by_escalation = (Q(escalate_agency__in=supervisor_agencies) & escalation_sees
                              & (Q(stage=Deadline.Stage.ESCALATED) | ~owner_sees))
    qs = Deadline.objects.filter(closed_at__isnull=True).filter(answered_by_owner | answered_by_escalation)
    if state == OVERDUE:
        qs = qs.filter(due_at__lte=now)
    elif state == DUE_SOON:
        qs = qs.filter(due_at__gt=now, due_at__lte=now + datetime.timedelta(hours=settings.DEADLINE_DUE_SOON_HOURS))
    elif state is not None:
        raise ValueError(f"unknown state {state!r}")
    return qs.select_related("owner_agency", "owner_user").order_by("due_at", "pk")


# --- Delivery health and failures -----------------------------------------------------------------


@dataclass(frozen=True)
class OutboxHealth:
    backlog: int
    oldest_undelivered_age_seconds: float | None
    stuck_sending: int
    failed_last_day: int
    beat_heartbeat_age_seconds: float | None


def outbox_health(*, now: datetime.datetime | None = None) -> OutboxHealth:
    """What an operator needs to see that notices go out: how many wait and for how long, how many a
    dead worker holds past their lease, how many failed, and whether beat still runs the sweeps."""
    now = now or timezone.now()
    undelivered = OutboxMessage.objects.filter(status__in=["queued", "sending", "retrying"])
    totals = undelivered.aggregate(
        backlog=Count("pk"), oldest=Min("created_at"),
        stuck=Count("pk", filter=Q(status="sending", lease_until__lt=now)),
    )
    failed = OutboxMessage.objects.filter(
        status="failed", created_at__gte=now - datetime.timedelta(days=1)
    ).count()
    beat = Heartbeat.objects.filter(name="beat").values_list("at", flat=True).first()
    return OutboxHealth(
        backlog=totals["backlog"],
        oldest_undelivered_age_seconds=round((now - totals["oldest"]).total_seconds(), 1) if totals["oldest"] else None,
        stuck_sending=totals["stuck"],
        failed_last_day=failed,
        beat_heartbeat_age_seconds=round((now - beat).total_seconds(), 1) if beat else None,
    )


def supervised_agency_ids(*, user: User) -> list[int]:
    """Active agencies the user supervises; none for analysts, who never see anything about cases."""
    if not active_non_analyst(user=user):
        return []
    return list(
        Membership.objects.filter(user=user, role=Role.SUPERVISOR, agency__active=True)
        .order_by("agency_id").values_list("agency_id", flat=True)
    )


def failed_outbox_for_supervisor(*, agency_ids: list[int]) -> QuerySet[OutboxMessage]:
    """Messages marked failed whose recipient works for one of the agencies: the supervisor's staff
    who never got an email or SMS (they still have the notice in the app). `works_elsewhere`: the
    recipient also works for an agency the supervisor does not supervise. A notification names no
    agency, so one of theirs may be about that agency's case: the page then shows neither its event nor
    its case number (someone seconded to the school is not the hospital's supervisor's business there)."""
    staff = Membership.objects.filter(agency_id__in=agency_ids).order_by().values("user_id")
    elsewhere = Membership.objects.filter(user_id=OuterRef("recipient_id")).exclude(agency_id__in=agency_ids)
    return (
        OutboxMessage.objects.filter(status="failed", recipient_id__in=staff)
        .annotate(works_elsewhere=Exists(elsewhere))
        .select_related("notification", "recipient")
        .order_by("-created_at", "-id")
    )
