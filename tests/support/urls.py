"""Every URL pattern of the URL conf, and a concrete path for each: for the crawls that ask every page
and API answer something (security headers, English on Vietnamese pages, accessibility)."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_ALTERNATIVES = re.compile(r"\(\?P<\w+>([\w-]+)(?:\|[\w|-]+)?\)")
_REGEX_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)")


def url_patterns(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def concrete(pattern: str, ids: dict[str, int]) -> str:
    """A path that matches the pattern: route parameters get ids of the world, regex groups their
    first alternative or a placeholder."""
    path = _ROUTE_PARAM.sub(lambda m: str(ids.get(m["name"], 1)) if m["converter"] in ("int", "path", None)
                            else "csv", pattern)
    path = _REGEX_ALTERNATIVES.sub(r"\1", path)
    path = _REGEX_GROUP.sub("x", path)
    path = path.replace("^", "").replace("$", "").replace(r"\Z", "").replace("\\", "")
    return "/" + path
