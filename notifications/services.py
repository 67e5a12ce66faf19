"""Writes: deadlines and their sweep, notifications and preferences (reference data: loaders.py).

Callers outside this app (cases: handoffs, follow-ups) use deadline_create, deadline_close and
notify inside their own transaction, so a deadline or an outbox row exists exactly when its cause
was committed.
"""

import datetime
import functools
import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Role

from .calendar import calendar_years_missing, time_limit_effective, working_time_add
from .content import URGENCIES, notification_content_check
from .delivery import outbox_relay_many
from .models import (
    Channel,
    Deadline,
    LegalTimeLimit,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
    UserContact,
)
from .selectors import preference_locked, preferences_for_event
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


def deadline_create(
    *,
    kind: str,
    subject: str,
    owner_agency: Agency,
    rule: LegalTimeLimit | str | None = None,
    due_at: datetime.datetime | None = None,
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
    code), or set explicitly with `due_at` (a follow-up a responder chose). Reminder and escalation
    times default to DEADLINE_* settings."""
    if kind not in Deadline.Kind.values:
        raise ValueError(f"unknown deadline kind {kind!r}")
    if (rule is None) == (due_at is None):
        raise ValueError("give either a rule or a due_at")
    notification_content_check(case_number=case_number, link=link or "/", params={})
    start = start or timezone.now()
    if isinstance(rule, str):
        try:
            rule = LegalTimeLimit.objects.get(code=rule)
        except LegalTimeLimit.DoesNotExist as exc:
            raise ValueError(f"no time limit with code {rule!r}; run `manage.py load_time_limits`") from exc
    if rule is not None:
        limit = time_limit_effective(rule=rule)
        due_at = working_time_add(start, amount=limit.amount, unit=limit.unit)
        if limit.unit == "working_days":
            missing = calendar_years_missing(years=range(start.year, due_at.year + 1))
            if missing:
                logger.warning("No public holidays loaded for %s: working days skip weekends only", missing)
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
_NEXT_STAGE = {
    Deadline.Stage.PENDING: (Deadline.Stage.REMINDED, "remind_at", NotificationKind.DEADLINE_REMINDER),
    Deadline.Stage.REMINDED: (Deadline.Stage.OVERDUE, "due_at", NotificationKind.DEADLINE_OVERDUE),
    Deadline.Stage.OVERDUE: (Deadline.Stage.ESCALATED, "escalate_at", NotificationKind.DEADLINE_ESCALATED),
}


def _agency_members(*, agency_id: int, role: str):
    return get_user_model().objects.filter(
        memberships__agency_id=agency_id, memberships__role=role, memberships__agency__active=True, is_active=True
    )


def deadline_stage_recipients(*, deadline: Deadline, stage: str) -> list:
    """Reminder: the owner, or the owner agency's responders; overdue: the owner agency's
    supervisors; escalated: the escalation agency's supervisors and the province coordinators."""
    if stage == Deadline.Stage.REMINDED:
        if deadline.owner_user_id is not None and deadline.owner_user.is_active:
            return [deadline.owner_user]
        return list(_agency_members(agency_id=deadline.owner_agency_id, role=Role.RESPONDER))
    if stage == Deadline.Stage.OVERDUE:
        return list(_agency_members(agency_id=deadline.owner_agency_id, role=Role.SUPERVISOR))
    coordinators = get_user_model().objects.filter(
        coordinated_provinces__province_id=deadline.owner_agency.province_id, is_active=True
    )
    if deadline.escalate_agency_id is None:
        return list(coordinators)
    supervisors = _agency_members(agency_id=deadline.escalate_agency_id, role=Role.SUPERVISOR)
    return list((supervisors | coordinators).distinct())


def _deadline_fire_stage(*, deadline: Deadline, stage: str) -> bool:
    """Claim the step from `stage` to the next one and send its notifications, in one transaction.
    Returns False when another sweeper has claimed it (or the deadline was closed) meanwhile."""
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
            params={"due_at": deadline.due_at.isoformat(), "deadline_kind": deadline.kind},
            event_key=f"deadline:{deadline.pk}:{next_stage}",
        )
        deadline_stage_reached.send(sender=Deadline, deadline=deadline, stage=next_stage,
                                    at=getattr(deadline, time_field))
    deadline.stage, deadline.next_fire_at = next_stage, next_fire_at
    return True


