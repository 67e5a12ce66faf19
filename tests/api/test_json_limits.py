"""Issue 11 part 6: a JSON body nested deeper than API_JSON_MAX_DEPTH or larger than
API_JSON_MAX_BYTES is answered 400 on every JSON endpoint, signed in or not. Before, a deeply nested
body made the json module raise RecursionError: a 500 without signing in."""

import pytest
from rest_framework.test import APIClient

from config.parsers import json_depth


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.fixture
def anonymous():
    return APIClient(raise_request_exception=False)


@pytest.mark.parametrize("levels", [33, 100_000])
def test_deep_json_is_a_400_without_signing_in(db, anonymous, levels):
    response = anonymous.post("/api/auth/token/", data=deep(levels), content_type="application/json")
    assert response.status_code == 400
    assert "32" in response.json()["detail"]


def test_deep_json_is_a_400_for_a_signed_in_user(world):
    client = APIClient(raise_request_exception=False)
    client.force_login(world.lead_responder)
    body = '{"survivor": ' + deep(50_000) + "}"
    for path in ["/api/cases/", "/api/break-glass/", "/api/notification-preferences/"]:
        response = client.generic("POST" if path != "/api/notification-preferences/" else "PUT", path, body,
                                  content_type="application/json")
        assert response.status_code == 400, (path, response.status_code)


def test_a_body_over_the_size_limit_is_a_400(db, anonymous, settings):
    settings.API_JSON_MAX_BYTES = 1000
    body = '{"username": "' + "a" * 1000 + '", "password": "x"}'
    response = anonymous.post("/api/auth/token/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "1000" in response.json()["detail"]
    # Under the limit and shallow: an ordinary answer (wrong credentials).
    ordinary = anonymous.post("/api/auth/token/", {"username": "a", "password": "b"}, format="json")
    assert ordinary.status_code == 400 and "non_field_errors" in ordinary.json()


def test_brackets_inside_strings_do_not_count():
    assert json_depth('{"a": "[[[[[[[[[[{{{{{{{{", "b": [1, {"c": "\\"]]]]"}]}') == 3
    assert json_depth('"plain"') == 0


def test_invalid_json_is_still_a_400(db, anonymous):
    response = anonymous.post("/api/auth/token/", data='{"username": ', content_type="application/json")
    assert response.status_code == 400


def test_every_api_view_parses_json_with_the_bounded_parser():
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.parsers import JSONParser

    from config.parsers import BoundedJSONParser

    def callbacks(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from callbacks(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern.callback

    checked = 0
    for callback in callbacks(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if view_class is None or not hasattr(view_class, "parser_classes"):
            continue
        for parser in view_class().get_parsers():
            if isinstance(parser, JSONParser):
                assert isinstance(parser, BoundedJSONParser), view_class
                checked += 1
    assert checked > 20
