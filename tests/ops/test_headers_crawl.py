"""Issue 11 part 6: every page and API answer of the URL conf carries the Content-Security-Policy,
`Cache-Control: no-store` and the Permissions-Policy, whoever asks and whatever the status; and no
page HopLuc renders needs inline script or style.

The crawl walks every URL pattern (the Django admin's included), fills path parameters with ids of a
small world, and asks as an anonymous visitor, a supervisor (cases, supervision, reports pages) and
the system administrator (admin pages).
"""

import re

import pytest
from django.test import Client

from tests.cases.services_helpers import open_case
from tests.support.urls import concrete, url_patterns

# Executable inline script: a <script> without src whose type is not a JSON data block.
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"", re.I)
_INLINE_HANDLER = re.compile(r"\son[a-z]+=\"", re.I)


def assert_headers(response, path: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp, (path, response.status_code, csp)
    assert "frame-ancestors 'none'" in csp, path
    if not path.startswith("/api/redoc/"):
        assert "unsafe-inline" not in csp, path
    assert "no-store" in response.headers.get("Cache-Control", ""), (path, response.status_code)
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), path


@pytest.mark.django_db
def test_every_page_and_api_answer_carries_the_headers(world):
    case = open_case(world)
    ids = {"case_id": case.pk, "agency_id": world.police.pk, "object_id": world.lead_supervisor.pk}
    patterns = list(url_patterns())
    assert len(patterns) > 100
    anonymous, supervisor, sysadmin = Client(), Client(), Client()
    supervisor.force_login(world.lead_supervisor)
    sysadmin.force_login(world.sysadmin)
    ok = 0
    for pattern in patterns:
        path = concrete(pattern, ids)
        clients = [anonymous, sysadmin] if path.startswith("/admin/") else [anonymous, supervisor]
        for client in clients:
            response = client.get(path)
            assert_headers(response, path)
            if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
                ok += 1
                if not path.startswith(("/admin/", "/api/redoc/", "/api/docs/")):
                    body = response.content.decode()
                    assert not _INLINE_SCRIPT.search(body), path
                    assert not _INLINE_STYLE.search(body), path
                    assert not _INLINE_HANDLER.search(body), path
    # The crawl reached real pages, not only refusals.
    print(f"{len(patterns)} patterns, {ok} HTML pages answered 200")
    assert ok > 30, ok


def test_static_files_keep_their_cache_lifetime(client):
    response = client.get("/static/js/action-log.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_templates_have_no_inline_script_style_or_handler():
    from pathlib import Path

    from django.conf import settings

    templates = [*Path(settings.BASE_DIR, "templates").rglob("*.html"),
                 *Path(settings.BASE_DIR, "jinja2_templates").rglob("*.html")]
    assert len(templates) > 100
    for template in templates:
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text, re.I), template
        assert not _INLINE_STYLE.search(text), template
        assert not _INLINE_HANDLER.search(text), template