def deadline_sweep(*, now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Fire every stage that is due; returns how many stages this call fired.

    Safe to run in several processes at once: each step is claimed with a conditional UPDATE on the
    current stage and acted on only by the sweeper whose UPDATE changed the row. A deadline that
    missed several stages (downtime) goes through each of them once, in order."""
    now = now or timezone.now()
    fired = 0
    last_pk = 0
    while True:
        # Keyset pagination by pk: rows another sweeper is handling are skipped, never looped on.
        rows = list(
            Deadline.objects.filter(closed_at__isnull=True, next_fire_at__lte=now, pk__gt=last_pk)
            .select_related("owner_user", "owner_agency")
            .order_by("pk")[:batch_size]
        )
        for deadline in rows:
            while deadline.stage in _NEXT_STAGE and getattr(deadline, _NEXT_STAGE[deadline.stage][1]) <= now:
                try:
                    if not _deadline_fire_stage(deadline=deadline, stage=deadline.stage):
                        break
                except Exception:
                    # One broken row must not hold up every other deadline; it is tried again next minute.
                    logger.exception("Deadline %s: stage after %s failed", deadline.pk, deadline.stage)
                    break
                fired += 1
        if len(rows) < batch_size:
            return fired
        last_pk = rows[-1].pk


# --- Notifications -------------------------------------------------------------------------------


def notify(
    *, recipients, kind: str, case_number: str = "", link: str, params: dict | None = None, event_key: str
) -> list[Notification]:
    """Tell each recipient about one event: a Notification row (shown in the app unless switched
    off) and one outbox row per other channel they keep on and have an address for, relayed to the
    delivery task once the caller's transaction commits.

    The same event_key never notifies a recipient twice. Only non-identifying values may travel:
    see notifications.content (UnsafeNotificationContent otherwise)."""
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not event_key or len(event_key) > 120:
        raise ValueError("event_key must be 1 to 120 characters")
    params = dict(params or {})
    notification_content_check(case_number=case_number, link=link, params=params)
    user_ids = sorted({getattr(user, "pk", user) for user in recipients})
    if not user_ids:
        return []
    return _notify_write(user_ids=user_ids, kind=kind, case_number=case_number, link=link, params=params,
                         event_key=event_key)


# No savepoint: a failure while writing belongs to the caller's transaction, which must roll back
# with it. (Checks come before, so refused content leaves the caller's transaction usable.)
@transaction.atomic(savepoint=False)
def _notify_write(
    *, user_ids: list[int], kind: str, case_number: str, link: str, params: dict, event_key: str
) -> list[Notification]:
    already = set(
        Notification.objects.filter(event_key=event_key, recipient_id__in=user_ids)
        .order_by()
        .values_list("recipient_id", flat=True)
    )
    user_ids = [user_id for user_id in user_ids if user_id not in already]
    if not user_ids:
        return []
    choices = preferences_for_event(user_ids=user_ids, kind=kind)
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id, kind=kind, event_key=event_key, case_number=case_number, link=link,
                params=params, in_app=choices[user_id][Channel.IN_APP],
            )
            for user_id in user_ids
        ],
        ignore_conflicts=True,
    )
    created = list(Notification.objects.filter(event_key=event_key, recipient_id__in=user_ids).order_by("pk"))
    addresses = {
        user_id: {Channel.EMAIL: email, Channel.SMS: phone}
        for user_id, email, phone in get_user_model().objects.filter(pk__in=user_ids).values_list(
            "pk", "email", "contact__phone"
        )
    }
    now = timezone.now()
    relay_after = now + datetime.timedelta(seconds=settings.NOTIFICATIONS_RELAY_GRACE_SECONDS)
    messages = []
    for notification in created:
        for channel in (Channel.EMAIL, Channel.SMS):
            if not choices[notification.recipient_id][channel]:
                continue
            if not addresses.get(notification.recipient_id, {}).get(channel):
                logger.debug("User %s has no %s address; %s not sent there", notification.recipient_id, channel, kind)
                continue
            messages.append(OutboxMessage(
                notification=notification, event_key=event_key, recipient_id=notification.recipient_id,
                channel=channel, next_attempt_at=now, relay_after=relay_after,
            ))
    if messages:
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

