from audit.models import AuditAction, AuditEvent
from tests.conftest import PASSWORD


def test_sign_in_is_recorded_with_address_and_request_id(client, world):
    response = client.post(
        "/login/", {"username": "lead_responder", "password": PASSWORD}, HTTP_X_REQUEST_ID="proxy-req-000042",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert (event.actor, event.actor_username) == (world.lead_responder, "lead_responder")
    assert event.ip == "127.0.0.1"
    assert event.request_id == "proxy-req-000042"


def test_failed_sign_in_keeps_the_username_and_never_the_password(client, world):
    client.post("/login/", {"username": "lead_responder", "password": "wrong-guess-789"})
    client.post("/login/", {"username": "nobody-here", "password": "wrong-guess-790"})
    events = list(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("seq"))
    assert [(e.actor_id, e.details) for e in events] == [
        (None, {"username": "lead_responder"}), (None, {"username": "nobody-here"}),
    ]
    everything = repr(list(AuditEvent.objects.values()))
    assert "wrong-guess" not in everything
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()


def test_sign_out_is_recorded(client, world):
    client.force_login(world.lead_supervisor)
    client.post("/logout/")
    assert list(AuditEvent.objects.values_list("action", "actor_username")) == [
        ("login", "lead_supervisor"), ("logout", "lead_supervisor"),
    ]


def test_anonymous_logout_records_nothing(client, db):
    client.post("/logout/")
    assert not AuditEvent.objects.exists()
