"""No HTTP below the edge: services and selectors take no request and raise no Http404 (the edge maps
their domain NotFound to the same 404), and service entry points that own their transaction run it
durable, so that nobody wraps them in a bigger transaction by accident."""

import ast
import importlib
from pathlib import Path

import pytest
from django.db import transaction
from django.http import Http404

from config.exceptions import NotFound

from .conftest import share

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "agencies", "audit", "cases", "conferences", "deadlines", "handoffs", "notifications",
        "permissions", "privacy", "reports", "risk", "supervision", "takedowns")
# Modules that hold services or selectors beside the apps' services.py and selectors.py.
MORE_SERVICE_MODULES = (
    "accounts/mfa.py", "accounts/passwords.py", "privacy/breaches/services.py", "privacy/breaches/selectors.py",
    "cases/erasure.py", "cases/intake/services.py", "cases/intake/selectors.py", "cases/sharing.py",
    "cases/breakglass.py", "cases/sending.py", "permissions/breakglass.py",
)
# Functions there that take a request because the request itself is their subject.
REQUEST_ALLOWED = {
    # django-axes counts and refuses sign-ins by the request's address inside authenticate().
    ("accounts/services.py", "api_token_obtain"),
    # The session's own bookkeeping: they read and write request.session.
    ("accounts/services.py", "signin_session_record"),
    ("accounts/services.py", "signin_session_follow_key"),
    ("accounts/mfa.py", "session_is_verified"),
    ("accounts/mfa.py", "session_verify"),
    # A user_logged_in receiver: it marks the session.
    ("accounts/passwords.py", "remember_initial_password"),
}

# Service entry points that own their transaction: transaction.atomic(durable=True).
DURABLE_ENTRY_POINTS = (
    "accounts.lockout.lockout_lift", "accounts.mfa.mfa_enrol_confirm", "accounts.mfa.mfa_recovery_codes_regenerate",
    "accounts.passwords.password_changed", "accounts.services.api_token_revoke", "accounts.services.signin_session_end",
    "agencies.services.agency_mfa_requirement_set", "agencies.services.staff_attach",
    "agencies.services.staff_break_glass_set", "agencies.services.staff_change_role",
    "agencies.services.staff_create_person", "agencies.services.staff_initial_password_reissue",
    "agencies.services.staff_remove", "deadlines.services.case_deadline_done", "deadlines.services.case_deadline_set",
    "handoffs.services.handoff_complete", "handoffs.services.handoff_withdraw", "cases.services.consent_record_many",
    "cases.services.incident_record", "cases.services.survivor_update", "takedowns.services.takedown_outcome_record",
    "takedowns.services.takedown_request_record", "notifications.services.preferences_update",
    "privacy.services.legal_hold_release", "privacy.services.privacy_request_decide",
    "privacy.breaches.services.breach_record", "privacy.breaches.services.breach_update",
    "supervision.services.break_glass_review_create", "supervision.services.consent_override_review_create",
    "supervision.services.handoff_review_create",
)


def service_modules() -> list[Path]:
    found = [ROOT / app / name for app in APPS for name in ("services.py", "selectors.py")]
    found += [ROOT / name for name in MORE_SERVICE_MODULES]  # each must be there: a moved module is listed anew
    return [path for path in found if path.exists() or path.relative_to(ROOT).as_posix() in MORE_SERVICE_MODULES]


def test_the_list_of_service_modules_is_not_empty():
    assert len(service_modules()) >= 20


@pytest.mark.parametrize("path", service_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_service_modules_know_nothing_of_http(path):
    relative = str(path.relative_to(ROOT))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django.http"):
            problems.append(f"line {node.lineno}: imports from {node.module}")
        if isinstance(node, ast.Import) and any(alias.name.startswith("django.http") for alias in node.names):
            problems.append(f"line {node.lineno}: imports django.http")
        if isinstance(node, ast.Name) and node.id == "Http404":
            problems.append(f"line {node.lineno}: Http404")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (relative, node.name) not in REQUEST_ALLOWED:
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            if any(argument.arg == "request" for argument in arguments):
                problems.append(f"line {node.lineno}: {node.name}() takes a request")
    assert problems == []


def test_the_domain_not_found_is_no_http_exception():
    assert not issubclass(NotFound, Http404)


def _entry_point(dotted: str):
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("dotted", DURABLE_ENTRY_POINTS)
def test_a_service_entry_point_refuses_to_run_inside_another_transaction(db, dotted):
    service = _entry_point(dotted)
    # The durable block is entered before the arguments are looked at.
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        service()


def test_a_durable_service_still_runs_on_its_own_in_a_test(world):
    from accounts.passwords import password_changed

    password_changed(user=world.lead_responder)


def test_pages_answer_another_agencys_case_as_a_missing_one(client, world, case):
    client.force_login(world.outsider_responder)
    hidden = client.get(f"/cases/{case.pk}/")
    missing = client.get(f"/cases/{case.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert [t.name for t in hidden.templates][:1] == [t.name for t in missing.templates][:1] == ["404.html"]


def test_the_api_answers_another_agencys_case_as_a_missing_one(client, world, case):
    client.force_login(world.outsider_responder)
    hidden = client.get(f"/api/cases/{case.pk}/")
    missing = client.get(f"/api/cases/{case.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert hidden["Content-Type"] == missing["Content-Type"] == "application/json"


def test_a_shared_case_still_opens(client, world, case):
    share(world, case, agency=world.health, granted=["medical"])
    client.force_login(world.receiving_responder)
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    assert client.get(f"/api/cases/{case.pk}/").status_code == 200
