"""The case page's timeline entries written in Python (timeline_items) are byte for byte what the loop of
cases/_timeline.html, which the handoff page still uses, writes for a case: escaping, hidden entries,
details with line breaks and entries without an actor included."""

import datetime

import pytest
from django.template import engines
from django.utils import translation

from cases.timeline import TimelineEntry

HOSTILE = "<b>A & B's \"agency\"</b>"
WHEN = datetime.datetime(2026, 3, 9, 17, 5, 3, tzinfo=datetime.UTC)


WRITTEN = '<ol class="timeline" data-testid="timeline">\n    {{ timeline_items(timeline) }}\n  </ol>'


def _timeline() -> list[TimelineEntry]:
    return [
        TimelineEntry(at=WHEN, type="action_logged", category="medical", agency=HOSTILE, actor=HOSTILE,
                      sentence=f"{HOSTILE} logged an action: <script>.", details="Line one\nline <two> & 'three'\n"),
        TimelineEntry(at=WHEN - datetime.timedelta(days=40, minutes=7), type="updated", category="identity",
                      agency="Công an", actor="", sentence="Công an updated details you cannot see.", hidden=True),
        TimelineEntry(at=WHEN.replace(month=12, hour=23), type="opened", category="general", agency="System",
                      actor="Nguyễn Văn A", sentence="Opened 100% \"new\"."),
    ]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_timeline_items_as_the_template_loop_wrote_them(language):
    env = engines["jinja2"]
    values = {"timeline": _timeline()}
    with translation.override(language):
        looped = env.from_string('{% include "cases/_timeline.html" %}').render(values)
        written = env.from_string(WRITTEN).render(values)
    assert "&lt;b&gt;A &amp; B&#39;s &#34;agency&#34;&lt;/b&gt;" in looped and "<br>" in looped
    assert 'class="hidden-entry"' in looped and looped.count("<li") == 3
    assert written == looped


def test_no_entries_as_the_loop_wrote_none():
    env = engines["jinja2"]
    looped = env.from_string('{% include "cases/_timeline.html" %}').render({"timeline": []})
    written = env.from_string(WRITTEN).render({"timeline": []})
    assert written == looped
