"""Headline figures and chart series, read from a report's published tables only. Nothing here
sees a raw count: a figure that depends on a hidden cell is shown as hidden, never recomputed."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .disclosure import COMPLEMENTARY_MARK
from .indicators import AGE_BANDS, SEXES
from .labels import value_label

Published = int | float | str | None  # a count or statistic, a marker ("<5", "x"), or None (withheld)


def table_by_key(data: dict, key: str) -> dict | None:
    return next((t for t in data.get("tables", []) if t["key"] == key), None)


def _row_total(table: dict | None, row: str) -> Published:
    if table is None or table["withheld"] or row not in table["rows"]:
        return None
    return table["row_totals"][table["rows"].index(row)]


def _column_total(table: dict | None, column: list[str]) -> Published:
    if table is None or table["withheld"] or column not in table["columns"]:
        return None
    return table["column_totals"][table["columns"].index(column)]


def _total(table: dict | None) -> Published:
    return None if table is None or table["withheld"] else table["total"]


def statistic_by_key(data: dict, key: str) -> dict | None:
    return next((s for s in data.get("statistics", []) if s["key"] == key), None)


def _statistic(statistic: dict | None, row: str) -> Published:
    if statistic is None or row not in statistic["rows"]:
        return None
    return statistic["values"][statistic["rows"].index(row)]


def _share(part: Published, whole: Published) -> float | None:
    if isinstance(part, int) and isinstance(whole, int) and whole:
        return round(100 * part / whole, 1)
    return None


def _floor(marker: str, threshold: int) -> int:
    """The smallest count a marker stands for: "<t" 1; "x" the threshold (a complementary cell is never
    a small count)."""
    return 1 if marker.startswith("<") else threshold


def _sum_threshold(data: dict) -> int:
    """The count a sum shown as "x" is at least: the largest threshold of the report, since a sum may take
    in child cells, which keep the child threshold."""
    return max(data["thresholds"].values())


def published_sum(values: list[Published], *, threshold: int) -> Published:
    """The sum of published values; with a hidden part, only what the parts say of it: the part's own
    marker when the other parts are all 0, "x" when the parts add up to `threshold` at least (the sum is
    no small count), else None (not shown). A withheld part (None) leaves the sum unknown. The first
    part's marker was shown before: "<5" for a sum of 20, 14, 33, 43 and three "<5"."""
    if any(value is None for value in values):
        return None
    hidden = [value for value in values if isinstance(value, str)]
    published = [value for value in values if isinstance(value, int | float)]
    if not hidden:
        return sum(published)
    if len(hidden) == 1 and not any(published):
        return hidden[0]
    floor = sum(published) + sum(_floor(marker, threshold) for marker in hidden)
    return COMPLEMENTARY_MARK if floor >= threshold else None


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    value: Published
    share: float | None = None  # a percentage, when both its parts are published


def headlines(data: dict) -> list[Headline]:
    threshold = _sum_threshold(data)
    incidents = table_by_key(data, "incidents_by_type_sex_age")
    children = table_by_key(data, "child_cases")
    rape = table_by_key(data, "rape_within_72h")
    within = _row_total(rape, "within_72h")
    referred = None
    if rape and not rape["withheld"]:
        referred = rape["cells"][rape["rows"].index("within_72h")][rape["columns"].index(["referred"])]
    share = _share(referred, within)
    referrals = table_by_key(data, "referrals_by_response")
    made, accepted = _total(referrals), _row_total(referrals, "accepted")
    in_time = _row_total(table_by_key(data, "referrals_accepted_in_time"), "within_deadline")
    deadlines = table_by_key(data, "deadlines_missed")
    missed = _column_total(deadlines, ["missed"])
    return [
        Headline("new_cases", str(_("New cases")), _total(table_by_key(data, "new_cases"))),
        Headline("incidents", str(_("Incidents")), _total(incidents)),
        Headline("children", str(_("New cases of children (under 16)")), _row_total(children, "under_16")),
        Headline("minors", str(_("New cases of minors (under 18)")), published_sum(
            [_row_total(children, "under_16"), _row_total(children, "16_17")], threshold=threshold,
        )),
        Headline("rape_within_72h", str(_("Rape reported within 72 hours")), within),
        Headline(
            "rape_within_72h_referred", str(_("… of which referred to health care within 72 hours")), referred, share
        ),
        Headline("cases_closed", str(_("Cases closed")), _total(table_by_key(data, "cases_closed"))),
        Headline("takedown_requests", str(_("Content takedown requests")), _column_total(
            table_by_key(data, "actions_by_sector"), ["takedown_requested"]
        )),
        Headline("takedown_removed", str(_("… of which the content was removed")),
                 _row_total(table_by_key(data, "takedown_requests"), "removed")),
        Headline("referrals", str(_("Referrals sent")), made),
        Headline("referrals_accepted", str(_("… accepted")), accepted, _share(accepted, made)),
        Headline("referrals_declined", str(_("… declined")), _row_total(referrals, "declined"),
                 _share(_row_total(referrals, "declined"), made)),
        Headline("referrals_accepted_in_time", str(_("… accepted within the response deadline")), in_time,
                 _share(in_time, accepted)),
        Headline("median_time_to_accept", str(_("Median time to accept a referral (hours)")),
                 _statistic(statistic_by_key(data, "median_time_to_accept"), "all")),
        Headline("deadlines_missed", str(_("Deadlines missed")), missed, _share(missed, _total(deadlines))),
        Headline("left_out_cases", str(_("New cases left out (no consent to statistics)")),
                 _total(table_by_key(data, "left_out_cases"))),
        Headline("left_out_incidents", str(_("Incidents left out (no consent to statistics)")),
                 _total(table_by_key(data, "left_out_incidents"))),
    ]


