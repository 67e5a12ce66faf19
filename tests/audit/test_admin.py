import pytest
from django.contrib.auth.models import Permission

from audit.services import audit_record

CHANGELIST = "/admin/audit/auditevent/"


@pytest.fixture
def event(world):
    return audit_record(actor=world.lead_responder, action="view", case_id=5, target="case:5")


def test_superuser_reads_events_but_cannot_add_change_or_delete(client, world, event):
    client.force_login(world.sysadmin)
    listing = client.get(CHANGELIST, {"q": "case:5"})
    assert listing.status_code == 200 and b"case:5" in listing.content
    detail = client.get(f"{CHANGELIST}{event.seq}/change/")
    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert b'name="_save"' not in detail.content
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{event.seq}/change/", {"reason": "rewritten"}).status_code == 403
    assert client.post(f"{CHANGELIST}{event.seq}/delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.reason == ""


@pytest.mark.parametrize("who", ["lead_responder", "lead_supervisor", "outsider_responder", "analyst"])
def test_people_without_staff_status_are_refused(client, world, event, who):
    client.force_login(getattr(world, who))
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get(f"{CHANGELIST}{event.seq}/change/").status_code == 302


def test_anonymous_is_refused(client, event):
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_the_view_permission_is_refused(client, world, event):
    staff = world.lead_admin
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    assert client.get(CHANGELIST).status_code == 200
