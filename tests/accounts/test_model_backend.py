"""HopLuc's ModelBackend (accounts.backends): Django's, reading the signed-in user with a statement
written once. It must give exactly the user Django's would, refuse the same people, and keep the
sessions signed in through Django's backend before it existed."""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.backends import LEGACY_MODEL_BACKEND, MODEL_BACKEND, ModelBackend, user_by_pk
from tests.conftest import PASSWORD


def _fields(user):
    return {field.attname: getattr(user, field.attname) for field in get_user_model()._meta.concrete_fields}


def test_it_reads_the_user_django_reads_in_one_statement(world):
    user = world.lead_responder
    user.last_login = timezone.now()
    user.first_name = "Lan"
    user.save()
    with CaptureQueriesContext(connection) as captured:
        ours = ModelBackend().get_user(user.pk)
    assert len(captured) == 1
    theirs = DjangoModelBackend().get_user(user.pk)
    assert _fields(ours) == _fields(theirs)
    assert timezone.is_aware(ours.last_login) and ours.is_active is True
    assert ours._state.adding is False and ours._state.db == "default"
    # A string id (as the session keeps it) reads the same person.
    assert user_by_pk(str(user.pk)).pk == user.pk


def test_it_refuses_whom_django_refuses(world):
    user = world.receiving_responder
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert DjangoModelBackend().get_user(user.pk) is None
    assert ModelBackend().get_user(user.pk) is None
    missing = get_user_model().objects.order_by("-pk").first().pk + 1000
    assert ModelBackend().get_user(missing) is None
    assert user_by_pk(missing) is None


def test_only_hoplucs_backend_is_listed():
    assert MODEL_BACKEND in settings.AUTHENTICATION_BACKENDS
    # Both listed, a wrong password would be checked twice.
    assert LEGACY_MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS


def test_a_sign_in_names_hoplucs_backend(client, world):
    assert client.post("/login/", {"username": "lead_responder", "password": PASSWORD}).status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == MODEL_BACKEND


def test_a_session_signed_in_through_djangos_backend_stays_signed_in(client, world):
    assert client.post("/login/", {"username": "lead_responder", "password": PASSWORD}).status_code == 302
    session = client.session
    session[BACKEND_SESSION_KEY] = LEGACY_MODEL_BACKEND
    session.save()

    response = client.get("/api/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "lead_responder"
    stored = Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).get_decoded()
    assert stored[BACKEND_SESSION_KEY] == MODEL_BACKEND


def test_a_session_naming_an_unlisted_backend_is_signed_out(client, world):
    assert client.post("/login/", {"username": "lead_responder", "password": PASSWORD}).status_code == 302
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.RemoteUserBackend"
    session.save()
    assert client.get("/api/me/").status_code == 403
