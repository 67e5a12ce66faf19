"""Analysts are told when their scope's report is published: in the app and by email (SMTP is the
test mail box), with the month, the scope and a link, never a figure; once per report."""

import re

import pytest
from django.core import mail
from django.utils import translation

from agencies.models import AnalystScope
from notifications.content import UnsafeNotificationContent, params_check
from notifications.delivery import outbox_deliver
from notifications.models import Notification, OutboxMessage
from notifications.texts import notification_texts
from reports.models import MonthlyReport
from reports.services import monthly_report_correct, monthly_reports_build, report_published_notify
from tests.conftest import make_user

from .conftest import OCTOBER, TODAY, local, make_case, make_incident


@pytest.fixture
def analysts(october):
    w = october.world
    w.analyst.email = "phan.tich@bo.example.vn"
    w.analyst.save(update_fields=["email"])
    w.province_analyst.email = "phan.tich@hanoi.example.vn"
    w.province_analyst.save(update_fields=["email"])
    hue_analyst = make_user("hue_analyst", email="phan.tich@hue.example.vn")
    AnalystScope.objects.create(user=hue_analyst, province=w.hue)
    return w.analyst, w.province_analyst, hue_analyst


def _build(capture):
    with capture(execute=True):
        outcome = monthly_reports_build(period=OCTOBER, today=TODAY)
    return {(r.province.code if r.province_id else None): r for r in outcome.created}


def test_each_analyst_is_told_about_their_scope_in_the_app_and_by_email(
    analysts, django_capture_on_commit_callbacks
):
    national, hanoi, hue = analysts
    reports = _build(django_capture_on_commit_callbacks)
    notices = {n.recipient_id: n for n in Notification.objects.filter(kind="report_published")}
    assert set(notices) == {national.pk, hanoi.pk, hue.pk}
    assert notices[national.pk].link == f"/reports/{reports[None].pk}/"
    assert notices[national.pk].params == {"period": "2026-10"}
    assert notices[hanoi.pk].params == {"period": "2026-10", "province_code": "01"}
    assert notices[hue.pk].event_key == f"report:{reports['46'].pk}"
    assert all(n.in_app and n.case_number == "" for n in notices.values())
    outbox = OutboxMessage.objects.filter(event_key__startswith="report:")
    # Email only: a report is not worth an SMS unless the analyst asks for one.
    assert sorted(outbox.values_list("channel", flat=True)) == ["email"] * 3
    for message in outbox:
        assert outbox_deliver(message_id=message.pk).status == "sent"
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {national.email, hanoi.email, hue.email}
    assert "10/2026" in sent[hanoi.email].subject and "Hà Nội" in sent[hanoi.email].subject
    assert f"/reports/{reports['01'].pk}/" in sent[hanoi.email].body
    assert "no figures" in sent[national.email].body or "số liệu" in sent[national.email].body


def test_the_texts_carry_month_scope_and_link_and_no_figure(analysts, django_capture_on_commit_callbacks):
    _build(django_capture_on_commit_callbacks)
    for notification in Notification.objects.filter(kind="report_published"):
        for language, scope_names in (("vi", ("Toàn quốc", "National")), ("en", ("National",))):
            texts = notification_texts(notification=notification, language=language)
            code = notification.params.get("province_code")
            scope = {None: scope_names, "01": ("Hà Nội",), "46": ("Huế",)}[code]
            for text in (texts.subject, texts.body, texts.sms):
                assert "10/2026" in text and any(name in text for name in scope), text
                # Nothing numeric beyond the month and the link: no count can travel.
                stripped = re.sub(r"https?://\S+", "", text).replace("10/2026", "")
                assert not re.search(r"\d", stripped), text
            assert notification.link in texts.body and notification.link in texts.sms


def test_building_again_or_notifying_again_tells_nobody_twice(analysts, django_capture_on_commit_callbacks):
    reports = _build(django_capture_on_commit_callbacks)
    assert Notification.objects.filter(kind="report_published").count() == 3
    _build(django_capture_on_commit_callbacks)
    report_published_notify(report=reports[None])
    assert Notification.objects.filter(kind="report_published").count() == 3
    assert OutboxMessage.objects.filter(event_key__startswith="report:").count() == 3


def test_a_correction_is_announced_as_a_new_report(analysts, october, django_capture_on_commit_callbacks):
    national, _hanoi, _hue = analysts
    _build(django_capture_on_commit_callbacks)
    for _ in range(6):
        case = make_case(october.world, created_at=local(2026, 10, 20))
        make_incident(october.world, case, reported_on=OCTOBER.replace(day=20), gbv_type="rape")
    with django_capture_on_commit_callbacks(execute=True):
        corrected = monthly_report_correct(period=OCTOBER, scope=None, reason="Late entries", today=TODAY)
    assert corrected.version == 2
    links = sorted(Notification.objects.filter(recipient=national).values_list("link", flat=True))
    assert links == sorted([f"/reports/{MonthlyReport.objects.get(period=OCTOBER, province=None, version=1).pk}/",
                            f"/reports/{corrected.pk}/"])


def test_a_failing_notice_does_not_undo_the_publication(analysts, monkeypatch, django_capture_on_commit_callbacks):
    from reports import services

    def broken(**kwargs):
        raise RuntimeError("notifications are down")

    monkeypatch.setattr(services, "notify", broken)
    reports = _build(django_capture_on_commit_callbacks)
    assert len(reports) == 3 and MonthlyReport.objects.count() == 3


def test_report_params_accept_only_a_month_and_a_province_code():
    params_check({"period": "2026-10", "province_code": "01"})
    for bad in ({"period": "2026-13"}, {"period": "October"}, {"period": 202610}, {"province_code": "Hà Nội"},
                {"province_code": "01 nguyen van a"}, {"scope_name": "Hà Nội"}):
        with pytest.raises(UnsafeNotificationContent):
            params_check(bad)


def test_the_notification_centre_names_the_month_and_scope(analysts, client, django_capture_on_commit_callbacks):
    _build(django_capture_on_commit_callbacks)
    _national, hanoi, _hue = analysts
    client.force_login(hanoi)
    with translation.override("en"):
        page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10/2026" in page and "Hà Nội" in page
