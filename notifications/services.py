"""Writes: deadlines and their sweep, notifications and preferences (reference data: loaders.py).

Callers outside this app (cases: handoffs, follow-ups) use deadline_create, deadline_close and
notify inside their own transaction, so a deadline or an outbox row exists exactly when its cause
was committed.
"""

import datetime
import functools
import json
import logging
import re
from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.db.models import F
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Membership, Role

from .calendar import time_limit_effective, working_time_add_checked
from .content import URGENCIES, notification_content_check
from .delivery import outbox_relay_later, outbox_relay_many
from .models import (
    Channel,
    Deadline,
    LegalTimeLimit,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
    ProvinceCoordinator,
    UserContact,
)
from .partitions import notification_recipients_claim
from .selectors import preference_default, preference_locked, preferences_for_event
from .sight import deadline_answering_agency_id, deadline_escalation_sees, deadline_sight_annotations
from .signals import deadline_stage_reached

logger = logging.getLogger(__name__)

# --- Deadlines -----------------------------------------------------------------------------------


def handoff_response_rule_code(*, urgency: str) -> str:
    """The LegalTimeLimit code of a handoff's response time (emergency, urgent, standard)."""
    if urgency not in URGENCIES:
        raise ValueError(f"unknown urgency {urgency!r}")
    return f"handoff_response_{urgency}"


def _default_remind_at(*, start: datetime.datetime, due_at: datetime.datetime) -> datetime.datetime:
    span = max(due_at - start, datetime.timedelta(0))
    lead = min(
        span * settings.DEADLINE_REMINDER_SHARE, datetime.timedelta(minutes=settings.DEADLINE_REMINDER_MAX_MINUTES)
    )
    return due_at - lead


def _default_escalate_at(*, start: datetime.datetime, due_at: datetime.datetime) -> datetime.datetime:
    # The further window grows with the deadline (an hour for an emergency, a day for three working
    # days) within the configured bounds.
    span = max(due_at - start, datetime.timedelta(0))
    window = min(
        max(span, datetime.timedelta(minutes=settings.DEADLINE_ESCALATION_MIN_MINUTES)),
        datetime.timedelta(minutes=settings.DEADLINE_ESCALATION_MAX_MINUTES),
    )
    return due_at + window


def deadline_rule_due(
    *, rule: LegalTimeLimit | str, start: datetime.datetime
) -> tuple[LegalTimeLimit, datetime.datetime]:
    """The time-limit rule (an instance or its code) and the moment it makes due counted from `start`:
    what deadline_create counts, for a caller that stores the due time before the deadline (a handoff's
    due_at, written with the handoff: issue 15). Give the pair to deadline_create as `rule_due`."""
    if isinstance(rule, str):
        try:
            rule = LegalTimeLimit.objects.get(code=rule)
        except LegalTimeLimit.DoesNotExist as exc:
            raise ValueError(f"no time limit with code {rule!r}; run `manage.py load_time_limits`") from exc
    limit = time_limit_effective(rule=rule)
    due_at, missing = working_time_add_checked(start, amount=limit.amount, unit=limit.unit)
    if missing:
        logger.warning("No public holidays loaded for %s: working days skip weekends only", missing)
    return rule, due_at


def deadline_create(
    *,
    kind: str,
    subject: str,
    owner_agency: Agency,
    rule: LegalTimeLimit | str | None = None,
    due_at: datetime.datetime | None = None,
    rule_due: tuple[LegalTimeLimit, datetime.datetime] | None = None,
    start: datetime.datetime | None = None,
    case_id: int | None = None,
    case_number: str = "",
    link: str = "",
    owner_user=None,
    escalate_agency: Agency | None = None,
    remind_at: datetime.datetime | None = None,
    escalate_at: datetime.datetime | None = None,
) -> Deadline:
    """A deadline counted from `start` (now by default) by a time-limit rule (an instance or its
    code; or `rule_due`, the rule and the due time deadline_rule_due counted from the same start), or
    set explicitly with `due_at` (a follow-up a responder chose). Reminder and escalation times
    default to DEADLINE_* settings."""
    if kind not in Deadline.Kind.values:
        raise ValueError(f"unknown deadline kind {kind!r}")
    if [rule, due_at, rule_due].count(None) != 2:
        raise ValueError("give either a rule or a due_at")
    notification_content_check(case_number=case_number, link=link or "/", params={})
    start = start or timezone.now()
    if rule is not None:
        rule_due = deadline_rule_due(rule=rule, start=start)
    if rule_due is not None:
        rule, due_at = rule_due
    assert due_at is not None
    remind_at = remind_at or _default_remind_at(start=start, due_at=due_at)
    escalate_at = escalate_at or _default_escalate_at(start=start, due_at=due_at)
    if not remind_at <= due_at <= escalate_at:
        raise ValueError("the reminder must come before the due time, and the escalation after it")
    return Deadline.objects.create(
        kind=kind, subject=subject, case_id=case_id, case_number=case_number, link=link,
        owner_agency=owner_agency, owner_user=owner_user, escalate_agency=escalate_agency, rule=rule,
        due_at=due_at, remind_at=remind_at, escalate_at=escalate_at,
        stage=Deadline.Stage.PENDING, next_fire_at=remind_at,
    )


