"""The words of email and SMS notifications, in the recipient's language.

They are built from the Notification row alone (case number, event, due time, link), so they can
hold nothing else about a case.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from agencies.models import Province
from config.formats import datetime_text

from .models import Deadline, Notification, NotificationKind, urgency_text


@dataclass(frozen=True)
class Texts:
    subject: str
    body: str
    sms: str


def notification_language(*, user: User) -> str:
    contact = getattr(user, "contact", None)
    return contact.language if contact is not None and contact.language else settings.LANGUAGE_CODE


def notification_url(*, link: str) -> str:
    return settings.SITE_URL.rstrip("/") + link


def _due_text(value: str | None) -> str:
    if not value:
        return ""
    # Vietnamese time with the offset written out, for recipients reading it abroad.
    return datetime_text(datetime.datetime.fromisoformat(value)) + " (UTC+7)"


def report_period_text(value: str | None) -> str:
    """A report month as Vietnamese readers write it: "2026-10" → "10/2026"."""
    if not value:
        return ""
    year, month = value.split("-")
    return f"{month}/{year}"


def report_scope_text(*, params: dict, province_names: dict[str, str] | None = None) -> str:
    """National, or the province's name, for a report notification; "" for any other event."""
    if not params.get("period"):
        return ""
    code = params.get("province_code")
    if not code:
        return gettext("National")
    if province_names is None:
        province_names = dict(Province.objects.filter(code=code).values_list("code", "name"))
    return province_names.get(code, code)


def report_labels_attach(*, notifications) -> list[Notification]:
    """The notifications with `report_period` and `report_scope` set for the in-app list; the
    province names of a page's report notices come in one query."""
    notifications = list(notifications)
    codes = {(n.params or {}).get("province_code") for n in notifications} - {None}
    names = dict(Province.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    for notification in notifications:
        params = notification.params or {}
        notification.report_period = report_period_text(params.get("period"))
        notification.report_scope = report_scope_text(params=params, province_names=names)
    return notifications


def notification_texts(*, notification: Notification, language: str) -> Texts:
    with translation.override(language):
        params = notification.params or {}
        deadline_kind = params.get("deadline_kind")
        context = {
            "event": str(NotificationKind(notification.kind).label),
            "case_number": notification.case_number,
            "deadline_kind": str(Deadline.Kind(deadline_kind).label) if deadline_kind else "",
            "due_at": _due_text(params.get("due_at")),
            "urgency": urgency_text(params.get("urgency")),
            "period": report_period_text(params.get("period")),
            "scope": report_scope_text(params=params),
            "url": notification_url(link=notification.link),
        }
        subject = render_to_string("notifications/messages/email_subject.txt", context)
        return Texts(
            # A header must be one line, whatever the translation does.
            subject=" ".join(subject.split()),
            body=render_to_string("notifications/messages/email_body.txt", context).strip() + "\n",
            sms=" ".join(render_to_string("notifications/messages/sms.txt", context).split()),
        )
