"""The Jinja2 environment of the pages in jinja2_templates/ (TEMPLATES' first engine; the Django template language stays
configured for the admin and the form widgets).

What a template of jinja2/ has, beyond Jinja2's own:
- `_()`, `gettext()`, `ngettext()`, `pgettext()` and `{% trans %}`: Django's translations (newstyle, so
  `{% trans name=value %}…{{ name }}…{% endtrans %}` has the msgid blocktranslate had: "…%(name)s…");
- `url(name, *args, **kwargs)` (reverse), `static(path)`, `language_code()`;
- the project's template tags as functions (see GLOBALS below) and Django's filters with Django's meaning:
  `default` replaces any false value (Django's `default`, not Jinja2's, which replaces only undefined),
  `date` and `time` take Django's format names and show the value in the current time zone;
- every `{{ value }}` as Django showed it: a date, time, float or Decimal localized (`_finalize`).
A missing variable, or an attribute of one, is empty (ChainableUndefined), as in Django's templates.
Django calls a method it finds in a template; Jinja2 does not: write `get_full_name()`.

Speed (issue 15), with the same output as the plain calls:
- a template file is compiled once per process and language, its static text translated then: `_("…")`
  of a literal and `{% trans %}` without a plural are constants of that language's compiled template (a
  `{% trans %}` with values is the translation `%` its escaped values, as Jinja2's newstyle gettext does);
  `Template.render` takes the variant of the language active when it renders;
- `date`, `{{ a_date }}`: the formats of this project's languages (day, month, year, hour, minute, second,
  the month's short name) are written by one function compiled once per format and language
  (`_date_writer`); during a render, a datetime in a format compiled already is written without asking
  Django's locals for the language and time zone (those the render started with);
- `url()` with ids, or without values: the path reversed once per route, process, URLconf and script
  prefix, the ids put into it; during a render the URLconf and prefix are the ones it started with;
- a panel (`_included`) inside a page: its template taken from the page's environment (its language) and
  rendered in the page's render, not through Django's loader and a render of its own (under test
  instrumentation it still is, so that the test client sees it);
- `static(path)`: the URL asked of the storage once per path and process (`_static`);
- a template's globals: one dict (`_Environment.make_globals`), not Jinja2's ChainMap, which each render,
  include and import copied name by name through Python methods;
- a model's `get_<field>_display()` (on the pages and elsewhere): the field's labels translated once per
  language and process (`_choice_display`), not hashed lazily at each call as Django's does.
"""

import contextvars
import datetime
import decimal
import uuid
import weakref
from collections.abc import Callable
from functools import partialmethod

import jinja2
from django.apps import apps
from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import Model
from django.middleware.csrf import get_token
from django.template import TemplateDoesNotExist, TemplateSyntaxError, defaultfilters, loader
from django.template.backends import jinja2 as jinja2_backend
from django.template.backends.utils import csrf_input
from django.templatetags.static import static
from django.templatetags.tz import localtime
from django.test.signals import template_rendered
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, translation
from django.utils.autoreload import file_changed
from django.utils.dates import MONTHS_3
from django.utils.encoding import force_str
from django.utils.formats import get_format, localize
from django.utils.functional import lazy
from django.utils.hashable import make_hashable
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone, template_localtime
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from accounts.templatetags import lockout_tags
from cases.templatetags import case_tags, form_tags, table_tags, timeline_tags
from conferences.templatetags import conference_tags
from config.rendering import RENDERING, language_and_zone
from handoffs.templatetags import handoff_tags
from reports.templatetags import report_tags
from risk.templatetags import risk_tags
from supervision.templatetags import supervision_tags
from takedowns.templatetags import takedown_tags


def url(name: str, *args, **kwargs) -> str:
    """reverse(); a route whose values are all ids (ints ≥ 0), or that takes none, is reversed once per
    process, URLconf and script prefix, and the ids put in the path it gave (`_url_pieces`). During a render
    the URLconf and script prefix are the ones the render started with (_URL_STATE), not asked of Django's
    thread-and-task locals at each link."""
    values = args or tuple(kwargs.values())
    if all(type(value) is int and value >= 0 for value in values):
        key = (name, len(args), tuple(kwargs), *(_URL_STATE.get() or (get_urlconf(), get_script_prefix())))
        pieces = _URL_PIECES.get(key, False)
        if pieces is False:
            pieces = _URL_PIECES[key] = _url_pieces(name, len(args), tuple(kwargs))
        if pieces is not None:
            first, rest = pieces
            return first + "".join(str(values[index]) + text for index, text in rest) if rest else first
    return reverse(name, args=args or None, kwargs=kwargs or None)


