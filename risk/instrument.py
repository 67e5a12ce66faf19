"""The risk instrument: read from its versioned file, checked, and applied to a set of answers.

The file (settings.RISK_INSTRUMENT_FILE, by default risk/instruments/dash_vn.yaml) holds the items in
Vietnamese and English, the answers, the levels and each variant's rules. `instrument_load` checks
the whole file and raises InstrumentError listing every problem; RiskConfig.ready() loads it when
HopLuc starts, so a bad file stops the start with that list instead of failing on the first
assessment. `score` is the one place the rules are applied: the service, the page's preview and the
tests call it.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import get_language

from cases.models import RiskLevel
from notifications.reference_data import time_limit_records_read

ANSWERS = ("yes", "no", "not_known")
YES = "yes"
# The order of the levels: a judgement may move a level up this list, never down.
LEVEL_ORDER = tuple(RiskLevel.values)
HIGH = RiskLevel.HIGH.value


def level_rank(level: str) -> int:
    return LEVEL_ORDER.index(level)


class InstrumentError(ImproperlyConfigured):
    """The instrument file is wrong; `problems` says every place."""

    def __init__(self, path, problems: list[str]):
        self.problems = problems
        super().__init__(f"Risk instrument {path} is not valid:\n- " + "\n- ".join(problems))


@dataclass(frozen=True)
class Text:
    vi: str
    en: str

    def __str__(self) -> str:
        return self.en if (get_language() or "vi").startswith("en") else self.vi


@dataclass(frozen=True)
class Item:
    code: str
    topic: str
    text: Text


@dataclass(frozen=True)
class Band:
    min: int
    level: str
    name: Text


@dataclass(frozen=True)
class Variant:
    code: str
    title: Text
    items: tuple[Item, ...]
    visible_high_threshold: int
    bands: tuple[Band, ...]
    alone_high: frozenset[str]
    high_starts_time_limit: str = ""

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    title: Text
    variants: Mapping[str, Variant]


@dataclass(frozen=True)
class Result:
    """What the rules make of a complete set of answers. `reasons`: "threshold" (the visible high
    risk threshold was reached) and "alone_high:<item>" for each item that alone makes risk high."""

    score: int
    not_known: int
    band: Band
    level: str
    reasons: tuple[str, ...]


def score(variant: Variant, answers: Mapping[str, str]) -> Result:
    """Apply the variant's rules: the score is the number of "yes"; the band is the highest whose
    minimum the score reaches; reaching the threshold or a "yes" to an alone-high item makes the
    level at least high."""
    yes = [code for code in variant.item_codes if answers.get(code) == YES]
    total = len(yes)
    band = [b for b in variant.bands if b.min <= total][-1]
    reasons = []
    if total >= variant.visible_high_threshold:
        reasons.append("threshold")
    reasons += [f"alone_high:{code}" for code in yes if code in variant.alone_high]
    level = band.level
    if reasons and level_rank(level) < level_rank(HIGH):
        level = HIGH
    not_known = sum(1 for code in variant.item_codes if answers.get(code) == "not_known")
    return Result(score=total, not_known=not_known, band=band, level=level, reasons=tuple(reasons))


# --- Reading and checking the file ---------------------------------------------------------------


def _text(value, where: str, problems: list[str]) -> Text:
    if not isinstance(value, dict) or set(value) != {"vi", "en"} or not all(
            isinstance(v, str) and v.strip() for v in value.values()):
        problems.append(f"{where}: needs non-empty 'vi' and 'en' text")
        return Text("", "")
    return Text(vi=value["vi"].strip(), en=value["en"].strip())


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _variant(code: str, raw, problems: list[str], time_limit_codes: set[str]) -> Variant | None:
    where = f"variant {code}"
    if not isinstance(raw, dict) or not {"title", "rules", "items"} <= set(raw):
        problems.append(f"{where}: needs title, rules and items")
        return None
    title = _text(raw["title"], f"{where} title", problems)
    items: list[Item] = []
    seen: set[str] = set()
    raw_items = raw["items"] if isinstance(raw["items"], list) else []
    if not raw_items:
        problems.append(f"{where}: needs a list of items")
    for index, item in enumerate(raw_items, start=1):
        at = f"{where} item {index}"
        if not isinstance(item, dict) or set(item) != {"code", "topic", "text"}:
            problems.append(f"{at}: needs exactly code, topic and text")
            continue
        if not isinstance(item["code"], str) or not item["code"].isidentifier():
            problems.append(f"{at}: code must be a name of letters, digits and _")
            continue
        if item["code"] in seen:
            problems.append(f"{at}: code {item['code']} appears twice")
        seen.add(item["code"])
        if not isinstance(item["topic"], str) or not item["topic"].strip():
            problems.append(f"{at}: topic must be non-empty text")
        items.append(Item(code=item["code"], topic=str(item["topic"]), text=_text(item["text"], at, problems)))
    rules = raw["rules"] if isinstance(raw["rules"], dict) else {}
    known_rules = {"visible_high_threshold", "bands", "alone_high", "high_starts_time_limit"}
    if not rules or not {"visible_high_threshold", "bands"} <= set(rules) or set(rules) - known_rules:
        problems.append(f"{where} rules: needs visible_high_threshold and bands, and may have alone_high and "
                        "high_starts_time_limit, nothing else")
        return None
    threshold = rules["visible_high_threshold"]
    if not _is_count(threshold) or not 1 <= threshold <= len(items):
        problems.append(f"{where} rules: visible_high_threshold must be a whole number from 1 to the number of "
                        f"items ({len(items)})")
        threshold = 1
    bands: list[Band] = []
    for index, band in enumerate(rules["bands"] if isinstance(rules["bands"], list) else [], start=1):
        at = f"{where} band {index}"
        if not isinstance(band, dict) or set(band) != {"min", "level", "name"}:
            problems.append(f"{at}: needs exactly min, level and name")
            continue
        if not _is_count(band["min"]):
            problems.append(f"{at}: min must be a whole number of 0 or more")
            continue
        if band["level"] not in LEVEL_ORDER:
            problems.append(f"{at}: level must be one of {', '.join(LEVEL_ORDER)}")
            continue
        bands.append(Band(min=band["min"], level=band["level"], name=_text(band["name"], at, problems)))
    if not bands or bands[0].min != 0:
        problems.append(f"{where} rules: bands must start at min 0")
    for lower, upper in zip(bands, bands[1:], strict=False):
        if upper.min <= lower.min or level_rank(upper.level) < level_rank(lower.level):
            problems.append(f"{where} rules: bands must rise, in min and in level ({lower.min} then {upper.min})")
    alone_high = rules.get("alone_high") or []
    if not isinstance(alone_high, list) or not set(alone_high) <= seen:
        problems.append(f"{where} rules: alone_high names items that are not in the variant: "
                        f"{sorted(set(alone_high) - seen) if isinstance(alone_high, list) else alone_high}")
        alone_high = []
    starts = rules.get("high_starts_time_limit") or ""
    if starts and starts not in time_limit_codes:
        problems.append(f"{where} rules: high_starts_time_limit {starts} is not a time limit of time_limits.yaml")
    return Variant(code=code, title=title, items=tuple(items), visible_high_threshold=threshold, bands=tuple(bands),
                   alone_high=frozenset(alone_high), high_starts_time_limit=starts)


def instrument_read(path: Path) -> Instrument:
    """The instrument of the file, or InstrumentError naming every problem."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InstrumentError(path, [str(exc)]) from exc
    problems: list[str] = []
    if not isinstance(raw, dict) or set(raw) != {"code", "version", "title", "answers", "levels", "variants"}:
        raise InstrumentError(path, ["needs exactly code, version, title, answers, levels and variants"])
    for key in ("code", "version"):
        if not isinstance(raw[key], str) or not raw[key].strip() or len(raw[key]) > 40:
            problems.append(f"{key} must be text of 1 to 40 characters (quote a version such as \"2026.1\")")
    if raw["answers"] != list(ANSWERS):
        problems.append(f"answers must be exactly {list(ANSWERS)} (quoted: YAML reads a bare yes as true)")
    if raw["levels"] != list(LEVEL_ORDER):
        problems.append(f"levels must be exactly {list(LEVEL_ORDER)}, lowest first")
    title = _text(raw["title"], "title", problems)
    variants_raw = raw["variants"] if isinstance(raw["variants"], dict) else {}
    if set(variants_raw) != {"adult", "child"}:
        problems.append("variants must be exactly adult and child")
    time_limit_codes = {record.code for record in time_limit_records_read()}
    variants = {}
    for code, value in variants_raw.items():
        variant = _variant(str(code), value, problems, time_limit_codes)
        if variant is not None:
            variants[str(code)] = variant
    if problems:
        raise InstrumentError(path, problems)
    return Instrument(code=raw["code"], version=raw["version"], title=title, variants=variants)


@functools.cache
def _cached(path: str) -> Instrument:
    return instrument_read(Path(path))


def instrument_current() -> Instrument:
    """The instrument in force (settings.RISK_INSTRUMENT_FILE), read once per process."""
    return _cached(str(settings.RISK_INSTRUMENT_FILE))
