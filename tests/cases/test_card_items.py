"""The case and handoff cards written by a format string (case_card_items, handoff_card_items) are byte for
byte what the cards' template loops wrote, escaping included."""
# ruff: noqa: E501 - the loops' template lines as they were

import datetime
from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils import translation
from django.utils.translation import gettext_lazy
from markupsafe import Markup, escape

# The loops as cases/_case_cards.html and handoffs/_handoff_cards.html wrote them before the cards were
# written in Python.
CASE_LOOP = """{% for case in cases %}
  <li>
    <a href="{{ cases_url }}{{ case.pk }}/" data-testid="case-link">
      <span class="case-number">{{ case.number }}</span>
      <span class="tags">
        <span class="tag status-{{ case.status }}">{{ case.get_status_display() }}</span>
        <span class="tag risk-{{ case.risk_level }}">{{ risk }}: {{ case.get_risk_level_display() }}</span>
      </span>
      <span class="muted small">{{ case.lead_agency.name }} · {{ updated }} {{ case.updated_at|date("DATETIME_FORMAT") }}</span>
    </a>
  </li>
  {% endfor %}"""

HANDOFF_LOOP = """{% for handoff in handoffs %}
  <li{% if handoff.overdue %} class="overdue"{% endif %}>
    <a href="{{ handoff.page_url }}" data-testid="handoff-link-{{ handoff.pk }}">
      <span class="case-number">{{ handoff.case.number }}</span>
      <span class="tags">
        <span class="tag handoff-{{ handoff.status }}">{{ handoff.get_status_display() }}</span>
        <span class="tag urgency-{{ handoff.urgency }}">{{ handoff.get_urgency_display() }}</span>
        {% if handoff.overdue %}<span class="tag risk-severe" data-testid="overdue">{{ overdue }}</span>{% endif %}
      </span>
      <span class="muted small">{{ other_side }} {% if direction == "incoming" %}{{ handoff.from_agency.name }}{% else %}{{ handoff.to_agency.name }}{% endif %}</span>
      <span class="small">{% if handoff.status == "sent" %}{{ answer_due }} <time datetime="{{ handoff.due_at|date('c') }}">{{ handoff.due_at|date("DATETIME_FORMAT") }}</time>{% else %}{{ sent }} <time datetime="{{ handoff.sent_at|date('c') }}">{{ handoff.sent_at|date("DATETIME_FORMAT") }}</time>{% endif %}</span>
    </a>
  </li>
  {% endfor %}"""

HOSTILE = "<b>A & B's \"agency\"</b>"
WHEN = datetime.datetime(2026, 3, 9, 7, 5, 3, tzinfo=datetime.UTC)


class _Row(SimpleNamespace):
    def get_status_display(self):
        return self.status_label

    def get_risk_level_display(self):
        return self.risk_label

    def get_urgency_display(self):
        return self.urgency_label


def _cases():
    return [
        _Row(pk=7, number="HL-2026-000007", status="open", status_label="Đang mở", risk_level="high",
             risk_label=HOSTILE, lead_agency=SimpleNamespace(name=HOSTILE), updated_at=WHEN),
        _Row(pk=12345, number="<x>", status="a&b", status_label="Closed", risk_level="low", risk_label="Low",
             lead_agency=SimpleNamespace(name="Sở LĐTBXH Hà Nội"), updated_at=WHEN.replace(month=12, hour=23)),
        # Values that are not plain str or int: markup kept as it is, a lazy label, a float, a date.
        _Row(pk=True, number=Markup("<i>HL</i> & co"), status=1.5, status_label=gettext_lazy("Open"),
             risk_level=datetime.date(2026, 1, 2), risk_label=Markup("<b>high</b>"),
             lead_agency=SimpleNamespace(name=7), updated_at=WHEN.replace(year=2025)),
    ]


def _handoffs():
    rows = []
    for index, (status, overdue) in enumerate([("sent", True), ("sent", False), ("accepted", False),
                                               ("declined", True)]):
        rows.append(_Row(pk=index + 1, page_url=f"/handoffs/{index + 1}/?a=1&b=<2>",
                         case=SimpleNamespace(number=HOSTILE), status=status, status_label=f"{status} & co", urgency="urgent", urgency_label="<Urgent>",
                         overdue=overdue, from_agency=SimpleNamespace(name=HOSTILE),
                         to_agency=SimpleNamespace(name="Trung tâm 'B'"), sent_at=WHEN,
                         due_at=WHEN + datetime.timedelta(hours=49)))
    return rows


@pytest.mark.parametrize("language", ["vi", "en"])
def test_case_cards_as_the_loop_wrote_them(language):
    env = engines["jinja2"]
    values = {"cases": _cases(), "risk": "Risk <&>", "updated": "updated", "cases_url": "/cases/?x=<&>"}
    with translation.override(language):
        looped = env.from_string(CASE_LOOP).render(values)
        written = env.from_string("{{ case_card_items(cases, risk, updated, cases_url) }}").render(values)
    assert "&lt;b&gt;A &amp; B&#39;s &#34;agency&#34;&lt;/b&gt;" in looped
    assert written == looped


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("direction", ["incoming", "outgoing"])
def test_handoff_cards_as_the_loop_wrote_them(language, direction):
    env = engines["jinja2"]
    values = {"handoffs": _handoffs(), "direction": direction, "overdue": "Overdue <!>", "answer_due": "Answer due",
              "sent": "Sent & co", "other_side": "From" if direction == "incoming" else "To <&>"}
    with translation.override(language):
        looped = env.from_string(HANDOFF_LOOP).render(values)
        written = env.from_string(
            "{{ handoff_card_items(handoffs, direction, overdue, answer_due, sent, other_side) }}").render(values)
    assert 'class="overdue"' in looped and "&lt;Urgent&gt;" in looped
    assert written == looped


@pytest.mark.parametrize("text", ["", "plain", HOSTILE, "&&<<>>\"\"''", "Sở LĐTBXH Hà Nội & <Đà Nẵng>", "&amp; already",
                                  "\x00\n\t<\u00b7>", "x" * 300 + "'"])
def test_a_plain_str_is_escaped_as_markupsafe_escapes_it(text):
    from cases.templatetags.case_tags import _escaped

    assert _escaped(text) == str(escape(text))
    assert type(_escaped(text)) is str