def deadline_close(*, subject: str, reason: str, kind: str | None = None) -> int:
    """Close every open deadline of the subject (of one kind when given): its thing is done."""
    qs = Deadline.objects.filter(subject=subject, closed_at__isnull=True)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs.update(
        stage=Deadline.Stage.CLOSED, closed_at=timezone.now(), closed_reason=reason[:100], next_fire_at=None
    )


# The notifications that ask for an answer: once the thing they point to is answered they are done.
WAITING_KINDS = (
    NotificationKind.HANDOFF_RECEIVED, NotificationKind.HANDOFF_EMERGENCY, NotificationKind.DEADLINE_REMINDER,
    NotificationKind.DEADLINE_OVERDUE,
)


def notifications_answered(*, link: str) -> int:
    """Mark as read every unread notification that asked for an answer about `link` (a handoff that
    has just been accepted, declined or withdrawn), for every recipient: nobody is left with a "new"
    request that is already answered. Escalations stay: they tell supervisors a deadline was missed.
    One UPDATE; returns how many were cleared."""
    return Notification.objects.filter(link=link, kind__in=WAITING_KINDS, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# Each stage, the one it leads to, the time that leads there, and the event it sends.
_NEXT_STAGE: dict[str, tuple[str, str, str]] = {
    Deadline.Stage.PENDING: (Deadline.Stage.REMINDED, "remind_at", NotificationKind.DEADLINE_REMINDER),
    Deadline.Stage.REMINDED: (Deadline.Stage.OVERDUE, "due_at", NotificationKind.DEADLINE_OVERDUE),
    Deadline.Stage.OVERDUE: (Deadline.Stage.ESCALATED, "escalate_at", NotificationKind.DEADLINE_ESCALATED),
}


def _agency_members(*, agency_id: int, role: str):
    return get_user_model().objects.filter(
        memberships__agency_id=agency_id, memberships__role=role, memberships__agency__active=True, is_active=True
    )


def _stage_audience(deadline: Deadline, stage: str) -> tuple[int | None, str | None]:
    """Whom a stage of the deadline tells, as (agency id, role), from its sight annotations
    (notifications.sight): the role None with the owner agency's id means the owner person, or the owner
    agency's responders when it has none. Reminder: the owner, or the owner agency's responders; overdue:
    the owner agency's supervisors; while the owner agency cannot see the case, both go to the supervisors
    of the agency it escalates to, when that one sees it (no agency otherwise). Escalated: the escalation
    agency's supervisors while it sees the case (the province coordinators besides, always)."""
    if stage == Deadline.Stage.ESCALATED:
        if deadline_escalation_sees(deadline):
            return deadline.escalate_agency_id, Role.SUPERVISOR
        return None, None
    answering = deadline_answering_agency_id(deadline)
    if answering is None:
        return None, None
    if answering == deadline.owner_agency_id and stage == Deadline.Stage.REMINDED:
        return answering, None
    return answering, Role.SUPERVISOR


def deadline_stage_recipients(*, deadline: Deadline, stage: str) -> list:
    """The people a stage of the deadline tells (_stage_audience), for one deadline of a sweep's batch."""
    agency_id, role = _stage_audience(deadline, stage)
    if stage == Deadline.Stage.ESCALATED:
        coordinators = get_user_model().objects.filter(
            coordinated_provinces__province_id=deadline.owner_agency.province_id, is_active=True
        )
        if agency_id is None:
            return list(coordinators)
        supervisors = _agency_members(agency_id=agency_id, role=Role.SUPERVISOR)
        return list((supervisors | coordinators).distinct())
    if agency_id is None:
        return []
    if role is None:
        if deadline.owner_user_id is not None and deadline.owner_user.is_active:
            return [deadline.owner_user]
        role = Role.RESPONDER
    return list(_agency_members(agency_id=agency_id, role=role))


def _deadline_fire_stage(*, deadline: Deadline, stage: str) -> bool:
    """Claim the step from `stage` to the next one and send its notifications, in one transaction.
    Returns False when another sweeper has claimed it (or the deadline was closed) meanwhile.

    The sweep's way for one deadline at a time: used when a batch fails (deadline_sweep), so that one
    broken row does not hold up the others."""
    next_stage, time_field, kind = _NEXT_STAGE[stage]
    following = _NEXT_STAGE.get(next_stage)
    next_fire_at = getattr(deadline, following[1]) if following else None
    with transaction.atomic():
        claimed = Deadline.objects.filter(pk=deadline.pk, stage=stage, closed_at__isnull=True).update(
            stage=next_stage, next_fire_at=next_fire_at
        )
        if claimed != 1:
            return False
        recipients = deadline_stage_recipients(deadline=deadline, stage=next_stage)
        if not recipients:
            logger.warning("Deadline %s reached %s with nobody to tell", deadline.pk, next_stage)
        notify(
            recipients=recipients, kind=kind, case_number=deadline.case_number, link=deadline.link or "/",
            params=_deadline_params(deadline), event_key=f"deadline:{deadline.pk}:{next_stage}",
        )
        deadline_stage_reached.send(sender=Deadline, reached=[(deadline, next_stage, getattr(deadline, time_field))])
    deadline.stage, deadline.next_fire_at = next_stage, next_fire_at
    return True


def _deadline_params(deadline: Deadline) -> dict:
    return {"due_at": deadline.due_at.isoformat(), "deadline_kind": deadline.kind}


def _deadline_stages_due(deadline: Deadline, *, now: datetime.datetime) -> list[str]:
    """The stages the deadline reaches by `now`, in order (several after downtime)."""
    stages, stage = [], deadline.stage
    while stage in _NEXT_STAGE and getattr(deadline, _NEXT_STAGE[stage][1]) <= now:
        stage = _NEXT_STAGE[stage][0]
        stages.append(stage)
    return stages


def _stage_recipients_many(fired: list[tuple[Deadline, str]]) -> dict[tuple[int, str], list[int]]:
    """deadline_stage_recipients for a whole batch, in two queries: (deadline id, stage) -> user ids."""
    audiences = {(deadline.pk, stage): _stage_audience(deadline, stage) for deadline, stage in fired}
    agency_ids = {agency_id for agency_id, _role in audiences.values() if agency_id is not None}
    province_ids = {deadline.owner_agency.province_id for deadline, stage in fired if stage == Deadline.Stage.ESCALATED}
    members: dict[tuple[int, str], list[int]] = {}
    if agency_ids:
        for agency_id, role, user_id in Membership.objects.filter(
            agency_id__in=agency_ids, role__in=(Role.RESPONDER, Role.SUPERVISOR), agency__active=True,
            user__is_active=True,
        ).values_list("agency_id", "role", "user_id"):
            members.setdefault((agency_id, role), []).append(user_id)
    coordinators: dict[int, list[int]] = {}
    if province_ids:
        for province_id, user_id in ProvinceCoordinator.objects.filter(
            province_id__in=province_ids, user__is_active=True
        ).values_list("province_id", "user_id"):
            coordinators.setdefault(province_id, []).append(user_id)
    found = {}
    for deadline, stage in fired:
        audience, audience_role = audiences[(deadline.pk, stage)]
        users = coordinators.get(deadline.owner_agency.province_id, []) if stage == Deadline.Stage.ESCALATED else []
        if audience is not None and audience_role is None:
            if deadline.owner_user_id is not None and deadline.owner_user.is_active:
                users = [deadline.owner_user_id]
            else:
                users = members.get((audience, Role.RESPONDER), [])
        elif audience is not None and audience_role is not None:
            users = users + members.get((audience, audience_role), [])
        found[(deadline.pk, stage)] = sorted(set(users))
    return found


def _notify_many(events: list[tuple[Deadline, str, list[int]]]) -> int:
    """notify() for a batch of deadline stages, each (deadline, stage, user ids): the notifications in
    one INSERT, the preferences and addresses in one query each, the outbox rows in one INSERT. No
    broker publish per row here: once the batch commits, one message hands all its outbox rows to a
    worker that enqueues their deliveries (outbox_relay_later); the relay sweep is the fallback, as for
    notify(). Returns how many outbox rows were written."""
    user_ids = sorted({user_id for _deadline, _stage, users in events for user_id in users})
    if not user_ids:
        return 0
    kinds = {stage: _NEXT_STAGE_KIND[stage] for stage in {stage for _deadline, stage, _users in events}}
    stored = {
        (user_id, kind, channel): enabled
        for user_id, kind, channel, enabled in NotificationPreference.objects.filter(
            user_id__in=user_ids, kind__in=list(kinds.values())
        ).values_list("user_id", "kind", "channel", "enabled")
    }

    def wants(user_id: int, kind: str, channel: str) -> bool:
        return stored.get((user_id, kind, channel), preference_default(kind=kind, channel=channel)) or (
            preference_locked(kind=kind, channel=channel)
        )

    now = timezone.now()
    notifications = [
        {
            "recipient_id": user_id, "kind": kinds[stage], "event_key": f"deadline:{deadline.pk}:{stage}",
            "case_number": deadline.case_number, "link": deadline.link or "/", "params": _deadline_params(deadline),
            "in_app": wants(user_id, kinds[stage], Channel.IN_APP), "created_at": now, "read_at": None,
        }
        for deadline, stage, users in events for user_id in users
    ]
    # The claim makes each stage fire once, so a conflict means something is wrong: the batch then
    # falls back to one deadline at a time (notify, which skips recipients told already).
    notification_ids = _insert_many(Notification, notifications)
    addresses = {
        user_id: {Channel.EMAIL: email, Channel.SMS: phone}
        for user_id, email, phone in get_user_model().objects.filter(pk__in=user_ids).values_list(
            "pk", "email", "contact__phone"
        )
    }
    relay_after = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_RELAY_GRACE_SECONDS)
    messages = [
        {
            "notification_id": notification_id, "event_key": notification["event_key"],
            "recipient_id": notification["recipient_id"], "channel": channel,
            "status": OutboxMessage.Status.QUEUED.value, "attempts": 0, "last_error": "", "created_at": now,
            "next_attempt_at": now, "relay_after": relay_after, "lease_until": None, "sent_at": None,
        }
        for notification_id, notification in zip(notification_ids, notifications, strict=True)
        for channel in (Channel.EMAIL, Channel.SMS)
        if wants(notification["recipient_id"], notification["kind"], channel)
        and addresses.get(notification["recipient_id"], {}).get(channel)
    ]
    if messages:
        message_ids = _insert_many(OutboxMessage, messages)
        transaction.on_commit(functools.partial(outbox_relay_later, message_ids=message_ids))
    return len(messages)


