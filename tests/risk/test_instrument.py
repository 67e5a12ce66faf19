"""The instrument file: read and checked (every problem named), and its rules applied by hand-computed
examples from the file's own numbers (adult: 25 items, visible high risk at 14 "yes", bands low 0-9,
medium 10-13, high 14+, strangulation and threats to kill alone high; child: 11 items, high at 4,
five items alone high, high starts the 12-hour intervention limit)."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from risk.instrument import InstrumentError, instrument_current, instrument_read, level_rank, score
from tests.risk.conftest import adult_codes, answers_with, child_codes

FILE = Path(settings.RISK_INSTRUMENT_FILE)


def adult():
    return instrument_current().variants["adult"]


def child():
    return instrument_current().variants["child"]


def test_the_file_holds_what_the_readme_says():
    instrument = instrument_current()
    assert (instrument.code, instrument.version) == ("dash_vn", "2026.1")
    assert len(adult().items) == 25 and len(child().items) == 11
    assert adult().visible_high_threshold == 14 and child().visible_high_threshold == 4
    assert adult().alone_high == {"strangulation", "threats_to_kill"}
    assert child().high_starts_time_limit == "child_serious_risk_intervention"
    topics = {item.topic for item in adult().items}
    # The DASH-style topics of the issue, each asked at least once, technology-facilitated control too.
    assert {"injury", "fear", "isolation", "separation", "child_contact", "stalking", "pregnancy", "escalation",
            "control", "weapons", "threats_to_kill", "strangulation", "sexual_abuse", "harm_to_others",
            "financial_issues", "substance_use", "suicide_threats", "breached_orders", "criminal_history",
            "technology_control"} <= topics
    assert {"tech_tracking", "tech_account_takeover", "tech_image_threats"} <= set(adult().item_codes)
    assert all(item.text.vi and item.text.en and item.text.vi != item.text.en for item in adult().items)


@pytest.mark.parametrize(("yes", "band", "level"), [
    (0, "low", "low"), (9, "low", "low"), (10, "medium", "medium"), (13, "medium", "medium"),
    (14, "high", "high"), (23, "high", "high"),
])
def test_adult_bands_and_threshold_at_their_boundaries(yes, band, level):
    result = score(adult(), answers_with(yes))
    assert (result.score, result.band.level, result.level) == (yes, band, level)
    assert ("threshold" in result.reasons) == (yes >= 14)


def test_not_known_is_not_a_yes_and_is_counted_apart():
    codes = [c for c in adult_codes() if c not in adult().alone_high]
    result = score(adult(), answers_with(yes=codes[:13], not_known=codes[13:20]))
    assert (result.score, result.not_known, result.level) == (13, 7, "medium")


@pytest.mark.parametrize("item", ["strangulation", "threats_to_kill"])
def test_one_alone_high_item_makes_a_low_score_high(item):
    result = score(adult(), answers_with(yes=[item]))
    assert (result.score, result.band.level, result.level) == (1, "low", "high")
    assert result.reasons == (f"alone_high:{item}",)


def test_both_rules_are_given_as_reasons():
    codes = [c for c in adult_codes() if c != "threats_to_kill"][:14]
    assert "strangulation" in codes
    result = score(adult(), answers_with(yes=codes))
    assert result.reasons == ("threshold", "alone_high:strangulation")


@pytest.mark.parametrize(("yes", "level"), [
    ([], "low"), (["abuser_access"], "medium"),
    (["abuser_access", "no_safe_caregiver", "online_lure"], "medium"),
    (["abuser_access", "no_safe_caregiver", "online_lure", "self_harm"], "high"),
    (["sexual_images"], "high"), (["danger_to_life"], "high"),
])
def test_child_form(yes, level):
    assert score(child(), answers_with(yes=yes, codes=child_codes())).level == level


def _write(tmp_path, change) -> Path:
    raw = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "instrument.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_the_file_as_shipped_reads_cleanly():
    assert instrument_read(FILE).version == "2026.1"


@pytest.mark.parametrize(("change", "message"), [
    (lambda raw: raw.update(answers=[True, False, "not_known"]), "answers must be exactly"),
    (lambda raw: raw.update(version=2026.1), "version must be text"),
    (lambda raw: raw["variants"]["adult"]["rules"].update(visible_high_threshold=99), "visible_high_threshold"),
    (lambda raw: raw["variants"]["adult"]["rules"].update(alone_high=["choking"]), "alone_high names items"),
    (lambda raw: raw["variants"]["child"]["rules"].update(high_starts_time_limit="nope"), "not a time limit"),
    (lambda raw: raw["variants"]["adult"]["rules"]["bands"].reverse(), "bands must"),
    (lambda raw: raw["variants"]["adult"]["rules"]["bands"][1].update(level="extreme"), "level must be one of"),
    (lambda raw: raw["variants"]["adult"]["items"].append(dict(raw["variants"]["adult"]["items"][0])), "twice"),
    (lambda raw: raw["variants"]["adult"]["items"][0]["text"].pop("vi"), "non-empty 'vi' and 'en'"),
    (lambda raw: raw["variants"].pop("child"), "exactly adult and child"),
])
def test_a_bad_file_is_refused_with_its_problem_named(tmp_path, change, message):
    with pytest.raises(InstrumentError) as caught:
        instrument_read(_write(tmp_path, change))
    assert message in str(caught.value)
    assert isinstance(caught.value, ImproperlyConfigured)


def test_every_problem_is_listed_at_once(tmp_path):
    def two(raw):
        raw.update(answers=["yes"])
        raw["variants"]["adult"]["rules"].update(alone_high=["choking"])
    with pytest.raises(InstrumentError) as caught:
        instrument_read(_write(tmp_path, two))
    assert len(caught.value.problems) == 2


def test_a_bad_file_stops_the_start(tmp_path, settings):
    from django.apps import apps

    from risk.instrument import _cached

    settings.RISK_INSTRUMENT_FILE = tmp_path / "missing.yaml"
    _cached.cache_clear()
    try:
        with pytest.raises(InstrumentError, match="missing.yaml"):
            apps.get_app_config("risk").ready()
    finally:
        settings.RISK_INSTRUMENT_FILE = FILE
        _cached.cache_clear()


def test_levels_are_ordered():
    assert [level_rank(x) for x in ("low", "medium", "high", "severe")] == [0, 1, 2, 3]
