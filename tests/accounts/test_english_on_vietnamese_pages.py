"""Issue 16 part 10: no English on a Vietnamese page. Every HTML page of the URL conf (outside Django's
admin and the API documentation) is rendered for every role with Vietnamese active, and its visible
text is searched for common English words: a string left out of the catalog, translated at import
time, or built in Python without gettext shows up here even when no catalog entry names it."""

import re

import pytest
from django.test import Client

from tests.accounts.test_translations import _VisibleText, sent_referral  # noqa: F401 - a fixture
from tests.supervision.conftest import grant_break_glass
from tests.support.urls import concrete, url_patterns

# Words that occur in almost any English sentence or label and in no Vietnamese one.
ENGLISH = re.compile(
    r"\b(the|and|of|to|your|with|for|this|that|is|are|not|has|have|was|been|will|from|by|on|at|or|no|yes|"
    r"none|all|new|open|close|closed|case|cases|agency|send|sent|save|cancel|back|next|home|page|date|time|"
    r"estimated|unknown|referral|handoff|transfer|consent|deadline|override)\b",
    re.I,
)
# Shown as they are on purpose: the product's name, language names in their own language, codes.
ALLOWED = {"HopLuc", "English", "EN", "VI", "CSV", "XLSX", "PDF", "DHIS2", "API", "SMS", "TOTP"}
SKIPPED = ("/admin/", "/api/", "/healthz", "/i18n/", "/logout/")


def _english_words(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    found = []
    for chunk in parser.chunks:
        if chunk in ALLOWED or "@" in chunk:  # addresses, usernames
            continue
        if ENGLISH.search(chunk):
            found.append(chunk[:80])
    return found


@pytest.mark.django_db
def test_no_page_of_any_role_shows_english_in_vietnamese(world, sent_referral):  # noqa: F811
    grant_break_glass(world.outsider_responder)
    ids = {"case_id": sent_referral.case_id, "handoff_id": sent_referral.pk, "agency_id": world.police.pk}
    paths = sorted({concrete(pattern, ids) for pattern in url_patterns()} - {"/"})
    paths = [path for path in paths if not path.startswith(SKIPPED)] + ["/khong-co-trang-nay/"]
    roles = {"anonymous": None, "responder": world.lead_responder, "receiver": world.receiving_responder,
             "supervisor": world.lead_supervisor, "agency_admin": world.lead_admin, "analyst": world.analyst,
             "break_glass": world.outsider_responder, "sysadmin": world.sysadmin}
    problems, pages = {}, 0
    for role, user in roles.items():
        client = Client(HTTP_ACCEPT_LANGUAGE="vi")
        if user is not None:
            client.force_login(user)
        for path in paths:
            response = client.get(path, follow=user is None)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            pages += 1
            found = _english_words(response.content.decode())
            if found:
                problems[f"{role} {path}"] = found
    print(f"{pages} Vietnamese pages checked")
    assert pages > 80
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())


@pytest.mark.django_db
def test_the_check_sees_english_where_there_is_some(world):
    """The same search finds English on the English pages (a check that cannot fail is worse than none)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.lead_responder)
    assert _english_words(client.get("/cases/").content.decode())
    assert _english_words(Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/").content.decode())
    assert _english_words('<p>Năm sinh 1990 (estimated)</p>') == ["Năm sinh 1990 (estimated)"]
