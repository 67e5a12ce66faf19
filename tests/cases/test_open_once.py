"""The one-page "open a case" form (/cases/new/) opens one case however often it is sent: each rendered form
carries a token (cases.models.FormSending), and a second request with it, a double tap on a slow connection
or the form sent again, is shown the case the first opened (cases.sending, cases.pages.case_open_posted)."""


import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Case, CaseNumberSequence, FormSending
from tests.support.pages import page_token
from tests.support.sql import two_sendings_at_once

from .test_pages import _open_form


def _token(client) -> str:
    page = client.get("/cases/new/").content.decode()
    return page_token(page)


def test_each_rendered_form_has_its_own_token(world, web):
    client = web(world.lead_responder)
    assert _token(client) != _token(client)


def test_the_form_sent_twice_opens_one_case_and_shows_it_both_times(world, web):
    client = web(world.lead_responder)
    data = _open_form(sending_token=_token(client))
    first = client.post("/cases/new/", data)
    case = Case.objects.get()
    assert first.status_code == 302 and first["Location"] == f"/cases/{case.pk}/"
    again = client.post("/cases/new/", data)
    assert again.status_code == 302 and again["Location"] == f"/cases/{case.pk}/"
    assert Case.objects.count() == 1


def test_a_form_refused_then_corrected_keeps_its_token_and_opens_the_case(world, web):
    client = web(world.lead_responder)
    token = _token(client)
    refused = client.post("/cases/new/", _open_form(sending_token=token, province=""))
    assert refused.status_code == 200 and f'value="{token}"' in refused.content.decode()
    assert client.post("/cases/new/", _open_form(sending_token=token)).status_code == 302
    assert Case.objects.count() == 1 and FormSending.objects.get().location == f"/cases/{Case.objects.get().pk}/"


def test_someone_elses_token_shows_nothing_of_their_case(world, web):
    owner = web(world.lead_responder)
    token = _token(owner)
    owner.post("/cases/new/", _open_form(sending_token=token))
    other = web(world.lead_supervisor).post("/cases/new/", _open_form(sending_token=token))
    assert other.status_code == 409 and "/cases/" not in other.get("Location", "")
    assert token not in other.content.decode()
    assert Case.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; SQLite serializes writes")
def test_the_form_sent_twice_at_once_opens_one_case(transactional_db, world, web, monkeypatch):
    """The double tap itself: the first request is held inside case_open (the case number's row lock, held
    here); the second arrives meanwhile, waits for the first, then is shown the case it opened."""
    first_client, second_client = web(world.lead_responder), web(world.lead_responder)
    data = _open_form(sending_token=_token(first_client))
    sequence = CaseNumberSequence.objects.get_or_create(province=world.police.province, year=timezone.localdate().year)
    first, second = two_sendings_at_once(
        lambda: CaseNumberSequence.objects.select_for_update().get(pk=sequence[0].pk),
        lambda: first_client.post("/cases/new/", data), lambda: second_client.post("/cases/new/", data), monkeypatch)
    case = Case.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/cases/{case.pk}/"
