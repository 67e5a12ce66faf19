"""URL resolving that remembers: the site's patterns behind one resolver that keeps the match of each
path it resolved (config.urls).

Django resolves every request's path by trying the root's patterns in order, and each include that
does not match raises Resolver404 and lists what it tried: the pages and API of the mix sit behind
the accounts include ("", 22 patterns) and several "api/" includes, so a path of the mix cost 110-180 us
of CPU against 36 us for the first pattern (/healthz), measured at load 10. Resolving depends on the
path alone (the patterns are fixed once imported), so the match of a path is kept and used again; the
root resolver still builds a fresh ResolverMatch for each request from it, as it does from any include's.
Paths that resolve to nothing are not kept (anyone can send any number of them). At most
CACHED_PATHS paths are kept per process; when full, the table starts again empty.
"""

from django.urls import URLResolver
from django.urls.resolvers import RoutePattern

CACHED_PATHS = 4096


class RememberingResolver(URLResolver):
    """`path("", include(patterns))`, with the match of each path it resolved kept."""

    def __init__(self, patterns: list):
        super().__init__(RoutePattern(""), patterns)
        self._matches: dict[str, object] = {}

    def resolve(self, path):
        path = str(path)
        match = self._matches.get(path)
        if match is None:
            match = super().resolve(path)
            if len(self._matches) >= CACHED_PATHS:
                self._matches.clear()
            self._matches[path] = match
        return match