def _insert_many(model, rows: list[dict]) -> list[int]:
    """Insert rows (every column but the id, by attribute name) and return their ids, in order.

    On PostgreSQL: the ids in one query from the table's sequence, then one COPY, several times
    faster than a multi-row INSERT of thousands of rows (no statement to build, parse and plan).
    Elsewhere: bulk_create. Values go in as given: no model defaults or field conversions apply, so
    JSON values are serialised here, as JSONField would."""
    if not rows:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return [row.pk for row in model.objects.using(alias).bulk_create([model(**row) for row in rows])]
    meta = model._meta
    json_columns = {field.attname for field in meta.concrete_fields if isinstance(field, models.JSONField)}
    columns = list(rows[0])
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        names = ", ".join(quote(name) for name in [meta.pk.column, *(meta.get_field(c).column for c in columns)])
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row([pk, *(json.dumps(row[c]) if c in json_columns else row[c] for c in columns)])
    return ids


_NEXT_STAGE_KIND = {next_stage: kind for next_stage, _time_field, kind in _NEXT_STAGE.values()}
_STAGE_TIME = {next_stage: time_field for next_stage, time_field, _kind in _NEXT_STAGE.values()}


def _deadline_sweep_batch(*, now: datetime.datetime, after_pk: int, size: int) -> tuple[int, int, int]:
    """Claim up to `size` due deadlines with pk > after_pk and fire every stage they have reached, in
    one transaction. Returns (the last pk looked at, how many rows were claimed, stages fired).

    The claim is SELECT ... FOR UPDATE SKIP LOCKED: a concurrent sweeper skips these rows while this
    transaction holds them, and once it commits they are no longer due (under READ COMMITTED a
    sweeper that waited re-checks the row's new version). So each stage fires exactly once, and any
    number of workers can sweep side by side, each taking the rows the others are not holding."""
    with transaction.atomic():
        connection = connections[router.db_for_write(Deadline)]
        if connection.vendor == "postgresql" and not connection.savepoint_ids:
            # The batch's own transaction (not a caller's) commits without waiting for the disk: a
            # crash can only lose whole batches (their deadlines stay due and are swept again), and
            # whatever acts on a batch (the delivery's claim of an outbox row) commits durably after
            # it, which flushes it too.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        rows = list(
            Deadline.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(closed_at__isnull=True, next_fire_at__lte=now, pk__gt=after_pk)
            .select_related("owner_user", "owner_agency", "rule")
            # Who may be told, as of the sweep's `now` (notifications.sight): in the claim's statement.
            .annotate(**deadline_sight_annotations(now=now))
            .order_by("pk")[:size]
        )
        if not rows:
            return after_pk, 0, 0
        due = []
        for deadline in rows:
            stages = _deadline_stages_due(deadline, now=now)
            if not stages:
                continue
            try:
                notification_content_check(case_number=deadline.case_number, link=deadline.link or "/",
                                           params=_deadline_params(deadline))
            except Exception:
                # Refused content: this deadline waits (and is tried again next minute), the batch goes on.
                logger.exception("Deadline %s: stage after %s refused", deadline.pk, deadline.stage)
                continue
            due.append((deadline, stages))
        try:
            with transaction.atomic():
                fired = _deadline_fire_many(due, now=now)
        except Exception:
            logger.exception("Deadline sweep: a batch of %s failed; firing them one at a time", len(due))
            fired = 0
            for deadline, _stages in due:
                while deadline.stage in _NEXT_STAGE and getattr(deadline, _NEXT_STAGE[deadline.stage][1]) <= now:
                    try:
                        if not _deadline_fire_stage(deadline=deadline, stage=deadline.stage):
                            break
                    except Exception:
                        logger.exception("Deadline %s: stage after %s failed", deadline.pk, deadline.stage)
                        break
                    fired += 1
    return rows[-1].pk, len(rows), fired


