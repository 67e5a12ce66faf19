"""Issue 16 part 7: one date-and-time format per language. Vietnamese "16:14 05/12/2026"; English
"5 Dec 2026, 16:14"; never "12/05/2026 4:14 a.m." beside "16:14 05/12/2026" on one page."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template, engines
from django.utils import timezone, translation

from config.formats import datetime_text
from tests.conftest import sign_in

MOMENT = datetime.datetime(2026, 12, 5, 9, 14, tzinfo=datetime.UTC)  # 16:14 in Hà Nội
EXPECTED = {"vi": "16:14 05/12/2026", "en": "5 Dec 2026, 16:14"}
VI_DATETIME = re.compile(r"\b\d{2}:\d{2} \d{2}/\d{2}/\d{4}\b")
EN_DATETIME = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}\b")
TWELVE_HOUR = re.compile(r"\d{1,2}:\d{2} ?(a\.m\.|p\.m\.|AM|PM)|\b\d{1,2} (a\.m\.|p\.m\.)")


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_way_a_template_or_python_writes_a_moment_gives_the_one_format(language):
    template = Template(
        '{{ m }}|{{ m|date:"DATETIME_FORMAT" }}|{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m|date:"SHORT_DATE_FORMAT" }}'
        '|{{ m|date:"DATE_FORMAT" }}'
    )
    # The pages' engine (Jinja2, config/jinja2.py): the same value, the same filters with Django's meaning.
    page_template = engines["jinja2"].from_string(
        '{{ m }}|{{ m|date("DATETIME_FORMAT") }}|{{ m|date("SHORT_DATETIME_FORMAT") }}'
        '|{{ m|date("SHORT_DATE_FORMAT") }}|{{ m|date("DATE_FORMAT") }}'
    )
    with translation.override(language), timezone.override("Asia/Ho_Chi_Minh"):
        rendered = template.render(Context({"m": MOMENT})).split("|")
        page_rendered = page_template.render({"m": MOMENT}).split("|")
        assert datetime_text(MOMENT) == EXPECTED[language]
    for result in (rendered, page_rendered):
        assert result[:3] == [EXPECTED[language]] * 3
        assert result[3] == result[4] == {"vi": "05/12/2026", "en": "5 Dec 2026"}[language]


def test_templates_name_a_format_rather_than_write_one():
    """A literal format ("H:i d/m/Y") would be the same in both languages: English pages mixed them."""
    named = "DATETIME_FORMAT|SHORT_DATETIME_FORMAT|DATE_FORMAT|SHORT_DATE_FORMAT|TIME_FORMAT|YEAR_MONTH_FORMAT"
    # |date:"…" (Django's template language) and |date("…") (Jinja2's).
    literal = re.compile(r"""\|(date|time)(:|\(\s*)["'](?!(""" + named + r"""|MONTH_DAY_FORMAT|c|D|Y-m|Y-m-d|U)["'])""")
    found = [f"{path}: {match.group(0)}" for folder in ("templates", "jinja2_templates")
             for path in Path(settings.BASE_DIR, folder).rglob("*.html")
             for match in literal.finditer(path.read_text())]
    assert not found


def test_python_code_writes_no_date_format_of_its_own():
    pattern = re.compile(r"strftime\(\"%H:%M %d/%m/%Y|%d/%m/%Y %H:%M")
    found = [str(path) for app in ("accounts", "agencies", "cases", "notifications", "reports", "supervision",
                                   "audit", "permissions", "config")
             for path in Path(settings.BASE_DIR, app).rglob("*.py") if pattern.search(path.read_text())]
    assert not found


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_page_shows_times_in_its_language_format_only(world, client, language):
    sign_in(client, "lead_responder")
    body = client.get("/account/sessions/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    own, other = (VI_DATETIME, EN_DATETIME) if language == "vi" else (EN_DATETIME, VI_DATETIME)
    assert own.search(body), body
    assert not other.search(body) and not TWELVE_HOUR.search(body)
