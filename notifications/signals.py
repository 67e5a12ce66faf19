"""Remember the public holidays an administrator took away, so that no later load puts them back;
and the signal other apps hear the deadline sweep by (notifications imports no case code)."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import Signal, receiver

from .models import HolidayRemoval, PublicHoliday


def _remember_removed(date, name: str) -> None:
    HolidayRemoval.objects.get_or_create(date=date, defaults={"name": name[:150]})


@receiver(post_delete, sender=PublicHoliday, dispatch_uid="notifications_holiday_deleted")
def holiday_deleted(sender, instance, **kwargs):
    _remember_removed(instance.date, instance.name)


@receiver(pre_save, sender=PublicHoliday, dispatch_uid="notifications_holiday_moved")
def holiday_moved(sender, instance, raw=False, **kwargs):
    """A holiday whose date is changed was removed from its old date."""
    if raw or instance.pk is None:
        return
    old = PublicHoliday.objects.filter(pk=instance.pk).values_list("date", "name").first()
    if old and old[0] != instance.date:
        _remember_removed(old[0], old[1])


@receiver(post_save, sender=PublicHoliday, dispatch_uid="notifications_holiday_added")
def holiday_added(sender, instance, raw=False, **kwargs):
    """A day put (back) on the list by hand is no longer a removal."""
    if not raw:
        HolidayRemoval.objects.filter(date=instance.date).delete()


# Sent by the deadline sweep once per batch, inside the transaction that moves the batch's deadlines
# to their next stages, once their notifications are written: kwarg `reached`, a list of
# (deadline, stage, at): the stage reached (reminded, overdue, escalated) and its own time (the
# reminder, due or escalation time), several per deadline after downtime, in order. Receivers write
# in bulk (one query per batch, not per deadline). A receiver's failure rolls the batch back; the
# sweep then fires its deadlines one at a time (a list of one each), and a deadline that still fails
# is tried again next minute. deadlines.services tells the case's timeline.
deadline_stage_reached = Signal()