# (URLconf, script prefix) during a render (Template.render); None outside one.
_URL_STATE: contextvars.ContextVar[tuple[object, str] | None] = contextvars.ContextVar("hopluc_url_state",
                                                                                      default=None)
_URL_PIECES: dict[tuple, tuple[str, tuple[tuple[int, str], ...]] | None] = {}


def _url_pieces(name: str, positional: int, keywords: tuple[str, ...]):
    """The path of route `name` as its text before the first value and, for each value in the order the
    path shows them, (its index, the text after it); None when the route does not take any id as it is
    (reversed with two sets of markers of different lengths, which must give the same pieces). A route
    without values: its path and no pieces."""
    if not positional and not keywords:
        try:
            return reverse(name), ()
        except NoReverseMatch:  # reverse() raises it each time
            return None
    found = []
    for base in (9876543210, 1357913579135):
        markers = [base + index for index in range(positional or len(keywords))]
        try:
            path = reverse(name, args=markers if positional else None,
                           kwargs=dict(zip(keywords, markers, strict=True)) if keywords else None)
        except Exception:  # noqa: BLE001 - NoReverseMatch or a converter's refusal: reverse() decides each time
            return None
        places = sorted((path.find(str(marker)), index) for index, marker in enumerate(markers))
        if any(place < 0 or path.count(str(markers[index])) != 1 for place, index in places):
            return None
        ends = [place + len(str(markers[index])) for place, index in places]
        starts = [place for place, _index in places[1:]] + [len(path)]
        if any(end > start for end, start in zip(ends, starts, strict=True)):
            return None
        found.append((path[:places[0][0]], tuple((index, path[end:start]) for (_place, index), end, start
                                                 in zip(places, ends, starts, strict=True))))
    return found[0] if found[0] == found[1] else None


def _static(path: str) -> str:
    """static(path), asked once per process and path: the static files storage gives a path the same URL
    for as long as it lives (it is made anew when a test changes its settings, and this is forgotten then:
    _forget). A path it refuses (a manifest without it) raises each time, as before."""
    if type(path) is not str:
        return static(path)
    url = _STATIC_URLS.get(path)
    if url is None:
        url = static(path)
        if len(_STATIC_URLS) < 256:
            _STATIC_URLS[path] = url
    return url


_STATIC_URLS: dict[str, str] = {}


def _included(template_name: str, tag, takes_context: bool = False):
    """A Django inclusion tag as a function of the templates: `tag`'s dict rendered with `template_name`,
    which sees only that dict and the CSRF token (as the inclusion tag's template did)."""

    def render(context, *args, **kwargs):
        values = dict(tag(context, *args, **kwargs) if takes_context else tag(*args, **kwargs))
        for name in ("csrf_input", "csrf_token"):
            if name in context:
                values[name] = context[name]
        if template_rendered.receivers and _test_instrumented():
            # Under test, through Django's loader and Template.render, which tell the test client.
            return loader.get_template(template_name).render(values)
        # Inside the page's render: the template of the page's environment (its language), in the page's
        # language, time zone and URLconf (set by Template.render), safe as Template.render's is.
        return Markup(context.environment.get_template(template_name).render(values))  # noqa: S704

    return jinja2.pass_context(render)


def _default(value, arg):
    """Django's `default`: `arg` for any false value."""
    return value or arg


def _default_if_none(value, arg):
    return arg if value is None or isinstance(value, jinja2.Undefined) else value


# The date format characters `_date_writer` writes itself: (its %-format, the expression of the value it shows,
# whether it is a time of day), each as Django's DateFormat writes it.
_DATE_PARTS: dict[str, tuple[str, str, bool]] = {
    "d": ("%02d", "value.day", False),
    "j": ("%d", "value.day", False),
    "m": ("%02d", "value.month", False),
    "n": ("%d", "value.month", False),
    "Y": ("%04d", "value.year", False),
    "y": ("%02d", "value.year % 100", False),
    "H": ("%02d", "value.hour", True),
    "G": ("%d", "value.hour", True),
    "i": ("%02d", "value.minute", True),
    "s": ("%02d", "value.second", True),
    "c": ("%s", "value.isoformat()", False),
    "M": ("%s", "months[value.month]", False),
}


