"""Issue 15: the pages' Jinja2 environment does once per language and process what it did at every
render (config/jinja2.py), and writes what Django's own calls wrote, character for character."""

import datetime
import zoneinfo

import pytest
from django.db.models import Model
from django.template import defaultfilters, engines
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import localize

from cases.models import Case, CaseStatus
from config import jinja2 as pages

FORMATS = ["DATETIME_FORMAT", "SHORT_DATETIME_FORMAT", "DATE_FORMAT", "SHORT_DATE_FORMAT", "YEAR_MONTH_FORMAT",
           "MONTH_DAY_FORMAT", "TIME_FORMAT", "c", "Y-m", "Y-m-d", "D", r"\Y\e\s: j/n/y G:i:s %", None]
ZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
MOMENTS = [
    *(datetime.datetime(2026, month, day, hour, minute, second, tzinfo=datetime.UTC)
      for month, day, hour, minute, second in [(1, 1, 0, 0, 0), (2, 28, 16, 59, 59), (5, 9, 9, 5, 7),
                                               (12, 31, 23, 14, 1), (9, 15, 12, 0, 0)]),
    datetime.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC),
    datetime.datetime(996, 7, 8, 1, 2, tzinfo=datetime.UTC),
    datetime.datetime(2026, 6, 7, 8, 9),  # naive
    datetime.date(2026, 11, 3),
    datetime.date(5, 1, 2),
]


def _django_date(value, name):
    try:
        return defaultfilters.date(timezone.template_localtime(value), name)
    except TypeError as error:  # a time of day asked of a date
        return type(error)


def _page_date(value, name):
    try:
        return pages._date(value, name)
    except TypeError as error:
        return type(error)


@pytest.mark.parametrize("language", ["vi", "en", None])
def test_dates_are_written_as_django_writes_them(language):
    with translation.override(language), timezone.override(ZONE):
        for value in MOMENTS:
            for name in FORMATS:
                assert _page_date(value, name) == _django_date(value, name), (value, name)
            assert pages._finalize(value) == localize(timezone.template_localtime(value))
        # Inside a render, the language and zone the render started with.
        source = '{{ m }}|{{ m|date("DATETIME_FORMAT") }}|{{ m|date("c") }}|{{ d|date("SHORT_DATE_FORMAT") }}'
        rendered = engines["jinja2"].from_string(source).render({"m": MOMENTS[1], "d": MOMENTS[-2]})
        expected = [localize(timezone.localtime(MOMENTS[1])), _django_date(MOMENTS[1], "DATETIME_FORMAT"),
                    _django_date(MOMENTS[1], "c"), _django_date(MOMENTS[-2], "SHORT_DATE_FORMAT")]
        assert rendered.split("|") == expected


def test_a_date_outside_the_current_zone_is_shown_in_it():
    with translation.override("en"), timezone.override(zoneinfo.ZoneInfo("America/Lima")):
        assert pages._date(MOMENTS[0], "DATETIME_FORMAT") == "31 Dec 2025, 19:00"


SOURCE = ('<p>{{ _("Timeline") }}</p><p title="{{ _("Risk") }}">{% trans %}Timeline{% endtrans %}</p>'
          '<p>{% trans agency=name %}You see this case through {{ agency }}.{% endtrans %}</p>'
          '<p>{% trans n=count %}{{ n }} item is overdue.{% pluralize %}{{ n }} items are overdue.{% endtrans %}</p>'
          '<p>{{ _(variable) }}</p>{% with x = _("Timeline")|upper %}{{ x }}{% endwith %}')
VALUES = {"name": "<b>Công an & Co</b>", "count": 2, "variable": "Risk"}


@pytest.mark.parametrize("language", ["vi", "en"])
def test_static_text_translated_when_compiled_is_the_text_translated_when_shown(language):
    backend = engines["jinja2"]
    with translation.override(language):
        at_render = backend.env.from_string(SOURCE).render(VALUES)
        folded = backend.env_for(language).from_string(SOURCE).render(VALUES)
    assert folded == at_render
    assert "&lt;b&gt;Công an &amp; Co&lt;/b&gt;" in folded
    if language == "vi":
        assert "Diễn biến" in folded and "Nguy cơ" in folded
        # Compiled as constants: the variant's code holds the Vietnamese text and calls no gettext for it.
        code = backend.env_for("vi").compile('<p>{{ _("Timeline") }}</p>', raw=True)
        assert "Diễn biến" in code and "gettext" not in code


def test_a_template_shown_in_another_language_than_it_was_fetched_in_shows_that_language():
    values = {"id": "t", "timeline": []}
    with translation.override("vi"):
        template = engines["jinja2"].get_template("cases/_timeline_card.html")
        assert "Diễn biến" in template.render(values)
    with translation.override("en"):
        assert "Timeline" in template.render(values) and "Diễn biến" not in template.render(values)


def test_a_template_naming_underscore_itself_keeps_its_calls():
    env = engines["jinja2"].env_for("vi")
    source = '{% macro _(text) %}[{{ text }}]{% endmacro %}{{ _("Timeline") }}'
    with translation.override("vi"):
        assert env.from_string(source).render() == "[Timeline]"


def test_a_changed_setting_forgets_the_compiled_variants():
    backend = engines["jinja2"]
    variant = backend.env_for("vi")
    with override_settings(LOCALE_PATHS=[]):
        assert backend.env_for("vi") is not variant


