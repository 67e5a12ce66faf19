"""The Vietnamese catalog is complete, so untranslated text cannot land; the compiled catalog is fresh."""

import re
from pathlib import Path

from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
VI_PO = LOCALE / "vi" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]")


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