class _DateWriter:
    """A date format of the active language written as Django's dateformat.format writes it, compiled
    once into one function: its text with a %-placeholder per format character `%` the tuple of what fills
    each (`write`), and whether it shows a time of day (`times`)."""

    __slots__ = ("times", "write")

    def __init__(self, pattern: str, parts: tuple[str, ...], times: bool, months: dict[int, str]):
        # The source is this table's expressions and the format's text as a literal (repr).
        source = f"lambda value: {pattern!r} % ({''.join(part + ', ' for part in parts)})"
        self.write: Callable[[object], str] = eval(source, {"__builtins__": {}, "months": months})  # noqa: S307
        self.times = times


# The language and time zone of the page being rendered (Template.render), read by the filters at each date
# instead of asking Django's thread-and-task locals each time; None outside a render (config.rendering).
_RENDERING = RENDERING
_language_and_zone = language_and_zone

# settings.USE_TZ, read once per process (and again when a test changes it: _forget), not at each date a
# page shows: a read of django.conf.settings is a Python call of its own.
_USE_TZ: list[bool] = [settings.USE_TZ]


def _local(value, zone: datetime.tzinfo):
    """template_localtime(value) in `zone`, the current time zone."""
    if (isinstance(value, datetime.datetime) and _USE_TZ[0] and value.utcoffset() is not None
            and getattr(value, "convert_to_local_time", True)):
        return value.astimezone(zone)
    return value


def _date_writer(format_name: str | None, language: str | None) -> _DateWriter | None:
    """The writer of the date format named `format_name` (DATE_FORMAT when None, or a format string
    itself) in `language`, the active one; None when it has a character _DATE_PARTS does not write
    (Django's dateformat writes it)."""
    key = (language, format_name)
    try:
        return _DATE_WRITERS[key]
    except KeyError:
        pass
    pattern, parts, times = [], [], False
    months = {number: str(name).title() for number, name in MONTHS_3.items()}
    for index, piece in enumerate(dateformat.re_formatchars.split(str(get_format(format_name or "DATE_FORMAT")))):
        if index % 2 == 0:
            pattern.append(dateformat.re_escaped.sub(r"\1", piece).replace("%", "%%"))
        elif piece in _DATE_PARTS:
            placeholder, part, time_of_day = _DATE_PARTS[piece]
            pattern.append(placeholder)
            parts.append(part)
            times = times or time_of_day
        else:
            _DATE_WRITERS[key] = None
            return None
    writer = _DATE_WRITERS[key] = _DateWriter("".join(pattern), tuple(parts), times, months)
    return writer


_DATE_WRITERS: dict[tuple[str | None, str | None], _DateWriter | None] = {}


def _format_date(value, format_name: str | None, language: str | None) -> str:
    """defaultfilters.date(value, format_name) of a date or datetime already in local time."""
    writer = _date_writer(format_name, language)
    if writer is None or (writer.times and not isinstance(value, datetime.datetime)):
        return defaultfilters.date(value, format_name)
    return writer.write(value)


def _date(value, arg=None):
    if type(value) is datetime.datetime:
        # The dates of a page: a datetime (no subclass) during a render,
        # in a format of the language compiled already: written at once, as below.
        state = _RENDERING.get()
        if state is not None:
            writer = _DATE_WRITERS.get((state[0], arg))
            if writer is not None:
                return writer.write(_local(value, state[1]))
    if value is None or value == "" or isinstance(value, jinja2.Undefined):
        return ""
    language, zone = _language_and_zone()
    value = _local(value, zone)
    if isinstance(value, datetime.date):
        return _format_date(value, arg, language)
    return defaultfilters.date(value, arg)


def _time(value, arg=None):
    if value is None or value == "" or isinstance(value, jinja2.Undefined):
        return ""
    return defaultfilters.time(template_localtime(value), arg)


_LOCALIZED = (datetime.date, datetime.time, float, decimal.Decimal)


def _finalize(value):
    """What Django's template showed for `{{ value }}`: dates and numbers in the reader's format (an int
    is shown as it is: no thousands separator in this project's settings)."""
    if isinstance(value, _LOCALIZED):
        if type(value) is datetime.datetime:
            return _date(value, "DATETIME_FORMAT")
        if isinstance(value, datetime.date):
            language, zone = _language_and_zone()
            value = _local(value, zone)
            return _format_date(value, "DATETIME_FORMAT" if isinstance(value, datetime.datetime) else "DATE_FORMAT",
                                language)
        return localize(template_localtime(value))
    return value


