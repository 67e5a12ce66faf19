"""Issue 16 part 10: one glossary (docs/glossary.yaml) for the domain terms, used by the Vietnamese
catalog; every translatable text of the code and templates has a Vietnamese translation."""

import io
import re
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize
from jinja2.ext import babel_extract

BASE = Path(settings.BASE_DIR)
GLOSSARY = yaml.safe_load((BASE / "docs" / "glossary.yaml").read_text(encoding="utf-8"))
VI_PO = BASE / "locale" / "vi" / "LC_MESSAGES" / "django.po"
APPS = ("accounts", "agencies", "audit", "cases", "config", "notifications", "permissions", "reports", "supervision")
KEYWORDS = {"_": None, "gettext": None, "gettext_lazy": None, "gettext_noop": None, "pgettext": ((1, "c"), 2),
            "pgettext_lazy": ((1, "c"), 2), "ngettext": (1, 2), "ngettext_lazy": (1, 2), "npgettext": ((1, "c"), 2, 3),
            "npgettext_lazy": ((1, "c"), 2, 3)}


def _catalog():
    with VI_PO.open("rb") as handle:
        return read_po(handle, locale="vi")


def _pairs():
    for message in _catalog():
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        yield ids[0], strings[0] or ""


def test_the_glossary_gives_each_term_one_distinct_vietnamese_word():
    terms = [entry["term"] for entry in GLOSSARY]
    assert {"handoff", "referral", "transfer", "consent", "override", "break-glass", "deadline"} <= set(terms)
    words = [entry["vi"] for entry in GLOSSARY]
    assert len(set(words)) == len(words)
    # No word is a part of another term's word: "chuyển giao" alone would mean both handoff and transfer.
    for entry in GLOSSARY:
        for other in GLOSSARY:
            if entry is not other:
                assert entry["vi"] not in other["vi"] or entry["term"] in ("consent",), (entry["vi"], other["vi"])


@pytest.mark.parametrize("entry", GLOSSARY, ids=lambda entry: entry["term"])
def test_the_catalog_uses_the_glossary_word_for_each_term(entry):
    english, vietnamese = re.compile(entry["english_pattern"], re.I), re.compile(entry["vi_pattern"], re.I)
    wrong = [(msgid, msgstr) for msgid, msgstr in _pairs() if english.search(msgid) and not vietnamese.search(msgstr)]
    assert not wrong, f"{entry['term']} should be “{entry['vi']}” in:\n" + "\n".join(map(repr, wrong))


def test_chuyen_giao_means_only_the_transfer_of_the_lead():
    """“Chuyển giao” meant both handoff and transfer; it is now only ever “chuyển giao chủ trì”."""
    wrong = [(msgid, msgstr) for msgid, msgstr in _pairs() if re.search(r"chuyển giao(?! chủ trì)", msgstr, re.I)]
    assert not wrong


def _collect(found: dict, path: Path, code: bytes) -> None:
    for _line, function, message, _comments in extract_python(io.BytesIO(code), KEYWORDS, [], {"encoding": "utf-8"}):
        texts = message if isinstance(message, tuple) else (message,)
        # pgettext("context", "text"): the text is the second argument.
        text = texts[1] if function.startswith(("pgettext", "npgettext")) and len(texts) > 1 else texts[0]
        if text:
            found.setdefault(text, str(path.relative_to(BASE)))


def _collect_jinja2(found: dict, where: str, template) -> None:
    """The msgids of a Jinja2 template (`_()`, `gettext()`, `{% trans %}` blocks), as Babel's Jinja2 extractor
    reads them with the pages' environment's settings (newstyle gettext: "%(name)s" as blocktranslate)."""
    options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
    for _line, function, message, _comments in babel_extract(template, KEYWORDS, [], options):
        texts = message if isinstance(message, tuple) else (message,)
        text = texts[1] if function.startswith(("pgettext", "npgettext")) and len(texts) > 1 else texts[0]
        if text:
            found.setdefault(text, where)


def test_the_jinja2_extraction_finds_calls_and_trans_blocks():
    found: dict = {}
    _collect_jinja2(found, "sample", io.BytesIO(
        b'{{ _("Sign in") }} <b title="{{ gettext(\'Open\') }}">{% trans n=count %}{{ n }} case{% pluralize %}'
        b'{{ n }} cases{% endtrans %}</b>{% trans agency=a.name %}Sent to {{ agency }}{% endtrans %}'))
    assert set(found) == {"Sign in", "Open", "%(n)s case", "Sent to %(agency)s"}


def _source_msgids() -> dict[str, str]:
    """Every msgid the Python code and the templates pass to gettext, as makemessages would find them."""
    found = {}
    for app in APPS:
        for path in (BASE / app).rglob("*.py"):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            _collect(found, path, path.read_bytes())
    for path in [*(BASE / "templates").rglob("*.html"), *(BASE / "templates").rglob("*.txt")]:
        # templatize writes what xgettext reads as Python; Babel's tokenizer needs no indentation.
        code = "\n".join(line.lstrip() for line in templatize(path.read_text(encoding="utf-8"),
                                                               origin=str(path)).splitlines())
        _collect(found, path, code.encode("utf-8"))
    for path in [*(BASE / "jinja2_templates").rglob("*.html"), *(BASE / "jinja2_templates").rglob("*.txt")]:
        with path.open("rb") as template:
            _collect_jinja2(found, str(path.relative_to(BASE)), template)
    return found


def test_every_translatable_text_of_the_code_and_templates_has_a_vietnamese_translation():
    """Catches a text added without its catalog entry (“(estimated)” showed in English on Vietnamese
    pages): makemessages is not run in this project, so nothing else would notice."""
    translated = {msgid for msgid, msgstr in _pairs() if msgstr}
    # pgettext entries are keyed by context in the catalog; compare the plain ids.
    sources = _source_msgids()
    assert len(sources) > 500
    missing = {text: where for text, where in sources.items() if text not in translated}
    assert not missing, "No Vietnamese for:\n" + "\n".join(f"{where}: {text!r}" for text, where in missing.items())


def test_no_gettext_call_hides_inside_an_f_string():
    """f"{x} ({_('estimated')})" is one string token to the extractor: the text never reached the
    catalog and showed in English on Vietnamese pages."""
    hidden = re.compile(r"""\bf(["'])[^"'\n]*\{\s*(_|gettext|pgettext|ngettext)\(""")
    found = [f"{path.relative_to(BASE)}:{number}" for app in APPS for path in (BASE / app).rglob("*.py")
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if hidden.search(line)]
    assert not found
