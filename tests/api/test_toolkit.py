"""The API toolkit (config.api): one class per URL whose permission and throttle classes DRF runs for
every method (the old shared_path router called the operation's handler directly and skipped them),
one error shape, one cursor page."""

import inspect

import pytest
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle

from cases.apis import CaseCollectionApi, CaseItemApi
from config.api import flatten_errors
from deadlines.apis import CaseDeadlineCollectionApi
from privacy.apis import CaseHoldCollectionApi
from privacy.breaches.apis import BreachesApi
from takedowns.apis import TakedownCollectionApi
from tests.cases.conftest import open_payload


class RefuseEveryone(BasePermission):
    message = "Refused by the operation's own permission."

    def has_permission(self, request, view):
        return False


class NoMoreRequests(BaseThrottle):
    def allow_request(self, request, view):
        return False

    def wait(self):
        return 42


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_permission_class_on_a_shared_url_is_enforced_for_every_method(world, api, monkeypatch, method):
    monkeypatch.setattr(CaseCollectionApi, "permission_classes", [RefuseEveryone])
    client = api(world.lead_responder)

    response = getattr(client, method)("/api/cases/", open_payload() if method == "post" else None, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": RefuseEveryone.message}


def test_a_throttle_class_on_a_shared_url_is_enforced(world, api, monkeypatch):
    monkeypatch.setattr(CaseItemApi, "throttle_classes", [NoMoreRequests])

    response = api(world.lead_responder).patch("/api/cases/1/", {"risk_level": "low"}, format="json")

    assert response.status_code == 429 and response["Retry-After"] == "42"


@pytest.mark.parametrize("view", [CaseCollectionApi, CaseItemApi, CaseDeadlineCollectionApi, TakedownCollectionApi,
                                  BreachesApi, CaseHoldCollectionApi])
def test_shared_urls_are_plain_classes_with_a_method_per_verb(view):
    # Written in the source, not built by a factory; DRF dispatches by verb.
    assert inspect.getsource(view).startswith(f"class {view.__name__}(")
    assert hasattr(view, "get") and len({m for m in ("post", "patch") if hasattr(view, m)}) == 1


def test_field_errors_are_flattened_to_dotted_paths():
    nested = {"survivor": {"birth_year": ["Bad."]}, "preferences": [{}, {"kind": ["No."]}], "x": "One."}

    assert flatten_errors(nested) == {"survivor.birth_year": ["Bad."], "preferences.1.kind": ["No."], "x": ["One."]}


def test_anonymous_refusal_has_the_detail_shape(db, api):
    response = api().get("/api/cases/")

    assert response.status_code == 403 and set(response.json()) == {"detail"}


def test_a_bad_cursor_is_a_404_in_the_detail_shape(world, api):
    response = api(world.lead_responder).get("/api/cases/", {"cursor": "not-a-cursor"})

    assert response.status_code == 404 and set(response.json()) == {"detail"}


@pytest.mark.parametrize("accept", ["text/csv", "application/xml", "image/png;q=0.9"])
def test_an_accept_header_no_renderer_satisfies_is_answered_in_json_not_406(world, api, accept):
    """406 is documented nowhere: a list asked for as CSV or XML answers as it would have, in JSON (RFC 9110
    lets a server disregard Accept), with its own status: here the analyst's 403 and the supervisor's 200."""
    refused = api(world.analyst).get("/api/breaches/", HTTP_ACCEPT=accept)
    assert refused.status_code == 403 and refused["Content-Type"] == "application/json"
    listed = api(world.lead_supervisor).get("/api/supervision/access/", HTTP_ACCEPT=accept)
    assert listed.status_code == 200 and "results" in listed.json()
