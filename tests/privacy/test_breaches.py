"""Personal-data breaches: a system administrator records one, the legal limit starts, supervisors of
the affected agencies are told, and nobody else sees it."""

import datetime
import html

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from audit.models import AuditEvent
from audit.services import audit_record
from notifications.models import Deadline, Notification
from privacy.breaches.services import breach_record
from privacy.models import Breach
from tests.support.pages import form_tokens, sent_twice

DISCOVERED = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)


def form_data(world, **extra):
    return {
        "status": "suspected", "discovered_at": "2026-11-02T16:00", "description": "Laptop with an export lost",
        "categories": ["identity", "contact"], "subjects_approx": "12", "records_approx": "40",
        "consequences": "Exposure of survivors", "measures_taken": "Accounts locked", "measures_proposed": "",
        "contact_point": "Phòng CNTT, 024 0000 0000", "affected_agencies": [world.police.pk], "access_events": "",
        "notified_at": "", "delay_reason": "", **extra,
    }


@pytest.fixture
def breach(world):
    event = audit_record(actor=world.lead_responder, action="view", case_id=1, target="case:1")
    return breach_record(
        actor=world.sysadmin, discovered_at=DISCOVERED, description="Export sent to a wrong address",
        contact_point="CNTT", categories=["identity"], affected_agencies=[world.police], access_events=[event.seq],
    )


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_recording_starts_the_limit_tells_supervisors_and_is_audited(breach, world):
    assert breach.due_at == DISCOVERED + datetime.timedelta(hours=72)
    deadline = Deadline.objects.get(subject=f"breach:{breach.pk}")
    assert (deadline.owner_agency, deadline.owner_user) == (world.police, world.sysadmin)
    assert deadline.due_at == breach.due_at
    told = set(Notification.objects.filter(kind="breach_recorded").values_list("recipient__username", flat=True))
    assert told == {"lead_supervisor"}
    event = AuditEvent.objects.get(target=f"breach:{breach.pk}")
    assert event.action == "create" and event.actor == world.sysadmin
    assert "Export sent" not in str(event.details) and event.reason == ""


def test_free_text_is_encrypted_at_rest(breach):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT description FROM audit_breach WHERE id = %s", [breach.pk])
        assert "Export sent" not in cursor.fetchone()[0]
    assert Breach.objects.get(pk=breach.pk).description == "Export sent to a wrong address"


def test_only_a_system_administrator_records(world):
    for user in (world.lead_supervisor, world.lead_admin, world.analyst):
        with pytest.raises(PermissionDenied):
            breach_record(actor=user, discovered_at=DISCOVERED, description="x", contact_point="y")