FILTERS = {
    "default": _default,
    "default_if_none": _default_if_none,
    "date": _date,
    "time": _time,
    "localtime": localtime,
    "truncatechars": defaultfilters.truncatechars,
    "linebreaksbr": defaultfilters.linebreaksbr,
    "urlencode": defaultfilters.urlencode,
    "yesno": defaultfilters.yesno,
    "stringformat": defaultfilters.stringformat,
    "json_script": defaultfilters.json_script,
    # The project's filters.
    "fields": form_tags.fields,
    "duration": supervision_tags.duration,
    "deadline_label": supervision_tags.deadline_label,
    "milestone_label": supervision_tags.milestone_label,
    "category_labels": supervision_tags.category_labels,
    "risk_level_label": supervision_tags.risk_level_label,
}

GLOBALS = {
    "url": url,
    "static": _static,
    "language_code": translation.get_language,
    # The token of a form that writes once however often it is sent (cases.sending), for a form whose
    # view gives none: each form drawn gets its own (_sending_token.html).
    "new_sending_token": uuid.uuid4,
    # The project's template tags.
    "staff_lockouts": lockout_tags.staff_lockouts,
    "lockout_of": lockout_tags.lockout_of,
    "id_url_prefix": supervision_tags.id_url_prefix,
    "register_rows": supervision_tags.register_rows,
    "case_card_items": case_tags.case_card_items,
    "handoff_card_items": handoff_tags.handoff_card_items,
    "timeline_items": timeline_tags.timeline_items,
    "my_cases": _included("cases/_my_cases_summary.html", case_tags.my_cases, takes_context=True),
    "column_heads": _included("_column_heads.html", table_tags.column_heads),
    "plan_panel": _included("conferences/_plan_panel.html", conference_tags.plan_panel),
    "case_coordination": _included(
        "handoffs/_case_coordination.html", handoff_tags.case_coordination, takes_context=True),
    "incoming_handoffs": _included(
        "handoffs/_home_incoming.html", handoff_tags.incoming_handoffs, takes_context=True),
    "monthly_report_list": _included(
        "reports/_report_list.html", report_tags.monthly_report_list, takes_context=True),
    "risk_panel": _included("risk/_panel.html", risk_tags.risk_panel, takes_context=True),
    "case_takedowns": _included("takedowns/_case_takedowns.html", takedown_tags.case_takedowns, takes_context=True),
}


class _Uncalled:
    """A method a template read and did not call (Django's templates called it; Jinja2 does not): using it
    as a value (shown, tested, iterated, compared) is an error, calling it is calling the method."""

    __slots__ = ("_method", "_name")

    def __init__(self, method, name):
        self._method, self._name = method, name

    def __call__(self, *args, **kwargs):
        return self._method(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._method, name)

    def _misused(self, *args):
        raise TypeError(f"template: the method {self._name!r} is read but not called: write {self._name}()")

    __bool__ = __str__ = __html__ = __iter__ = __len__ = __eq__ = __ne__ = __lt__ = __gt__ = __contains__ = _misused
    __hash__ = None  # type: ignore[assignment]


