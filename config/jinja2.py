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
"""

import datetime
import decimal

import jinja2
from django.conf import settings
from django.template import TemplateSyntaxError, defaultfilters, loader
from django.template.backends import jinja2 as jinja2_backend
from django.template.backends.utils import csrf_input_lazy, csrf_token_lazy
from django.templatetags.static import static
from django.templatetags.tz import localtime
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import translation
from django.utils.formats import localize
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from accounts.templatetags import lockout_tags
from cases.templatetags import case_tags, form_tags, table_tags
from conferences.templatetags import conference_tags
from handoffs.templatetags import handoff_tags
from reports.templatetags import report_tags
from risk.templatetags import risk_tags
from supervision.templatetags import supervision_tags
from takedowns.templatetags import takedown_tags


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def _included(template_name: str, tag, takes_context: bool = False):
    """A Django inclusion tag as a function of the templates: `tag`'s dict rendered with `template_name`,
    which sees only that dict and the CSRF token (as the inclusion tag's template did)."""

    def render(context, *args, **kwargs):
        values = dict(tag(context, *args, **kwargs) if takes_context else tag(*args, **kwargs))
        for name in ("csrf_input", "csrf_token"):
            if name in context:
                values[name] = context[name]
        return loader.get_template(template_name).render(values)

    return jinja2.pass_context(render)


def _default(value, arg):
    """Django's `default`: `arg` for any false value."""
    return value or arg


def _default_if_none(value, arg):
    return arg if value is None or isinstance(value, jinja2.Undefined) else value


def _date(value, arg=None):
    if value is None or value == "" or isinstance(value, jinja2.Undefined):
        return ""
    return defaultfilters.date(template_localtime(value), arg)


def _time(value, arg=None):
    if value is None or value == "" or isinstance(value, jinja2.Undefined):
        return ""
    return defaultfilters.time(template_localtime(value), arg)


_LOCALIZED = (datetime.date, datetime.time, float, decimal.Decimal)


def _finalize(value):
    """What Django's template showed for `{{ value }}`: dates and numbers in the reader's format (an int
    is shown as it is: no thousands separator in this project's settings)."""
    if isinstance(value, _LOCALIZED):
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
    "static": static,
    "language_code": translation.get_language,
    # The project's template tags.
    "staff_lockouts": lockout_tags.staff_lockouts,
    "lockout_of": lockout_tags.lockout_of,
    "id_url_prefix": supervision_tags.id_url_prefix,
    "register_rows": supervision_tags.register_rows,
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


class _StrictCallsEnvironment(jinja2.Environment):
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
    env = (_StrictCallsEnvironment if strict else jinja2.Environment)(
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


class Template(jinja2_backend.Template):
    """Django's Jinja2 template, whose render() is safe text as the Django template language's is, and that
    also tells the test client what it rendered, with which context (the template_rendered signal the
    Django template language sends under test instrumentation), when anything listens."""

    @property
    def name(self) -> str | None:
        return self.template.name

    def render(self, context=None, request=None):
        if context is None:
            context = {}
        if request is not None:
            context["request"] = request
            context["csrf_input"] = csrf_input_lazy(request)
            context["csrf_token"] = csrf_token_lazy(request)
            for context_processor in self.backend.template_context_processors:
                context.update(context_processor(request))
        if template_rendered.receivers and _test_instrumented():
            template_rendered.send(sender=self, template=self, context=context)
        try:
            # Safe, as the Django template language's render() is: a view may pass it into another page.
            return mark_safe(self.template.render(context))  # noqa: S308
        except jinja2.TemplateSyntaxError as exc:
            new = TemplateSyntaxError(exc.args)
            new.template_debug = jinja2_backend.get_exception_info(exc)
            raise new from exc


class Jinja2(jinja2_backend.Jinja2):
    def from_string(self, template_code):
        return Template(self.env.from_string(template_code), self)

    def get_template(self, template_name):
        return Template(super().get_template(template_name).template, self)