def _deadline_fire_many(due: list[tuple[Deadline, list[str]]], *, now: datetime.datetime) -> int:
    """Move each deadline to the last stage it reached (one UPDATE per final stage), write every
    stage's notifications and outbox rows in bulk and tell the timeline once for the batch."""
    fired = [(deadline, stage) for deadline, stages in due for stage in stages]
    if not fired:
        return 0
    by_final: dict[str, list[int]] = {}
    for deadline, stages in due:
        by_final.setdefault(stages[-1], []).append(deadline.pk)
    for final, pks in by_final.items():
        following = _NEXT_STAGE.get(final)
        Deadline.objects.filter(pk__in=pks).update(
            stage=final, next_fire_at=F(following[1]) if following else None
        )
    recipients = _stage_recipients_many(fired)
    for (deadline_id, stage), users in recipients.items():
        if not users:
            logger.warning("Deadline %s reached %s with nobody to tell", deadline_id, stage)
    _notify_many([(deadline, stage, recipients[(deadline.pk, stage)]) for deadline, stage in fired])
    deadline_stage_reached.send(
        sender=Deadline, reached=[(deadline, stage, getattr(deadline, _STAGE_TIME[stage])) for deadline, stage in fired]
    )
    for deadline, stages in due:
        following = _NEXT_STAGE.get(stages[-1])
        deadline.stage, deadline.next_fire_at = stages[-1], getattr(deadline, following[1]) if following else None
    return len(fired)