class _StaticTranslations(NodeTransformer):
    """Puts the translation in `language` (the active one) of each `_("literal")` and `{% trans %}` without
    a plural into a parsed template, as constants (see _Environment). A template that names `_` or `gettext`
    itself (a variable, parameter, macro or import) keeps that name's calls as they are."""

    def __init__(self, tree: nodes.Template):
        named = {node.name for node in tree.find_all(nodes.Name) if node.ctx != "load"}
        named |= {node.name for node in tree.find_all(nodes.Macro)}
        named |= {node.target for node in tree.find_all(nodes.Import)}
        named |= {alias if isinstance(alias, str) else alias[-1]
                  for node in tree.find_all(nodes.FromImport) for alias in node.names}
        self._folded = {"_", "gettext"} - named

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        node = self.generic_visit(node)
        if not (isinstance(node.node, nodes.Name) and node.node.name in self._folded and len(node.args) == 1
                and isinstance(node.args[0], nodes.Const) and type(node.args[0].value) is str
                and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        text = translation.gettext(node.args[0].value)
        folded: nodes.Expr
        if node.node.name == "_":
            if node.kwargs:
                return node
            folded = nodes.Const(text)
        else:
            # Jinja2's newstyle gettext: the translation as markup when autoescaping, `%` its values.
            folded = nodes.Mod(nodes.MarkSafeIfAutoescape(nodes.Const(text)), nodes.Dict(
                [nodes.Pair(nodes.Const(keyword.key), keyword.value) for keyword in node.kwargs]))
        folded.set_lineno(node.lineno)
        folded.set_environment(node.environment)
        return folded


_NO_LANGUAGE = object()


class _Environment(jinja2.Environment):
    """The pages' environment. Its variant for a language (Jinja2.env_for, an overlay) translates the static
    text of each template it compiles into that language (_StaticTranslations); the environment itself
    (from_string) translates at render time."""

    static_language: object = _NO_LANGUAGE

    def make_globals(self, d):
        """A template's globals as one dict, the environment's and its own (`d`), not Jinja2's ChainMap of
        the two: each render, include and import copies them into a context, and the ChainMap's Python
        methods were called for every name at each (a score of contexts a case page). The environment's
        globals are all set when it is made (environment()), before any template is loaded; a change of
        a template's globals still changes only that template's."""
        return {**self.globals, **(d or {})}

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        if self.static_language is _NO_LANGUAGE:
            return tree
        with translation.override(self.static_language):  # type: ignore[arg-type]
            return _StaticTranslations(tree).visit(tree)


class _StrictCallsEnvironment(_Environment):
    """The environment of the tests and development (TEMPLATE_STRICT_CALLS): a method, or any callable
    Django's templates would have called, read with `a.b` and not called fails loudly instead of being a
    true value or showing as "<bound method …>"."""

    def getattr(self, obj, attribute):
        value = super().getattr(obj, attribute)
        if (callable(value) and not isinstance(value, (type, jinja2.Undefined))
                and not getattr(value, "do_not_call_in_templates", False)):
            return _Uncalled(value, attribute)
        return value


def environment(**options) -> jinja2.Environment:
    options["undefined"] = jinja2.ChainableUndefined
    strict = getattr(settings, "TEMPLATE_STRICT_CALLS", False)
    env = (_StrictCallsEnvironment if strict else _Environment)(
        extensions=["jinja2.ext.i18n"], finalize=_finalize, **options)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translation.gettext, translation.ngettext, newstyle=True,
        pgettext=translation.pgettext, npgettext=translation.npgettext,
    )
    # `_("…")` is {% translate %}: its text escaped where shown. (The gettext that {% trans %} blocks
    # call is Jinja2's newstyle one: the message is markup, its %(name)s values escaped, as blocktranslate.)
    env.globals["_"] = translation.gettext
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


def _test_instrumented() -> bool:
    """Whether Django's test instrumentation is on (setup_test_environment: the test runner, pytest-django),
    which makes the Django template language send template_rendered; not in a benchmark's test Client."""
    from django.template.base import Template as DjangoTemplate
    from django.test.utils import instrumented_test_render

    return DjangoTemplate._render is instrumented_test_render


class _Once:
    """func(request), called the first time it is asked for."""

    __slots__ = ("_func", "_request", "_value")

    def __init__(self, func, request):
        self._func, self._request, self._value = func, request, None

    def __call__(self) -> str:
        if self._value is None:
            self._value = self._func(self._request)
        return self._value


_memo_safe = lazy(lambda once: once(), SafeString)
_memo_str = lazy(lambda once: once(), str)