@pytest.mark.parametrize(("name", "args", "kwargs"), [
    ("cases:detail", (), {"case_id": 5}),
    ("cases:consent-withdraw", (), {"case_id": 12, "consent_id": 0}),
    ("cases:list", (), {}),
    ("handoffs:detail", (), {"handoff_id": 1234567}),
])
def test_url_of_ids_is_reverse(name, args, kwargs):
    assert pages.url(name, *args, **kwargs) == reverse(name, args=args or None, kwargs=kwargs or None)
    assert pages.url(name, *args, **kwargs) == reverse(name, args=args or None, kwargs=kwargs or None)


def test_url_of_values_that_are_not_ids_is_reverse_itself():
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        pages.url("cases:detail", case_id=-1)
    assert pages.url("cases:detail", case_id="7") == "/cases/7/"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_choice_labels_are_djangos(language):
    field = Case._meta.get_field("status")
    with translation.override(language):
        for value in [*CaseStatus.values, "no-such-status", None]:
            case = Case(status=value)
            assert case.get_status_display() == Model._get_FIELD_display(case, field), value
        assert Case(status=CaseStatus.OPEN).get_status_display() == str(CaseStatus.OPEN.label)


def test_dates_follow_a_change_of_use_tz():
    """The date filters read USE_TZ once per process (config.jinja2._USE_TZ): a test's change of it is
    followed, as Django's template_localtime follows it."""
    moment = datetime.datetime(2026, 1, 1, 23, 30, tzinfo=datetime.UTC)
    assert pages._local(moment, ZONE) == moment and pages._local(moment, ZONE).tzinfo is ZONE
    with override_settings(USE_TZ=False):
        assert pages._local(moment, ZONE).tzinfo is datetime.UTC
        with timezone.override(ZONE):
            assert pages._local(moment, ZONE) == timezone.template_localtime(moment)
    assert pages._local(moment, ZONE).tzinfo is ZONE


@pytest.mark.parametrize("language", ["vi", "en", None])
def test_dates_inside_a_render_are_written_as_django_writes_them(language):
    """Inside a render, a datetime in a format compiled already is written at once (config.jinja2._date):
    the same text as Django's, the first time (the format compiled then) and after."""
    source = "|".join(f'{{{{ m|date({name!r}) }}}}' if name else "{{ m|date }}" for name in FORMATS) + "|{{ m }}"
    template = engines["jinja2"].from_string(source)
    with translation.override(language), timezone.override(ZONE):
        for value in MOMENTS:
            if not isinstance(value, datetime.datetime):
                continue
            expected = [str(_django_date(value, name)) for name in FORMATS]
            expected.append(localize(timezone.template_localtime(value)))
            for _time in range(2):
                assert template.render({"m": value}).split("|") == expected, value


def test_url_of_a_route_without_values_not_found_raises_each_time():
    from django.urls import NoReverseMatch

    for _time in range(2):
        with pytest.raises(NoReverseMatch):
            pages.url("cases:no-such-route")


def test_url_inside_a_render_is_under_the_script_prefix_it_started_with():
    from django.urls import get_script_prefix, set_script_prefix

    template = engines["jinja2"].from_string("{{ url('cases:list') }}|{{ url('cases:detail', case_id=3) }}")
    before = get_script_prefix()
    try:
        for prefix in ("/", "/hopluc/", "/"):
            set_script_prefix(prefix)
            assert template.render({}) == f"{prefix}cases/|{prefix}cases/3/"
    finally:
        set_script_prefix(before)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_included_panel_is_the_same_outside_the_test_instrumentation(language):
    """A panel (config.jinja2._included) rendered inside the page, as outside tests, writes what Django's
    loader and Template.render write (as under test instrumentation)."""
    from django.test.signals import template_rendered

    rendered = []

    def listen(sender, template, **kwargs):
        rendered.append(template.name)

    with translation.override(language):
        # The environment of the language's pages (their static text translated when compiled).
        page = engines["jinja2"].get_template("cases/case_detail.html").template.environment.from_string(
            '<p>{{ column_heads(_("Case"), "<b>&</b>") }}</p>')
        template_rendered.connect(listen)
        try:
            instrumented = page.render({})
        finally:
            template_rendered.disconnect(listen)
        assert rendered == ["_column_heads.html"]
        direct = page.render({})
        assert rendered == ["_column_heads.html"]  # not through Django's loader
        assert direct == instrumented
        assert "<thead>" in direct and "&lt;b&gt;&amp;&lt;/b&gt;" in direct and str(_case_heading()) in direct


def _case_heading():
    return translation.gettext("Case")


def test_a_templates_globals_are_the_environments_and_its_own():
    """config.jinja2._Environment.make_globals: one dict, not Jinja2's ChainMap; a template's own globals
    (from_string(globals=…)) are its alone."""
    env = engines["jinja2"].env
    own = env.from_string("{{ url('cases:list') }}|{{ extra }}", globals={"extra": "mine"})
    other = env.from_string("{{ extra }}")
    assert type(own.globals) is dict and own.globals["url"] is env.globals["url"]
    assert own.render() == f"{reverse('cases:list')}|mine" and other.render() == ""
    assert "extra" not in env.globals