def deadline_sweep(*, now: datetime.datetime | None = None, batch_size: int | None = None,
                   limit: int | None = None) -> int:
    """Fire every stage that is due (of at most `limit` deadlines); returns how many stages it fired.

    Works in batches of `batch_size` (DEADLINE_SWEEP_BATCH) deadlines, one transaction each: one
    claim, the recipients and their preferences and addresses loaded once, notifications, outbox rows
    and timeline events inserted in bulk. Safe to run in several processes at once (see
    _deadline_sweep_batch): each takes the rows the others do not hold, so workers share a backlog
    (notifications.tasks.sweep_deadlines starts one task per chunk). A deadline that missed several
    stages (downtime) goes through each of them once, in order. A batch that fails is done again one
    deadline at a time, so that one broken row does not hold up the others; the broken row waits for
    the next sweep."""
    now = now or timezone.now()
    batch_size = batch_size or settings.DEADLINE_SWEEP_BATCH
    fired = claimed = 0
    last_pk = 0
    while limit is None or claimed < limit:
        size = batch_size if limit is None else min(batch_size, limit - claimed)
        # Keyset pagination by pk: rows another sweeper holds are skipped, never looped on.
        last_pk, count, done = _deadline_sweep_batch(now=now, after_pk=last_pk, size=size)
        claimed += count
        fired += done
        if count < size:
            break
    return fired


