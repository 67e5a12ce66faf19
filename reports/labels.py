"""Human names of the tables, dimensions and categories of a report, in the reader's language. The
stored data holds codes only, so a report reads in Vietnamese or English alike."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agencies.models import Sector
from cases.models import ActionType, GbvType, ReportingDelay, RiskLevel, Sex, TechForm
from handoffs.models import Urgency
from notifications.models import Deadline
from takedowns.models import TakedownOutcome, TakedownPlatform

TABLE_TITLES = {
    "new_cases": _("New cases by lead agency sector and sex"),
    "child_cases": _("New cases of children (under 16) and minors (under 18), by sex"),
    "incidents_by_type_sex_age": _("Incidents by GBVIMS type, sex and age at report"),
    "incidents_by_province": _("Incidents by province and GBVIMS type"),
    "incidents_by_commune": _("Incidents by commune"),
    "tech_forms": _("Technology-facilitated forms by sex (an incident may have several)"),
    "reporting_delay": _("Incidents by reporting delay"),
    "rape_within_72h": _("Rape: time from incident to report, and health referral within 72 hours of the report"),
    "cases_closed": _("Cases closed by lead agency sector"),
    "actions_by_sector": _("Actions by acting agency sector and type (takedown requests included)"),
    "left_out_cases": _("New cases left out (no consent to statistics)"),
    "left_out_incidents": _("Incidents left out (no consent to statistics)"),
    "referrals_by_response": _("Referrals sent in the month by response and urgency"),
    "referrals_accepted_in_time": _("Accepted referrals: answered within the response deadline or after it"),
    "referrals_by_sector": _("Referrals by sending and receiving agency sector"),
    "deadlines_missed": _("Deadlines due in the month: closed by the due time or missed"),
    "takedown_requests": _("Content takedown requests by outcome and platform"),
    "high_risk_assessments": _("Risk assessments with a high or severe level, by level and form"),
    "meetings_held": _("Case meetings held, in person or by call"),
    "cases_discussed": _("Cases discussed at case meetings held, by lead agency sector"),
    "plan_items_on_time": _("Action plan items due in the month: done on time, done late or still open"),
}

STATISTIC_TITLES = {
    "median_time_to_accept": _("Median time from sending a referral to its acceptance"),
}

UNIT_LABELS = {"hours": _("hours")}

DIMENSION_TITLES = {
    "sector": _("Lead agency sector"),
    "acting_sector": _("Acting agency sector"),
    "sex": _("Sex"),
    "age_band": _("Age"),
    "gbv_type": _("GBVIMS type"),
    "child_age_group": _("Age group"),
    "province": _("Province"),
    "commune": _("Commune"),
    "tech_form": _("Form"),
    "reporting_delay": _("Reporting delay"),
    "rape_timeliness": _("Time from incident to report"),
    "health_referral": _("Health referral"),
    "action_type": _("Action"),
    "kind": _("Count"),
    "referral_response": _("Response"),
    "accept_timeliness": _("Answered"),
    "urgency": _("Urgency"),
    "urgency_or_all": _("Urgency"),
    "sending_sector": _("Sending agency sector"),
    "receiving_sector": _("Receiving agency sector"),
    "deadline_kind": _("Deadline"),
    "deadline_outcome": _("Outcome"),
    "takedown_outcome": _("Outcome"),
    "platform": _("Platform"),
    "risk_level": _("Risk level"),
    "assessment_form": _("Assessment form"),
    "meeting_mode": _("Meeting held"),
    "plan_outcome": _("Outcome"),
    "owner_sector": _("Owner agency sector"),
}

_SECTORS = {
    Sector.POLICE.value: Sector.POLICE.label,
    Sector.HEALTH.value: Sector.HEALTH.label,
    Sector.EDUCATION.value: Sector.EDUCATION.label,
    Sector.SOCIAL_WORK.value: Sector.SOCIAL_WORK.label,
    "other": _("Other sectors"),
}

VALUE_LABELS = {
    "sector": _SECTORS,
    "acting_sector": _SECTORS,
    "sex": dict(Sex.choices),
    "age_band": {
        "0-11": "0–11", "12-17": "12–17", "18-25": "18–25", "26-40": "26–40", "41-60": "41–60", "61+": "61+",
        "unknown": pgettext_lazy("age", "Unknown"),
    },
    "gbv_type": dict(GbvType.choices),
    "child_age_group": {
        "under_16": _("Child (under 16)"), "16_17": _("Minor aged 16–17"), "18_plus": _("Adult (18 and over)"),
        "unknown": pgettext_lazy("age", "Unknown"),
    },
    "tech_form": dict(TechForm.choices),
    "reporting_delay": dict(ReportingDelay.choices),
    "rape_timeliness": {
        "within_72h": _("0–2 days: within 72 hours"),
        "day_3": _("3 days: possibly within 72 hours"),
        "over_3_days": _("More than 3 days"),
        "unknown": _("Date of incident unknown"),
    },
    "health_referral": {"referred": _("Health referral"), "not_referred": _("No health referral")},
    "action_type": dict(ActionType.choices),
    "commune": {"none": _("Commune not recorded")},
    "kind": {"left_out": _("Left out")},
    "referral_response": {
        "accepted": _("Accepted"), "declined": _("Declined"), "withdrawn": _("Withdrawn before an answer"),
        "awaiting": _("No answer yet"),
    },
    "accept_timeliness": {
        "within_deadline": _("Within the response deadline"), "after_deadline": _("After the response deadline"),
    },
    "urgency": dict(Urgency.choices),
    "urgency_or_all": {"all": _("All referrals"), **dict(Urgency.choices)},
    "sending_sector": _SECTORS,
    "receiving_sector": _SECTORS,
    "deadline_kind": dict(Deadline.Kind.choices),
    "deadline_outcome": {"met": _("Closed by the due time"), "missed": _("Missed (overdue)")},
    "takedown_outcome": {**dict(TakedownOutcome.choices), "not_recorded": _("Outcome not recorded")},
    "platform": {**dict(TakedownPlatform.choices), "not_recorded": _("Platform not recorded")},
    "risk_level": dict(RiskLevel.choices),
    "assessment_form": {"adult": _("Adult form"), "child": _("Child form (Decree 56)")},
    "meeting_mode": {"in_person": _("Held in person"), "call": _("Held by call")},
    "plan_outcome": {
        "on_time": _("Done on time"), "late": _("Done late"), "open_overdue": _("Still open (overdue)"),
    },
    "owner_sector": _SECTORS,
}

NATIONAL_LABEL = _("National")
TOTAL_LABEL = _("Total")
COUNT_LABEL = _("Count")


def value_label(dim: str, value: str, table: dict | None = None) -> str:
    if table is not None and table.get("row_dim") == dim and table.get("row_labels", {}).get(value):
        return table["row_labels"][value]
    return str(VALUE_LABELS.get(dim, {}).get(value, value))


def column_label(table: dict, column: list[str]) -> str:
    if not column:
        return str(COUNT_LABEL)
    return " · ".join(value_label(dim, value, table) for dim, value in zip(table["col_dims"], column, strict=True))


def table_title(table: dict) -> str:
    return str(TABLE_TITLES.get(table["key"], table["key"]))


def statistic_title(statistic: dict) -> str:
    title = str(STATISTIC_TITLES.get(statistic["key"], statistic["key"]))
    unit = UNIT_LABELS.get(statistic.get("unit", ""))
    return f"{title} ({unit})" if unit else title


def scope_label(data: dict) -> str:
    scope = data["scope"]
    return str(NATIONAL_LABEL) if scope["level"] == "national" else scope["name"]
