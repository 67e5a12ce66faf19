import uuid

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from audit.middleware import RequestIdMiddleware


def _run(**headers):
    seen = {}

    def view(request):
        seen["request_id"] = request.request_id
        return HttpResponse("ok")

    response = RequestIdMiddleware(view)(RequestFactory().get("/", headers=headers))
    return seen["request_id"], response


def test_sane_incoming_id_is_kept_and_echoed():
    request_id, response = _run(**{"X-Request-ID": "nginx-4f2a9c1e77d0"})
    assert request_id == response["X-Request-ID"] == "nginx-4f2a9c1e77d0"


@pytest.mark.parametrize(
    "supplied", ["", "short", "bad id with spaces", "x" * 101, "<script>alert(1)</script>", "ü" * 10]
)
def test_missing_or_odd_incoming_id_is_replaced_by_a_uuid(supplied):
    request_id, response = _run(**({"X-Request-ID": supplied} if supplied else {}))
    assert uuid.UUID(request_id).version == 4
    assert response["X-Request-ID"] == request_id


def test_every_response_of_the_site_carries_an_id(client, db):
    response = client.get("/login/")
    assert uuid.UUID(response["X-Request-ID"])
    assert client.get("/no-such-page/")["X-Request-ID"]
