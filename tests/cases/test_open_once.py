"""The one-page "open a case" form (/cases/new/) opens one case however often it is sent: each rendered form
carries a token (cases.models.CaseOpening), and a second request with it, a double tap on a slow connection
or the form sent again, is shown the case the first opened (cases.services.case_open_once)."""

import re
import uuid

import pytest
from django.db import connection

from cases.forms import CaseOpenForm
from cases.models import Case, CaseOpening
from cases.services import case_open_once
from tests.support.sql import second_waits_for_first

from .test_pages import _open_form


def _token(client) -> str:
    page = client.get("/cases/new/").content.decode()
    return re.search(r'name="open_token" value="([0-9a-f-]{36})"', page).group(1)


def test_each_rendered_form_has_its_own_token(world, web):
    client = web(world.lead_responder)
    assert _token(client) != _token(client)


def test_the_form_sent_twice_opens_one_case_and_shows_it_both_times(world, web):
    client = web(world.lead_responder)
    data = _open_form(open_token=_token(client))
    first = client.post("/cases/new/", data)
    case = Case.objects.get()
    assert first.status_code == 302 and first["Location"] == f"/cases/{case.pk}/"
    again = client.post("/cases/new/", data)
    assert again.status_code == 302 and again["Location"] == f"/cases/{case.pk}/"
    assert Case.objects.count() == 1


def test_a_form_refused_then_corrected_keeps_its_token_and_opens_the_case(world, web):
    client = web(world.lead_responder)
    token = _token(client)
    refused = client.post("/cases/new/", _open_form(open_token=token, province=""))
    assert refused.status_code == 200 and f'value="{token}"' in refused.content.decode()
    assert client.post("/cases/new/", _open_form(open_token=token)).status_code == 302
    assert Case.objects.count() == 1 and CaseOpening.objects.get().case == Case.objects.get()


def test_someone_elses_token_shows_nothing_of_their_case(world, web):
    owner = web(world.lead_responder)
    token = _token(owner)
    owner.post("/cases/new/", _open_form(open_token=token))
    other = web(world.lead_supervisor).post("/cases/new/", _open_form(open_token=token))
    assert other.status_code == 302 and other["Location"] == "/cases/"
    assert Case.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite serializes writes")
def test_the_form_sent_twice_at_once_opens_one_case(transactional_db, world, web):
    """The double tap itself: the second request arrives while the first is still in its transaction; it
    waits on the token's key, then is shown the first one's case."""
    token = uuid.uuid4()
    form = CaseOpenForm(_open_form(), agencies=[world.police])
    assert form.is_valid(), form.errors
    first, second = second_waits_for_first(
        lambda: case_open_once(token=token, actor=world.lead_responder, **form.service_arguments()),
        lambda: web(world.lead_responder).post("/cases/new/", _open_form(open_token=str(token))),
    )
    assert second.status_code == 302 and second["Location"] == f"/cases/{first.pk}/"
    assert list(Case.objects.values_list("pk", flat=True)) == [first.pk]
