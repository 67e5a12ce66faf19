"""Query budgets of the supervision pages and API endpoints that had none (issue 15): each read costs a
fixed number of queries, whatever the agency's backlog; the first request warms the session."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.supervision.conftest import REGISTER_ONCE
from tests.supervision.test_api import GETS
from tests.supervision.test_pages import pages

pytestmark = REGISTER_ONCE

# Page or endpoint: the most queries one request may make (measured at issue 15, not to rise).
PAGE_BUDGETS = {
    # The home, the review queue and the dashboard: 15, 18 and 17 before their reads were compiled and
    # merged (issue 15, the mixed load's supervisor pages).
    "/supervision/": 12,
    "/supervision/reviews/": 10,
    "/supervision/dashboard/": 11,
    "/supervision/handoffs/{h1}/": 14,
    "/supervision/consent-overrides/{consent}/": 10,
    "/supervision/break-glass/{use}/": 11,
    "/supervision/access/export.csv": 11,
}
API_BUDGETS = {
    "/api/supervision/handoffs/summary/": 9,
    "/api/supervision/handoffs/{h1}/": 11,
    "/api/supervision/access/": 5,
    "/api/supervision/access/export.csv": 9,
    "/api/supervision/unusual-access/": 10,
}
# An export writes its audit event; SQLite chains it inside the request (two statements more), PostgreSQL
# leaves that to the worker.
AUDITED = {"/supervision/access/export.csv", "/api/supervision/access/export.csv"}


def _budget(budgets: dict[str, int], path: str) -> int:
    return budgets[path] + (2 if path in AUDITED and connection.vendor == "sqlite" else 0)


def _count(client, path) -> tuple[int, list[str]]:
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def test_every_budgeted_path_is_a_supervision_path(register, break_glass_use, consent_override):
    known = set(pages(register, break_glass_use, consent_override)) | set(GETS)
    formatted = {p.format(h1=register.h1.pk, consent=consent_override.pk, use=break_glass_use.pk)
                 for p in PAGE_BUDGETS}
    assert formatted <= known and set(API_BUDGETS) <= set(GETS)


@pytest.mark.parametrize("path", list(PAGE_BUDGETS))
def test_page_budget(world, web, register, break_glass_use, consent_override, path):
    url = path.format(h1=register.h1.pk, consent=consent_override.pk, use=break_glass_use.pk)
    count, sqls = _count(web(world.lead_supervisor), url)
    assert count <= _budget(PAGE_BUDGETS, path), (path, count)


@pytest.mark.parametrize("path", list(API_BUDGETS))
def test_api_budget(world, api, register, path):
    count, sqls = _count(api(world.lead_supervisor), path.format(h1=register.h1.pk))
    assert count <= _budget(API_BUDGETS, path), (path, count)