def test_notifying_the_authority_closes_the_deadline(breach, world):
    response = client_for(world.sysadmin).patch(
        f"/api/breaches/{breach.pk}/", {"status": "notified", "notified_at": "2026-11-03T09:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["notified_late"] is False
    assert Deadline.objects.get(subject=f"breach:{breach.pk}").stage == "closed"


def test_api_record_and_list(world, django_assert_max_num_queries):
    event = audit_record(actor=world.lead_responder, action="view", case_id=1, target="case:1")
    client = client_for(world.sysadmin)
    response = client.post("/api/breaches/", {
        "discovered_at": "2026-11-02T09:00:00Z", "description": "Suspicious reads at night", "contact_point": "CNTT",
        "categories": ["identity"], "affected_agencies": [world.police.pk, world.health.pk],
        "access_events": [event.seq],
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["access_events"] == [event.seq] and body["due_at"].startswith("2026-11-05T")
    with django_assert_max_num_queries(8):
        assert client.get("/api/breaches/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(f"/api/breaches/{body['id']}/").json()["description"] == "Suspicious reads at night"


@pytest.mark.parametrize(("payload", "field"), [
    ({"description": "x", "contact_point": "y"}, "discovered_at"),
    ({"discovered_at": "2099-01-01T00:00:00Z", "description": "x", "contact_point": "y"}, "discovered_at"),
    ({"discovered_at": "2026-11-02T09:00:00Z", "description": "x", "contact_point": "y", "access_events": [999999]},
     "access_events"),
    ({"discovered_at": "2026-11-02T09:00:00Z", "description": "x", "contact_point": "y", "categories": ["shoe"]},
     "categories.0"),
    ({"discovered_at": "2026-11-02T09:00:00Z", "description": "x", "contact_point": "y", "status": "notified"},
     "notified_at"),
    ({"discovered_at": "2026-11-02T09:00:00Z", "description": "x", "contact_point": "y", "colour": "red"}, "colour"),
])
def test_api_bad_input_is_a_400_with_field_messages(world, payload, field):
    response = client_for(world.sysadmin).post("/api/breaches/", payload, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Breach.objects.exists()


def test_supervisor_of_an_affected_agency_reads_but_does_not_change(breach, world):
    client = client_for(world.lead_supervisor)
    assert [b["id"] for b in client.get("/api/breaches/").json()["results"]] == [breach.pk]
    assert client.get(f"/api/breaches/{breach.pk}/").status_code == 200
    assert client.get(f"/audit/breaches/{breach.pk}/").status_code == 200
    assert client.patch(f"/api/breaches/{breach.pk}/", {"status": "confirmed"},
                        content_type="application/json").status_code == 403
    assert client.post(f"/audit/breaches/{breach.pk}/", {}).status_code == 403
    assert client.post("/api/breaches/", {}, content_type="application/json").status_code == 403


@pytest.mark.parametrize("who", ["outsider_supervisor", "receiving_supervisor", "lead_responder", "lead_admin",
                                 "analyst", "province_analyst", "staff", None])
def test_wrong_people_are_refused_everywhere(breach, world, who):
    if who == "staff":
        from tests.conftest import make_user

        user = make_user("plain_staff", is_staff=True)
    else:
        user = getattr(world, who) if who else None
    client = client_for(user)
    api_list = client.get("/api/breaches/")
    if who in ("outsider_supervisor", "receiving_supervisor"):
        # Supervisors list the breaches of their own agencies: none here.
        assert api_list.status_code == 200 and api_list.json()["results"] == []
        assert b"Export sent" not in client.get("/audit/breaches/").content
    else:
        assert api_list.status_code in (401, 403) if who is None else api_list.status_code == 403
    assert client.get(f"/api/breaches/{breach.pk}/").status_code in (401, 403, 404)
    assert client.post("/api/breaches/", {}, content_type="application/json").status_code in (401, 403)
    assert client.patch(f"/api/breaches/{breach.pk}/", {}, content_type="application/json").status_code in (
        401, 403, 404)
    urls = ["/audit/breaches/new/", f"/audit/breaches/{breach.pk}/"]
    if who not in ("outsider_supervisor", "receiving_supervisor"):
        urls.append("/audit/breaches/")
    for url in urls:
        response = client.get(url)
        if who is None:
            assert response.status_code == 302 and "login" in response["Location"]
        else:
            assert response.status_code in (403, 404), (url, response.status_code)
            assert b"Export sent" not in response.content


def test_pages_record_show_and_change(world, django_assert_max_num_queries):
    event = audit_record(actor=world.lead_responder, action="view", case_id=1, target="case:1")
    client = client_for(world.sysadmin)
    page = client.get(f"/audit/breaches/new/?events={event.seq}&agencies={world.police.pk}")
    assert page.status_code == 200 and f'value="{event.seq}"'.encode() in page.content
    # Ids that are not ids are left out of the form (a 500 for "²" before).
    odd = client.get(f"/audit/breaches/new/?events={event.seq},²,-1&agencies=²,{world.police.pk}")
    assert odd.status_code == 200 and f'value="{event.seq}"'.encode() in odd.content
    # Posted, an agency "id" beyond a bigint is the field's error (SQLite's OverflowError was a 500).
    for odd_id in ("99999999999999999999", "²"):
        refused = client.post("/audit/breaches/new/", form_data(world, affected_agencies=[odd_id]))
        assert refused.status_code == 400 and b"Laptop with an export lost" in refused.content
    assert not Breach.objects.exists()
    response = client.post("/audit/breaches/new/", form_data(world, access_events=str(event.seq)))
    assert response.status_code == 302, response.content.decode()[:2000]
    breach = Breach.objects.get()
    assert breach.access_event_seqs == [event.seq] and breach.categories == ["contact", "identity"]
    with django_assert_max_num_queries(12):
        detail = client.get(f"/audit/breaches/{breach.pk}/")
    assert detail.status_code == 200 and f"#{event.seq}".encode() in detail.content
    with django_assert_max_num_queries(12):
        assert b"Laptop" not in client.get("/audit/breaches/").content  # the list shows no free text
    bad = client.post(f"/audit/breaches/{breach.pk}/", form_data(world, status="notified"))
    assert bad.status_code == 400 and b"notified" in bad.content
    assert client.post("/audit/breaches/new/", form_data(world, access_events="abc")).status_code == 400
    assert client.post("/audit/breaches/new/", form_data(world, discovered_at="")).status_code == 400


def test_the_unusual_access_report_links_to_the_breach(breach, world):
    page = client_for(world.lead_supervisor).get("/supervision/unusual-access/")
    assert page.status_code == 200
    assert f"/audit/breaches/{breach.pk}/".encode() in page.content
    assert f"#{breach.access_event_seqs[0]}".encode() in page.content
    # Not the supervisor of another agency.
    other = client_for(world.outsider_supervisor).get("/supervision/unusual-access/")
    assert f"/audit/breaches/{breach.pk}/".encode() not in other.content


def test_the_notice_carries_the_due_time_and_a_link_never_the_text(breach, world):
    from notifications.texts import notification_texts

    notice = Notification.objects.get(kind="breach_recorded")
    assert notice.link == f"/audit/breaches/{breach.pk}/" and notice.case_number == ""
    for language in ("vi", "en"):
        texts = notification_texts(notification=notice, language=language)
        assert f"/audit/breaches/{breach.pk}/" in texts.body
        assert "Export sent" not in texts.body + texts.subject + texts.sms
    assert "vi phạm dữ liệu cá nhân" in notification_texts(notification=notice, language="vi").subject.lower()


def test_the_deadline_sweep_reminds_the_recorder_then_tells_supervisors_when_overdue(breach, world):
    from notifications.services import deadline_sweep

    deadline = Deadline.objects.get(subject=f"breach:{breach.pk}")
    deadline_sweep(now=deadline.remind_at + datetime.timedelta(seconds=1))
    reminded = Notification.objects.filter(kind="deadline_reminder").values_list("recipient__username", flat=True)
    assert list(reminded) == ["sysadmin"]
    deadline_sweep(now=breach.due_at + datetime.timedelta(seconds=1))
    overdue = Notification.objects.filter(kind="deadline_overdue")
    assert set(overdue.values_list("recipient__username", flat=True)) == {"lead_supervisor"}
    assert {n.link for n in overdue} == {f"/audit/breaches/{breach.pk}/"}


@pytest.mark.parametrize(("field", "api_value", "page_value"), [
    ("discovered_at", "2099-01-01T00:00:00Z", "2099-01-01T00:00"),  # the declaration's rule
    ("occurred_at", "2026-11-03T09:00:00Z", "2026-11-03T09:00"),  # the service's: after the discovery
])
def test_the_page_and_the_api_refuse_the_same_input_with_the_same_message(world, field, api_value, page_value):
    client = client_for(world.sysadmin)
    api = client.post("/api/breaches/", {"discovered_at": "2026-11-02T09:00:00Z", "description": "x",
                                         "contact_point": "y", field: api_value}, content_type="application/json")
    assert api.status_code == 400, api.content
    message = api.json()[field][0]
    page = client.post("/audit/breaches/new/", form_data(world, **{field: page_value}))
    assert page.status_code == 400
    assert html.escape(message).encode() in page.content
    assert not Breach.objects.exists()


def test_a_field_emptied_on_the_page_is_emptied(breach, world):
    client = client_for(world.sysadmin)
    client.post(f"/audit/breaches/{breach.pk}/", form_data(world, consequences="Exposure", subjects_approx="12"))
    breach.refresh_from_db()
    assert (breach.consequences, breach.subjects_approx) == ("Exposure", 12)
    response = client.post(f"/audit/breaches/{breach.pk}/", form_data(world, consequences="", subjects_approx=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    breach.refresh_from_db()
    assert (breach.consequences, breach.subjects_approx) == ("", None)


def test_a_breach_sent_twice_is_recorded_once(world):
    client = client_for(world.sysadmin)
    token = form_tokens(client.get("/audit/breaches/new/").content.decode())[""]
    first, _again = sent_twice(client, Breach, "/audit/breaches/new/", {**form_data(world), "sending_token": token},
                               written=1)
    assert first["Location"] == f"/audit/breaches/{Breach.objects.get().pk}/"
