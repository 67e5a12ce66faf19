"""/healthz: 200 when database and broker answer, 503 (quickly) when either does not."""

import socket
import time
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import override_settings

from config.celery import app as celery_app

URL = "/healthz"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def broker_at(url: str, transport_options: dict | None = None):
    """Point the settings and the already-configured Celery app at another broker."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    conf.broker_url = url
    conf.broker_transport_options = transport_options or {}
    try:
        with override_settings(CELERY_BROKER_URL=url, CELERY_BROKER_TRANSPORT_OPTIONS=conf.broker_transport_options):
            yield
    finally:
        conf.broker_url, conf.broker_transport_options = saved


@pytest.mark.django_db
def test_healthy_installation_answers_200_to_anyone(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_tells_nothing_about_cases_or_users_even_to_a_signed_in_supervisor(client, world):
    client.force_login(world.lead_supervisor)
    response = client.get(URL)
    assert response.status_code == 200
    assert set(response.json()) == {"status", "database", "broker"}
    assert b"lead_supervisor" not in response.content


@pytest.mark.django_db
def test_head_is_allowed_for_load_balancers_and_writes_are_refused(client):
    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405
    assert client.delete(URL).status_code == 405


@pytest.mark.django_db
def test_broker_refusing_connections_gives_503(client, closed_port):
    with broker_at(f"redis://127.0.0.1:{closed_port}/0"):
        response = client.get(URL)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "down"}


@pytest.mark.django_db
def test_broker_that_never_answers_gives_503_instead_of_hanging(client, silent_port):
    started = time.monotonic()
    with broker_at(f"redis://127.0.0.1:{silent_port}/0"):
        response = client.get(URL)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, elapsed
    assert response.json()["broker"] == "down"
    # The probe gives up after 2 s; the margin is for a CI machine loaded by other suites, not for a hang.
    assert elapsed < 8


@pytest.mark.django_db
def test_filesystem_broker_without_its_queue_folder_gives_503(client, tmp_path):
    missing = str(tmp_path / "missing" / "queue")
    with broker_at("filesystem://localhost/", {"data_folder_in": missing, "data_folder_out": missing}):
        response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


@pytest.mark.django_db(transaction=True)
def test_database_that_cannot_be_reached_gives_503(client, tmp_path, closed_port):
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "no-such-folder" / "hopluc.sqlite3")
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port))
    try:
        response = client.get(URL)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down", "broker": "ok"}