def deadline_sweep_backlog(*, now: datetime.datetime | None = None, cap: int | None = None) -> int:
    """How many deadlines are due (counted up to `cap`): the sweep task's measure of its backlog."""
    due = Deadline.objects.filter(closed_at__isnull=True, next_fire_at__lte=now or timezone.now()).order_by()
    return (due.values("pk")[:cap] if cap is not None else due).count()


# --- Notifications -------------------------------------------------------------------------------


def notify(
    *, recipients, kind: str, case_number: str = "", link: str, params: dict | None = None, event_key: str,
    addresses: Mapping[int, tuple[str, str | None]] | None = None,
) -> list[Notification]:
    """Tell each recipient about one event: a Notification row (shown in the app unless switched
    off) and one outbox row per other channel they keep on and have an address for, relayed to the
    delivery task once the caller's transaction commits.

    The same event_key never notifies a recipient twice. Only non-identifying values may travel:
    see notifications.content (UnsafeNotificationContent otherwise). `addresses`: every recipient's
    (email, phone) when the caller read them with the recipients, in this transaction (the user's
    email and UserContact.phone), so that they are not read again."""
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not event_key or len(event_key) > 120:
        raise ValueError("event_key must be 1 to 120 characters")
    params = dict(params or {})
    notification_content_check(case_number=case_number, link=link, params=params)
    user_ids = sorted({getattr(user, "pk", user) for user in recipients})
    if not user_ids:
        return []
    if addresses is not None and not set(user_ids) <= set(addresses):
        raise ValueError("addresses must cover every recipient")
    return _notify_write(user_ids=user_ids, kind=kind, case_number=case_number, link=link, params=params,
                         event_key=event_key, addresses=addresses)


def _outbox_insert(messages: list[OutboxMessage], *, connection) -> list[int] | None:
    """On PostgreSQL the outbox rows in one INSERT ... ON CONFLICT DO NOTHING RETURNING id: the ids of
    the rows written, a row already there for the event, recipient and channel skipped as
    bulk_create(ignore_conflicts=True) skips it, without reading the rows back (issue 15). None
    elsewhere (the caller writes them with bulk_create and reads their ids)."""
    if connection.vendor != "postgresql":
        return None
    meta = OutboxMessage._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk and not field.generated]
    for message in messages:
        message._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    rows = OutboxMessage.objects.using(connection.alias)._insert(  # type: ignore[attr-defined]
        messages, fields=fields, returning_fields=[meta.pk], using=connection.alias, on_conflict=OnConflict.IGNORE,
    )
    return sorted(row[0] for row in rows)