class Template(jinja2_backend.Template):
    """Django's Jinja2 template, whose render() is safe text as the Django template language's is, and that
    also tells the test client what it rendered, with which context (the template_rendered signal the
    Django template language sends under test instrumentation), when anything listens."""

    @property
    def name(self) -> str | None:
        return self.template.name

    def render(self, context=None, request=None):
        template = self.template
        language = translation.get_language()
        static_language = getattr(template.environment, "static_language", _NO_LANGUAGE)
        if static_language is not _NO_LANGUAGE and static_language != language:
            # Fetched in another language than the one it is shown in: that language's variant.
            template = self.backend.env_for(language).get_template(template.name)
        if context is None:
            context = {}
        if request is not None:
            context["request"] = request
            # One masked token per page, not one per form (the mask is random per response).
            context["csrf_input"] = _memo_safe(_Once(csrf_input, request))
            context["csrf_token"] = _memo_str(_Once(get_token, request))
            for context_processor in self.backend.template_context_processors:
                context.update(context_processor(request))
        if template_rendered.receivers and _test_instrumented():
            template_rendered.send(sender=self, template=self, context=context)
        rendering = _RENDERING.set((language, get_current_timezone()))
        # The links of a page, and of the templates it renders inside it, with the URLconf and script prefix
        # the outermost render started with.
        urls = None if _URL_STATE.get() is not None else _URL_STATE.set((get_urlconf(), get_script_prefix()))
        try:
            # Safe, as the Django template language's render() is: a view may pass it into another page.
            return mark_safe(template.render(context))  # noqa: S308
        except jinja2.TemplateSyntaxError as exc:
            new = TemplateSyntaxError(exc.args)
            new.template_debug = jinja2_backend.get_exception_info(exc)
            raise new from exc
        finally:
            _RENDERING.reset(rendering)
            if urls is not None:
                _URL_STATE.reset(urls)


class Jinja2(jinja2_backend.Jinja2):
    """Django's Jinja2 backend whose template files are compiled once per language (env_for)."""

    def __init__(self, params):
        super().__init__(params)
        self._by_language: dict[str | None, jinja2.Environment] = {}
        _BACKENDS.add(self)
        _install_choice_displays()

    def env_for(self, language: str | None) -> jinja2.Environment:
        """The environment whose templates have their static text in `language` (the active one)."""
        env = self._by_language.get(language)
        if env is None:
            cache = self.env.cache
            size = 0 if cache is None else -1 if isinstance(cache, dict) else cache.capacity
            env = self.env.overlay(cache_size=size)
            env.static_language = language  # type: ignore[attr-defined]
            self._by_language[language] = env
        return env

    def forget_translations(self) -> None:
        self._by_language.clear()

    def from_string(self, template_code):
        return Template(self.env.from_string(template_code), self)

    def get_template(self, template_name):
        try:
            return Template(self.env_for(translation.get_language()).get_template(template_name), self)
        except jinja2.TemplateNotFound as exc:
            raise TemplateDoesNotExist(exc.name, backend=self) from exc
        except jinja2.TemplateSyntaxError as exc:
            new = TemplateSyntaxError(exc.args)
            new.template_debug = jinja2_backend.get_exception_info(exc)
            raise new from exc


_BACKENDS: "weakref.WeakSet[Jinja2]" = weakref.WeakSet()


def _choice_display(self, field):
    """Model._get_FIELD_display: the label of the field's value in the active language, with the labels of
    the field's (fixed) choices translated once per language and process."""
    value = getattr(self, field.attname)
    state = _RENDERING.get()
    key = (field, state[0] if state else translation.get_language())
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        labels = _CHOICE_LABELS[key] = {choice: force_str(label, strings_only=True)
                                        for choice, label in make_hashable(field.flatchoices)}
    try:
        return labels[value]
    except (KeyError, TypeError):  # a value not among the choices, or not hashable as it is
        return Model._get_FIELD_display(self, field)


_CHOICE_LABELS: dict[tuple, dict] = {}


def _install_choice_displays() -> None:
    """Each model's get_<field>_display() that Django made, of a field with fixed choices (a list, not a
    callable's), is _choice_display."""
    for model in apps.get_models(include_auto_created=True):
        for name, method in list(vars(model).items()):
            if (isinstance(method, partialmethod) and method.func is Model._get_FIELD_display
                    and isinstance(method.keywords.get("field") and method.keywords["field"].choices, (list, tuple))):
                setattr(model, name, partialmethod(_choice_display, **method.keywords))


def _forget(**kwargs) -> None:
    """Compiled templates and date writers hold translations and formats: forgotten when a test changes a
    setting, and when a catalog (.mo) changes under the development server."""
    if kwargs.get("setting") is not None or str(kwargs.get("file_path", "")).endswith(".mo"):
        _USE_TZ[0] = settings.USE_TZ
        _DATE_WRITERS.clear()
        _URL_PIECES.clear()
        _STATIC_URLS.clear()
        _CHOICE_LABELS.clear()
        for backend in list(_BACKENDS):
            backend.forget_translations()


setting_changed.connect(_forget, dispatch_uid="config.jinja2.forget")
file_changed.connect(_forget, dispatch_uid="config.jinja2.forget")