@dataclass(frozen=True)
class Series:
    name: str
    values: list[Published]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: str  # "bar" (horizontal bars) or "line"
    categories: list[str]
    series: list[Series]


def _totals(table: dict, key: str = "row_totals") -> list[Published]:
    """A bar per row of the table: its totals, or nothing shown for any of them if it is withheld."""
    return [None] * len(table["rows"]) if table["withheld"] else list(table[key])


def _bar_from_rows(key: str, title: str, table: dict | None) -> Chart | None:
    if table is None or not table["rows"]:
        return None
    return Chart(
        key=key, title=title, kind="bar",
        categories=[value_label(table["row_dim"], row, table) for row in table["rows"]],
        series=[Series(title, _totals(table))],
    )


def _by_column_part(table: dict | None, *, part: int, values: tuple[str, ...], threshold: int) -> list[Published]:
    if table is None or table["withheld"]:
        return [None] * len(values)
    return [
        published_sum([t for c, t in zip(table["columns"], table["column_totals"], strict=True) if c[part] == value],
                      threshold=threshold)
        for value in values
    ]


def charts(data: dict, trend: list[tuple[str, dict]]) -> list[Chart]:
    """The report's charts: the 12-month trend, then breakdowns by type, sex, age, sector and place."""
    incidents = table_by_key(data, "incidents_by_type_sex_age")
    threshold = _sum_threshold(data)
    result: list[Chart | None] = [
        Chart(
            key="trend", title=str(_("Last 12 months")), kind="line", categories=[label for label, _d in trend],
            series=[
                Series(str(_("New cases")), [_total(table_by_key(d, "new_cases")) for _l, d in trend]),
                Series(str(_("Incidents")), [_total(table_by_key(d, "incidents_by_type_sex_age")) for _l, d in trend]),
            ],
        ),
        _bar_from_rows("by_type", str(_("Incidents by GBVIMS type")), incidents),
        Chart(
            key="by_sex", title=str(_("Incidents by sex")), kind="bar",
            categories=[value_label("sex", s) for s in SEXES],
            series=[Series(str(_("Incidents")),
                           _by_column_part(incidents, part=0, values=SEXES, threshold=threshold))],
        ),
        Chart(
            key="by_age", title=str(_("Incidents by age at report")), kind="bar",
            categories=[value_label("age_band", b) for b in AGE_BANDS],
            series=[Series(str(_("Incidents")),
                           _by_column_part(incidents, part=1, values=AGE_BANDS, threshold=threshold))],
        ),
    ]
    new_cases, actions = table_by_key(data, "new_cases"), table_by_key(data, "actions_by_sector")
    if new_cases and actions:
        result.append(Chart(
            key="by_sector", title=str(_("By sector")), kind="bar",
            categories=[value_label("sector", r) for r in new_cases["rows"]],
            series=[
                Series(str(_("New cases (lead agency)")), _totals(new_cases)),
                Series(str(_("Actions (acting agency)")), _totals(actions)),
            ],
        ))
    referrals = table_by_key(data, "referrals_by_sector")
    if referrals and referrals["rows"]:
        result.append(Chart(
            key="referrals_by_sector", title=str(_("Referrals by sector")), kind="bar",
            categories=[value_label("sending_sector", r) for r in referrals["rows"]],
            series=[
                Series(str(_("Sent by the sector")), _totals(referrals)),
                Series(str(_("Received by the sector")), _totals(referrals, "column_totals")),
            ],
        ))
    result.append(_bar_from_rows("referrals_by_response", str(_("Referrals by response")),
                                 table_by_key(data, "referrals_by_response")))
    for key, title in (("province", _("Incidents by province")), ("commune", _("Incidents by commune"))):
        result.append(_bar_from_rows(f"by_{key}", str(title), table_by_key(data, f"incidents_by_{key}")))
    return [chart for chart in result if chart is not None]


def display(value: Published) -> str:
    if value is None:
        return "—"
    return str(value)


def statistic_rows(statistic: dict) -> list[tuple[str, Published]]:
    """(row label, published value) for rendering a statistic."""
    return [(value_label(statistic["row_dim"], row), value)
            for row, value in zip(statistic["rows"], statistic["values"], strict=True)]


def table_rows(table: dict) -> list[tuple[str, list[Published], Published]]:
    """(row label, published cells, published row total) for rendering a table."""
    return [
        (value_label(table["row_dim"], row, table), cells, total)
        for row, cells, total in zip(table["rows"], table["cells"], table["row_totals"], strict=True)
    ]

