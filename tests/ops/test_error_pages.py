"""Issue 16 part 6: 403, 404 and 500 are pages in the reader's language with a way home, JSON under
/api/, and under DEBUG (`make run`) an unknown address never shows Django's technical page that
lists every URL of the installation."""

import subprocess
import sys

import pytest
from django.test import Client, RequestFactory
from django.utils import translation

from config import errors
from tests.ops.conftest import BASE_DIR, process_env

TITLES = {
    ("vi", 403): "Bạn không thể mở trang này", ("en", 403): "You cannot open this page",
    ("vi", 404): "Không tìm thấy trang", ("en", 404): "Page not found",
    ("vi", 500): "Đã xảy ra lỗi", ("en", 500): "Something went wrong",
}
HOME_LINK = {"vi": "Về trang chủ", "en": "Go to the home page"}


def _broken(**kwargs):
    raise RuntimeError("boom")


def _assert_friendly(response, status: int, language: str):
    body = response.content.decode()
    assert response.status_code == status
    assert f'data-status="{status}"' in body
    assert TITLES[(language, status)] in body, body[:400]
    assert HOME_LINK[language] in body and 'data-testid="error-home"' in body
    assert f'<html lang="{language}">' in body
    # Never the technical pages.
    assert "URLconf" not in body and "Traceback" not in body and "urlpatterns" not in body


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("debug", [False, True])
def test_404_is_a_friendly_page_in_the_reader_language_with_or_without_debug(db, settings, language, debug):
    settings.DEBUG = debug
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get("/no-such-page/")
    _assert_friendly(response, 404, language)


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("debug", [False, True])
def test_403_is_a_friendly_page_with_or_without_debug(db, settings, language, debug, world):
    settings.DEBUG = debug
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(world.lead_responder)
    # A responder is no supervisor: the view raises PermissionDenied.
    _assert_friendly(client.get("/supervision/reviews/"), 403, language)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_500_is_a_friendly_page(db, language, world, monkeypatch):
    monkeypatch.setattr("supervision.views.review_queue", _broken)
    client = Client(HTTP_ACCEPT_LANGUAGE=language, raise_request_exception=False)
    client.force_login(world.lead_supervisor)
    _assert_friendly(client.get("/supervision/reviews/"), 500, language)


def test_500_renders_without_a_request_context():
    # The handler must not depend on what may have failed (database, context processors).
    with translation.override("vi"):
        response = errors.server_error(RequestFactory().get("/x/"))
    assert response.status_code == 500 and TITLES[("vi", 500)] in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_api_errors_stay_json(db, settings, debug, world):
    settings.DEBUG = debug
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
    client.force_login(world.lead_responder)
    response = client.get("/api/supervision/handoffs/")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"


def test_unknown_address_under_make_run_settings_is_the_friendly_404(tmp_path):
    """config.settings.dev (what `make run` uses, DEBUG on by default): no URL list, the friendly page."""
    script = (
        "import django; django.setup(); from django.conf import settings; from django.test import Client; "
        "assert settings.DEBUG; client = Client(HTTP_ACCEPT_LANGUAGE='vi', HTTP_HOST='127.0.0.1'); "
        "r = client.get('/khong-co-trang-nay/'); "
        "print(r.status_code); print(r.content.decode())"
    )
    env = process_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev", DEBUG=None, DATABASE_URL=None,
                      REDIS_URL=None)
    result = subprocess.run([sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split("\n", 1)
    assert status == "404"
    assert TITLES[("vi", 404)] in body and HOME_LINK["vi"] in body
    assert "URLconf" not in body and "cases/" not in body.split('data-testid="error-page"', 1)[1]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_refused_form_shows_the_403_page_with_what_to_do(db, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language, enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x", "password": "y"})
    _assert_friendly(response, 403, language)
    assert {"vi": "tải lại trang", "en": "reload the page"}[language] in response.content.decode()
