"""The case page's reads (issue 15): on PostgreSQL its incidents and the panels' probes come in the case read's
own statement (cases.selectors.case_get_for_page), and its consent card reads nothing for a case without any
consent. What the page reads, refuses and shows is what the separate reads gave."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.selectors import (
    CONSENTS_PANEL,
    case_get_for_page,
    case_get_for_user,
    case_page_has_none,
    case_prefetch_for_page,
)
from config.exceptions import NotFound
from tests.cases.conftest import case_build
from tests.cases.services_helpers import access_for, consent_data, consent_record_through_edge

# The page's statements but transaction control, and its HTML.
from tests.conferences.test_case_page_panels import _page

pytestmark = pytest.mark.django_db
POSTGRESQL = connection.vendor == "postgresql"


def _read(access) -> tuple:
    incidents = [(i.pk, i.occurred_on, i.reported_on, i.gbv_type, i.tech_forms, i.province.name,
                  i.commune.name if i.commune else None, i.case is access.case) for i in access.case.incidents.all()]
    return (access, access.case.number, access.case.survivor.pseudonym, access.case.lead_agency.name, incidents,
            access.shared_reads.get("none_of"))


def test_the_page_read_gives_what_the_case_read_and_the_prefetch_gave(world):
    case = case_build(world)
    consent_record_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                                actor=world.lead_responder, data=consent_data(world))
    for user in (world.lead_responder, world.receiving_responder, world.lead_supervisor):
        try:
            separate = case_get_for_user(user=user, case_id=case.pk)
        except NotFound:
            with pytest.raises(NotFound):
                case_get_for_page(user=user, case_id=case.pk)
            continue
        with CaptureQueriesContext(connection) as separate_queries:
            separate = case_get_for_user(user=user, case_id=case.pk)
            case_prefetch_for_page(separate)
        with CaptureQueriesContext(connection) as queries:
            together = case_get_for_page(user=user, case_id=case.pk)
        assert _read(together) == _read(separate) and together.case.incidents.all()
        assert len(queries) == len(separate_queries) - (1 if POSTGRESQL else 0)
        assert (together.shared_reads.get("none_of") is not None) == POSTGRESQL
    with pytest.raises(NotFound):
        case_get_for_page(user=world.outsider_responder, case_id=case.pk)
    with pytest.raises(NotFound):
        case_get_for_page(user=world.lead_responder, case_id=case.pk + 1000)


def test_the_consent_card_reads_only_when_the_case_has_consent(world, client):
    case = case_build(world)
    client.force_login(world.lead_responder)
    client.get("/cases/")  # a session's first request reads the person apart
    before, html = _page(client, case)
    assert 'data-testid="consents"' not in html and 'aria-labelledby="consents"' in html
    assert case_page_has_none(_prefetched(world, case), CONSENTS_PANEL) == POSTGRESQL

    consent = consent_record_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                                          actor=world.lead_responder, data=consent_data(world))
    after, html = _page(client, case)
    assert 'data-testid="consents"' in html and f'data-testid="withdraw-consent-{consent.pk}"' in html
    assert not case_page_has_none(_prefetched(world, case), CONSENTS_PANEL)
    # The consent recorded also shares the case with health, which changes no read of the lead's page.
    assert after == (before + 1 if POSTGRESQL else before)


def _prefetched(world, case):
    return case_get_for_page(user=world.lead_responder, case_id=case.pk)
