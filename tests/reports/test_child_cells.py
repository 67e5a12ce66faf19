"""Children everywhere (issue 9, part 4): every count of children is published under the child
threshold, in every table. This test names every table and, for each, which rows or columns count
children; a new table fails here until someone decides."""

import pytest

from reports.indicators import INDICATORS
from reports.publication import month_publishable

from .conftest import OCTOBER

UNDER_18_BANDS = {"0-11", "12-17"}
# Per table: which rows and which columns count children (None: every row).
CHILD_ENTRIES = {
    "new_cases": ((), ()),
    "child_cases": ({"under_16", "16_17"}, ()),
    "incidents_by_type_sex_age": ((), "age_band"),
    "incidents_by_province": ((), ()),
    "incidents_by_commune": (None, ()),
    "tech_forms": ({"grooming", "csem"}, ()),
    "reporting_delay": ((), ()),
    "rape_within_72h": ((), ()),
    "cases_closed": ((), ()),
    "actions_by_sector": ((), ()),
    "left_out_cases": ((), ()),
    "left_out_incidents": ((), ()),
    "referrals_by_response": ((), ()),
    "referrals_accepted_in_time": ((), ()),
    "referrals_by_sector": ((), ()),
    "deadlines_missed": ((), ()),
    "takedown_requests": ((), ()),
    "high_risk_assessments": ((), "assessment_form"),
    "meetings_held": ((), ()),
    "cases_discussed": ((), ()),
    "plan_items_on_time": ((), ()),
}


def test_every_table_is_classified():
    assert set(INDICATORS) == set(CHILD_ENTRIES)


def _child_row(table, row) -> bool:
    rows, _columns = CHILD_ENTRIES[table["key"]]
    return rows is None or row in rows


CHILD_COLUMN_VALUES = {"age_band": UNDER_18_BANDS, "assessment_form": {"child"}}


def _child_column(table, column) -> bool:
    _rows, columns = CHILD_ENTRIES[table["key"]]
    return columns in CHILD_COLUMN_VALUES and dict(zip(table["col_dims"], column, strict=True)).get(
        columns) in CHILD_COLUMN_VALUES[columns]


@pytest.mark.parametrize("threshold_settings", [(5, 10), (4, 12)])
def test_no_child_count_has_the_adult_threshold(october, settings, threshold_settings):
    settings.REPORT_SMALL_COUNT_THRESHOLD, settings.REPORT_CHILD_THRESHOLD = threshold_settings
    adult, child = threshold_settings
    _, publishable = month_publishable(OCTOBER)
    seen = set()
    for data in publishable.values():
        for table in data["tables"]:
            seen.add(table["key"])
            limits = table["entry_thresholds"]
            for i, row in enumerate(table["rows"]):
                for j, column in enumerate(table["columns"]):
                    expected = child if _child_row(table, row) or _child_column(table, column) else adult
                    assert limits["cells"][i][j] == expected, (table["key"], row, column)
                assert limits["row_totals"][i] == (child if _child_row(table, row) else adult), (table["key"], row)
            for j, column in enumerate(table["columns"]):
                assert limits["column_totals"][j] == (child if _child_column(table, column) else adult), (
                    table["key"], column)
            assert limits["total"] == adult, table["key"]
            # What is published follows the entry's threshold: a child count under it is "<child".
            for i, row in enumerate(table["cells"]):
                for j, value in enumerate(row):
                    if isinstance(value, str) and value.startswith("<"):
                        assert value == f"<{limits['cells'][i][j]}"
    assert seen == set(CHILD_ENTRIES)
