"""GBVIMS classification (ordered questions, first yes wins) and reporting-delay bands."""

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError

from cases.classification import GBVIMS_QUESTIONS, gbvims_classify, reporting_delay_bucket
from cases.models import GbvType, ReportingDelay

KEYS = [q.key for q in GBVIMS_QUESTIONS]
ORDER = [
    GbvType.RAPE, GbvType.SEXUAL_ASSAULT, GbvType.PHYSICAL_ASSAULT, GbvType.FORCED_MARRIAGE,
    GbvType.DENIAL_OF_RESOURCES, GbvType.PSYCHOLOGICAL_ABUSE,
]


def test_questions_are_in_the_gbvims_order():
    assert [q.gbv_type for q in GBVIMS_QUESTIONS] == ORDER


@pytest.mark.parametrize("combination", list(itertools.product([False, True], repeat=6)))
def test_every_combination_of_answers_gives_the_type_of_the_first_yes(combination):
    answers = dict(zip(KEYS, combination, strict=True))
    expected = next((ORDER[i] for i, yes in enumerate(combination) if yes), GbvType.NON_GBV)
    assert gbvims_classify(answers=answers) == expected


@pytest.mark.parametrize(("earlier", "later"), list(itertools.combinations(range(6), 2)))
def test_an_earlier_yes_beats_any_later_yes(earlier, later):
    answers = {key: i in (earlier, later) for i, key in enumerate(KEYS)}
    assert gbvims_classify(answers=answers) == ORDER[earlier]


def test_answers_after_the_first_yes_may_be_missing():
    assert gbvims_classify(answers={"penetration": False, "sexual_contact": True}) == GbvType.SEXUAL_ASSAULT


def test_all_no_is_non_gbv():
    assert gbvims_classify(answers=dict.fromkeys(KEYS, False)) == GbvType.NON_GBV


@pytest.mark.parametrize("missing", range(6))
def test_a_missing_answer_before_the_first_yes_is_refused(missing):
    answers = dict.fromkeys(KEYS, False)
    del answers[KEYS[missing]]
    with pytest.raises(ValidationError) as excinfo:
        gbvims_classify(answers=answers)
    assert set(excinfo.value.message_dict) == {KEYS[missing]}


@pytest.mark.parametrize("answers", [
    {"penetration": "yes"}, {"penetration": 1}, {"penetration": None, "sexual_contact": True},
])
def test_non_boolean_answers_are_refused(answers):
    with pytest.raises(ValidationError) as excinfo:
        gbvims_classify(answers=answers)
    assert "penetration" in excinfo.value.message_dict


def test_unknown_questions_and_non_dicts_are_refused():
    with pytest.raises(ValidationError) as excinfo:
        gbvims_classify(answers={**dict.fromkeys(KEYS, False), "was_it_bad": True})
    assert "was_it_bad" in excinfo.value.message_dict
    for bad in (None, [True], "rape"):
        with pytest.raises(ValidationError):
            gbvims_classify(answers=bad)


REPORTED = datetime.date(2026, 3, 31)


@pytest.mark.parametrize(("days", "band"), [
    (0, ReportingDelay.DAYS_0_3), (3, ReportingDelay.DAYS_0_3),
    (4, ReportingDelay.DAYS_4_5), (5, ReportingDelay.DAYS_4_5),
    (6, ReportingDelay.DAYS_6_14), (14, ReportingDelay.DAYS_6_14),
    (15, ReportingDelay.DAYS_15_30), (30, ReportingDelay.DAYS_15_30),
    (31, ReportingDelay.OVER_30), (400, ReportingDelay.OVER_30),
])
def test_reporting_delay_band_boundaries(days, band):
    occurred = REPORTED - datetime.timedelta(days=days)
    assert reporting_delay_bucket(occurred_on=occurred, reported_on=REPORTED) == band


def test_reporting_delay_counts_calendar_days_across_a_month_end():
    assert reporting_delay_bucket(occurred_on=datetime.date(2026, 2, 26), reported_on=datetime.date(2026, 3, 2)) \
        == ReportingDelay.DAYS_4_5


def test_reporting_delay_is_unknown_without_an_incident_date():
    assert reporting_delay_bucket(occurred_on=None, reported_on=REPORTED) == ReportingDelay.UNKNOWN


def test_reporting_before_the_incident_is_refused():
    with pytest.raises(ValidationError):
        reporting_delay_bucket(occurred_on=REPORTED + datetime.timedelta(days=1), reported_on=REPORTED)
