"""The API's JSON parser, bounded: a body over API_JSON_MAX_BYTES or nested deeper than
API_JSON_MAX_DEPTH is answered 400 before it is decoded.

DRF's own JSONParser hands any body to the json module, whose C decoder recurses once per level:
a few kilobytes of "[[[[..." raised RecursionError, a 500 on every JSON endpoint, even without
signing in. The depth is measured first, on the raw text with strings blanked out, which costs one
regular-expression pass and no recursion.
"""

import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# A JSON string (with its escapes); brackets inside strings do not nest anything.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (0 for a scalar). Malformed text gets some
    number; the decoder then refuses it."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.API_JSON_MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(_("The request body is larger than %(limit)d bytes.") % {"limit": limit})
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(_("The request body is not valid %(encoding)s text.") % {"encoding": encoding}) from None
        if json_depth(text) > settings.API_JSON_MAX_DEPTH:
            raise ParseError(
                _("The JSON body nests more than %(depth)d levels deep.") % {"depth": settings.API_JSON_MAX_DEPTH}
            )
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("JSON parse error - %(detail)s") % {"detail": exc}) from None