# No savepoint: a failure while writing belongs to the caller's transaction, which must roll back
# with it. (Checks come before, so refused content leaves the caller's transaction usable.)
@transaction.atomic(savepoint=False)
def _notify_write(
    *, user_ids: list[int], kind: str, case_number: str, link: str, params: dict, event_key: str,
    addresses: Mapping[int, tuple[str, str | None]] | None = None,
) -> list[Notification]:
    # Claimed for this transaction on PostgreSQL (notifications.partitions): a user another open
    # transaction is telling the same event is left out, as ignore_conflicts does below elsewhere.
    user_ids = notification_recipients_claim(event_key=event_key, user_ids=user_ids)
    if not user_ids:
        return []
    choices = preferences_for_event(user_ids=user_ids, kind=kind)
    notifications = [
        Notification(
            recipient_id=user_id, kind=kind, event_key=event_key, case_number=case_number, link=link,
            params=params, in_app=choices[user_id][Channel.IN_APP],
        )
        for user_id in user_ids
    ]
    connection = connections[router.db_for_write(Notification)]
    if connection.vendor == "postgresql":
        # The keys of every one of them are this transaction's (claimed above): the insert cannot meet a
        # notification of the event already written (the table, partitioned, has no unique index for
        # ignore_conflicts to act on; a taken key fails in its trigger either way), and its RETURNING
        # gives the ids without reading the rows back (issue 15).
        created = Notification.objects.bulk_create(notifications)
    else:
        Notification.objects.bulk_create(notifications, ignore_conflicts=True)
        created = list(Notification.objects.filter(event_key=event_key, recipient_id__in=user_ids).order_by("pk"))
    if addresses is None:
        addresses = {
            user_id: (email, phone) for user_id, email, phone in get_user_model().objects.filter(
                pk__in=user_ids).values_list("pk", "email", "contact__phone")
        }
    channels = {user_id: {Channel.EMAIL: email, Channel.SMS: phone} for user_id, (email, phone) in addresses.items()}
    now = timezone.now()
    relay_after = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_RELAY_GRACE_SECONDS)
    messages = []
    for notification in created:
        for channel in (Channel.EMAIL, Channel.SMS):
            if not choices[notification.recipient_id][channel]:
                continue
            if not channels.get(notification.recipient_id, {}).get(channel):
                logger.debug("User %s has no %s address; %s not sent there", notification.recipient_id, channel, kind)
                continue
            messages.append(OutboxMessage(
                notification=notification, event_key=event_key, recipient_id=notification.recipient_id,
                channel=channel, next_attempt_at=now, relay_after=relay_after,
            ))
    if messages:
        message_ids = _outbox_insert(messages, connection=connection)
        if message_ids is None:
            OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)
            message_ids = list(OutboxMessage.objects.filter(
                event_key=event_key, recipient_id__in=user_ids, status=OutboxMessage.Status.QUEUED
            ).order_by("pk").values_list("pk", flat=True))
        # One bounded broker connection for all of them, after commit: the request never waits on a
        # broker that is down (the relay sweep sends them when it is back).
        transaction.on_commit(functools.partial(outbox_relay_many, message_ids=message_ids))
    return created


def notification_mark_read(*, notification: Notification) -> bool:
    """Returns False when it was read already."""
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    if changed:
        notification.read_at = Notification.objects.values_list("read_at", flat=True).get(pk=notification.pk)
    return bool(changed)


def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic(durable=True)
def preferences_update(*, user: User, choices: list[tuple[str, str, bool]]) -> None:
    """Store the user's (kind, channel, enabled) choices. Switching off in-app delivery of an
    escalation or emergency is refused."""
    errors = []
    for kind, channel, enabled in choices:
        if kind not in NotificationKind.values or channel not in Channel.values:
            errors.append(_("Unknown event or channel: %(kind)s / %(channel)s.") % {"kind": kind, "channel": channel})
        elif not enabled and preference_locked(kind=kind, channel=channel):
            errors.append(
                _("“%(event)s” always stays on in the app: escalations and emergencies cannot be switched off.")
                % {"event": NotificationKind(kind).label}
            )
    if errors:
        raise ValidationError(errors)
    for kind, channel, enabled in choices:
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, channel=channel, defaults={"enabled": enabled}
        )


_PHONE_RE = re.compile(r"^\+?[0-9]{8,15}$")


def user_contact_update(*, user: User, phone: str, language: str) -> UserContact:
    phone = re.sub(r"[\s.\-()]", "", phone)
    if phone and not _PHONE_RE.fullmatch(phone):
        raise ValidationError({"phone": _("Enter a mobile number of 8 to 15 digits, e.g. +84912345678.")})
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    contact, _created = UserContact.objects.update_or_create(user=user, defaults={"phone": phone, "language": language})
    return contact

