"""Supervision pages: each shows the agency's own data, refuses everyone else, and keeps a query budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from handoffs.services import handoff_decline
from tests.cases.services_helpers import consent_data, open_case
from tests.supervision.conftest import DAY, REGISTER_ONCE, send

pytestmark = REGISTER_ONCE

REFUSED = ["lead_responder", "receiving_responder", "lead_admin", "analyst", "province_analyst", "sysadmin"]


def pages(register, use, consent) -> list[str]:
    return [
        "/supervision/",
        f"/supervision/handoffs/{register.h1.pk}/",
        "/supervision/reviews/",
        f"/supervision/consent-overrides/{consent.pk}/",
        f"/supervision/break-glass/{use.pk}/",
        "/supervision/access/",
        "/supervision/access/export.csv",
        "/supervision/unusual-access/",
        "/supervision/dashboard/",
    ]


@pytest.fixture
def paths(register, break_glass_use, consent_override):
    return pages(register, break_glass_use, consent_override)


def test_the_lead_supervisor_opens_every_page(world, web, paths):
    client = web(world.lead_supervisor)
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path


@pytest.mark.parametrize("who", REFUSED)
def test_everyone_but_supervisors_is_refused(world, web, paths, who):
    client = web(getattr(world, who))
    for path in paths:
        assert client.get(path).status_code == 403, (who, path)


def test_anonymous_is_sent_to_sign_in(db, web, paths):
    for path in paths:
        response = web().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), path


def test_a_supervisor_of_another_agency_is_refused_the_agency_and_its_items(world, web, register, paths):
    client = web(world.outsider_supervisor)
    for path in paths:
        if "/break-glass/" in path:
            # The break-glass user works for the school: its supervisor reviews the use, rightly.
            assert client.get(path).status_code == 200
        elif path.rstrip("/").split("/")[-1].isdigit():
            assert client.get(path).status_code == 404, path
        else:
            assert client.get(f"{path}?agency={world.police.pk}").status_code == 403, path
    # Their own register holds nothing of the police's.
    body = client.get("/supervision/").content.decode()
    assert register.h1.case.number not in body and 'data-testid="register-empty"' in body


def test_the_receiving_supervisor_sees_received_handoffs_but_not_the_police_access_log(world, web, register):
    client = web(world.receiving_supervisor)
    assert client.get(f"/supervision/handoffs/{register.h1.pk}/").status_code == 200
    assert client.get(f"/supervision/handoffs/{register.h3.pk}/").status_code == 404
    body = client.get("/supervision/access/").content.decode()
    assert register.h1.case.number not in body


def test_bad_filters_are_form_errors_not_500(world, web, register):
    client = web(world.lead_supervisor)
    for path in ["/supervision/?since=yesterday", "/supervision/?status=lost", "/supervision/?counterpart=999999",
                 "/supervision/?since=2026-03-02&until=2026-03-01", "/supervision/?more_than=-1",
                 "/supervision/access/?case=XX-0000-000000", "/supervision/access/?action=dance",
                 "/supervision/unusual-access/?min_cases=0", "/supervision/dashboard/?weeks=99",
                 "/supervision/access/export.csv?category=secret"]:
        assert client.get(path).status_code == 400, path
    assert client.get("/supervision/?agency=abc").status_code == 400
    # "²" is a digit to str.isdigit(), not to int(): every supervision page answered 500.
    assert client.get("/supervision/?agency=²").status_code == 400
    assert client.get("/supervision/access/?agency=99999999999999999999").status_code == 400


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200, path
    return len(captured.captured_queries)


LIST_PAGES = ["/supervision/", "/supervision/reviews/", "/supervision/access/", "/supervision/unusual-access/",
              "/supervision/dashboard/"]


@pytest.mark.parametrize("path", LIST_PAGES)
def test_list_pages_keep_their_query_budget_as_data_grows(world, web, register, path):
    client = web(world.lead_supervisor)
    client.get(path)
    before = _queries(client, path)
    assert before <= 20, before
    for _ in range(4):
        case = open_case(world, consent=consent_data(world))
        declined = send(world, case, urgency="standard")
        handoff_decline(user=world.receiving_responder, handoff_id=declined.pk, reason="Ngoài phạm vi chuyên môn.")
        send(world, case)
        web(world.receiving_responder).get(f"/cases/{register.h1.case_id}/")
        web(world.lead_responder).get(f"/cases/{register.h2.case_id}/")
    assert _queries(client, path) == before


def test_the_register_page_shows_the_figures_and_the_filtered_rows(world, web, register):
    client = web(world.lead_supervisor)
    body = client.get("/supervision/").content.decode()
    assert 'data-testid="figure-total">5<' in body
    assert 'data-testid="figure-missed">2<' in body
    assert "Không đủ giường bệnh." in body
    since = (register.now - 30 * DAY).date().isoformat()
    body = client.get(f"/supervision/?since={since}&overdue=on").content.decode()
    assert f'data-testid="handoff-{register.h3.pk}"' in body
    assert f'data-testid="handoff-{register.h2.pk}"' not in body
    body = client.get(f"/supervision/?since={since}&status=declined").content.decode()
    assert f'data-testid="handoff-{register.h2.pk}"' in body and f'data-testid="handoff-{register.h1.pk}"' not in body


def test_the_handoff_page_shows_timeline_and_readers(world, web, register):
    web(world.receiving_responder).get(f"/cases/{register.h1.case_id}/")
    body = web(world.lead_supervisor).get(f"/supervision/handoffs/{register.h1.pk}/").content.decode()
    for key in ("sent", "viewed", "accepted", "first_action", "completed"):
        assert f'data-milestone="{key}"' in body, key
    assert 'data-testid="case-readers"' in body and "receiving_responder" in body


def test_the_supervisor_home_of_accounts_is_the_register(world, web):
    response = web(world.lead_supervisor).get("/supervision/")
    assert [t.name for t in response.templates][0] == "supervision/register.html"
    assert not AuditEvent.objects.filter(action="export").exists()


def test_the_register_pages_count_is_the_registers_length_filtered_or_not(world, web, register):
    """The pager's count is the summary's total: the register's length, filtered or not."""
    from supervision.selectors import handoff_register

    assert handoff_register(agency=world.police).count() == 5
    client = web(world.lead_supervisor)
    assert client.get("/supervision/").context["page"].paginator.count == 5
    assert client.get("/supervision/?status=declined").context["page"].paginator.count == (
        handoff_register(agency=world.police).filter(status="declined").count())
    assert client.get("/supervision/?status=declined").context["page"].paginator.count == 1  # H2
