"""Issue 11 part 6: Swagger UI and Redoc are served by this installation (drf-spectacular-sidecar),
with nothing loaded from a CDN, to signed-in people only."""

import re

import pytest
from django.test import Client


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_load_nothing_from_another_site(world, path):
    client = Client()
    client.force_login(world.lead_responder)
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", body), body
    assets = re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", body)
    assert any("drf_spectacular_sidecar" in asset for asset in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_swagger_starts_from_a_script_url_not_inline(world):
    client = Client()
    client.force_login(world.lead_responder)
    body = client.get("/api/docs/").content.decode()
    assert "<script>" not in body
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/api/schema/"])
def test_anonymous_is_refused(db, path):
    assert Client().get(path).status_code in (401, 403)
