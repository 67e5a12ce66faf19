"""The Vietnamese catalog is complete, so untranslated text cannot land; the compiled catalog is fresh;
texts kept as data reach the catalog; pages rendered in Vietnamese show no English catalog text."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cases.intake import forms as intake_forms
from cases.intake import services as intake_services
from cases.intake import steps as intake_steps
from handoffs.services import handoff_view
from notifications.models import LegalTimeLimit
from notifications.reference_data import TIME_LIMITS_FILE
from notifications.time_limit_labels import TIME_LIMIT_DESCRIPTIONS, TIME_LIMIT_SOURCES
from tests.cases.services_helpers import access_for, consent_data, handoff_send_through_edge, open_case
from tests.supervision.conftest import grant_break_glass

LOCALE = Path(settings.BASE_DIR) / "locale"
VI_PO = LOCALE / "vi" / "LC_MESSAGES" / "django.po"
# Every printf placeholder with its flags and width (%(m)02d is not %(m)d), bare %s/%d and a literal %%.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdrfi]|%[-#0 +]*\d*(?:\.\d+)?[sdrfi]|%%")


def _vi_catalog():
    with VI_PO.open("rb") as handle:
        return read_po(handle, locale="vi")


def _entries(catalog):
    return [message for message in catalog if message.id]


def _strings(message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def test_vi_catalog_header_is_not_fuzzy():
    # pybabel compile skips a fuzzy catalog entirely: everything would show in English.
    assert not _vi_catalog().fuzzy


def test_vi_catalog_has_one_plural_form():
    catalog = _vi_catalog()
    assert catalog.num_plurals == 1
    wrong = [m.id for m in _entries(catalog) if m.pluralizable and len(_strings(m)) != 1]
    assert not wrong, f"Vietnamese has one plural form; these have another number: {wrong}"


def test_vi_catalog_has_no_untranslated_or_fuzzy_entries():
    catalog = _vi_catalog()
    untranslated = [m.id for m in _entries(catalog) if not all(_strings(m))]
    fuzzy = [m.id for m in _entries(catalog) if m.fuzzy]
    assert not untranslated, f"Untranslated in {VI_PO}: {untranslated}"
    assert not fuzzy, f"Fuzzy in {VI_PO}: {fuzzy}"


def test_vi_translations_keep_every_placeholder():
    problems = []
    for message in _entries(_vi_catalog()):
        source = message.id if isinstance(message.id, str) else message.id[-1]
        for target in filter(None, _strings(message)):
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(target)):
                problems.append((source, target))
    assert not problems


def test_compiled_vi_catalog_is_in_use():
    mo = VI_PO.with_suffix(".mo")
    assert mo.exists(), "Run `make messages` to compile the translations."
    assert mo.stat().st_mtime >= VI_PO.stat().st_mtime, "The .mo is older than the .po: run `make messages`."
    with translation.override("vi"):
        assert translation.gettext("Sign in") == "Đăng nhập"


def test_every_time_limit_text_of_the_data_file_is_listed_for_the_catalog():
    rows = yaml.safe_load(TIME_LIMITS_FILE.read_text(encoding="utf-8"))
    assert sorted(TIME_LIMIT_DESCRIPTIONS) == sorted(row["description"] for row in rows)
    assert sorted(TIME_LIMIT_SOURCES) == sorted({row["source"] for row in rows})


def test_time_limit_descriptions_show_in_vietnamese():
    with translation.override("vi"):
        untranslated = [text for text in TIME_LIMIT_DESCRIPTIONS
                        if LegalTimeLimit(description=text).label == text]
    assert not untranslated


class _VisibleText(HTMLParser):
    """Text nodes and the attributes people read or hear (aria-label, title, placeholder, alt)."""

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        self.chunks += [value.strip() for key, value in attrs
                        if key in ("aria-label", "title", "placeholder", "alt") and value and value.strip()]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.chunks.append(data.strip())


def _english_sources() -> set[str]:
    """English msgids whose Vietnamese differs: one of them on a Vietnamese page was not translated."""
    english = set()
    for message in _entries(_vi_catalog()):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        if "%" in "".join(ids):
            continue
        english |= {text for text in ids if text not in _strings(message)}
    return english


@pytest.fixture
def sent_referral(world):
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    handoff = handoff_send_through_edge(access=access_for(world.lead_responder, case, "manage_sharing"),
                           actor=world.lead_responder, data={
                               "kind": "referral", "to_agency": world.health, "services": ["medical_care"],
                               "urgency": "urgent", "categories": ["medical"], "message": "Đề nghị hỗ trợ."})
    handoff_view(user=world.receiving_responder, handoff_id=handoff.pk)
    return handoff


def _english_on_pages(pages) -> dict[str, list[str]]:
    # The language switcher names each language in itself: "English" stays English on purpose.
    english = _english_sources() - {translation.get_language_info(code)["name_local"] for code, _ in settings.LANGUAGES}
    found = {}
    for user, url in pages:
        client = Client(HTTP_ACCEPT_LANGUAGE="vi")
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        parser = _VisibleText()
        parser.feed(response.content.decode())
        leftovers = [chunk for chunk in parser.chunks if chunk.rstrip(":") in english]
        if leftovers:
            found[url] = leftovers
    return found


def _pages(user, *names: str, args=()) -> list[tuple]:
    """(who asks, address) for each URL name."""
    return [(user, reverse(name, args=args)) for name in names]


def test_pages_in_vietnamese_show_no_english_catalog_text(world, sent_referral):
    """Catches text translated at import time (gettext instead of gettext_lazy at module level), data
    shown without its translation (a time limit's description and legal source on the case page) and a
    stale .mo, on the pages of every role."""
    case_id, handoff_id = sent_referral.case_id, sent_referral.pk
    grant_break_glass(world.outsider_responder)
    responder, receiver, supervisor = world.lead_responder, world.receiving_responder, world.lead_supervisor
    draft = intake_services.draft_create(user=responder, agency=world.police, step="check", values={
        **intake_forms.draft_defaults(agency=world.police), "full_name": ["Lê Thị Lan"], "age": ["12"],
        "what_happened": ["physical_assault"], "share": ["yes"], "consent_receiving_sector": ["health"],
        "consent_granted_categories": ["medical"], "consent_given_by": ["survivor_and_guardian"],
    })
    pages = [
        *_pages(None, "accounts:login"),
        *_pages(responder, "accounts:responder_home", "cases:list", "cases:open", "cases:intake", "handoffs:outgoing",
                "notifications:centre", "notifications:preferences", "notifications:deadlines",
                "accounts:password_change", "accounts:mfa_setup", "accounts:signins"),
        *[(responder, reverse("cases:intake-step", args=[draft.pk, step])) for step in intake_steps.STEP_KEYS],
        *_pages(responder, "cases:detail", "cases:action-log", "cases:consent-record", "cases:takedown-request",
                "case-deadlines:set", "handoffs:send", args=[case_id]),
        (responder, reverse("handoffs:send", args=[case_id]) + f"?to_agency={world.school.pk}"),
        *_pages(responder, "handoffs:detail", args=[handoff_id]),
        *_pages(receiver, "handoffs:incoming", "notifications:centre"),
        *_pages(receiver, "handoffs:detail", args=[handoff_id]),
        *_pages(supervisor, "supervision:register", "supervision:queue", "supervision:access",
                "supervision:unusual-access", "supervision:dashboard"),
        *_pages(supervisor, "supervision:handoff", args=[handoff_id]),
        *_pages(world.lead_admin, "agencies:staff", args=[world.police.pk]),
        *_pages(world.analyst, "accounts:analyst_home"),
        *_pages(world.outsider_responder, "break-glass:open"),
    ]
    found = _english_on_pages(pages)
    assert not found, f"English on Vietnamese pages: {found}"
