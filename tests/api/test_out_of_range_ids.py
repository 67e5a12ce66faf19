"""An id no bigint key can hold is a missing object, never a 500: the hand-written statements behind a
case's and a handoff's read (config.exceptions.row_id_or_not_found) answer as the ORM would."""

import pytest

TOO_BIG = str(2**63)  # one past the largest bigint
EDGE = str(2**63 - 1)  # the largest bigint: a well-formed id of no row


@pytest.mark.django_db
@pytest.mark.parametrize("number", [TOO_BIG, EDGE, "0", "9" * 30])
@pytest.mark.parametrize("path", ["/cases/{}/", "/handoffs/{}/"])
def test_pages_answer_404(world, web, path, number):
    assert web(world.lead_responder).get(path.format(number)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("number", [TOO_BIG, EDGE, "0", "9" * 30])
@pytest.mark.parametrize("path", ["/api/cases/{}/", "/api/handoffs/{}/"])
def test_api_answers_404(world, api, path, number):
    assert api(world.lead_responder).get(path.format(number)).status_code == 404
