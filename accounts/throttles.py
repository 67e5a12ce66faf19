"""API rate limits. The client address is the audit trail's (`AUDIT_TRUSTED_PROXIES`), and the rates
are read at each request, so that a test can lower them.

DRF's throttle keeps each caller's recent request times as one cached list, read and written back on
every API call: two cache round trips, and two requests of one caller at the same moment can both read
the same list and both pass at the limit. On the Redis cache the same sliding window is a Redis list
handled by one Lua script (`_SLIDING_WINDOW`): drop the times older than the window, refuse when as
many as the limit remain, else push this one and renew the key's lifetime, in one round trip and
atomically. Same limits, the same 429 and Retry-After (`wait`, DRF's formula over the same window).
Any other cache (the embedded default's files) keeps DRF's own code.
"""

from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from rest_framework import throttling
from rest_framework.settings import api_settings

from audit.context import client_ip

# KEYS[1]: the window (a list of request times, newest first); ARGV: now, the window's length in
# seconds, the limit. Answers {1 allowed or 0 refused, requests in the window, the oldest one's time}.
_SLIDING_WINDOW = """
local key, now = KEYS[1], tonumber(ARGV[1])
local duration, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
while true do
    local oldest = redis.call('LINDEX', key, -1)
    if not oldest or tonumber(oldest) > now - duration then break end
    redis.call('RPOP', key)
end
local count = redis.call('LLEN', key)
if count >= limit then
    return {0, count, redis.call('LINDEX', key, -1)}
end
redis.call('LPUSH', key, ARGV[1])
redis.call('PEXPIRE', key, math.ceil(duration * 1000))
return {1, count + 1, redis.call('LINDEX', key, -1)}
"""
# The window's own key next to DRF's (a list, where DRF kept a pickled value under its key).
WINDOW_KEY_SUFFIX = ":window"


def _sliding_window_script(cache):
    """The script bound to the cache's Redis client for writes (registered once per client), or None
    when the cache is not Redis."""
    # DRF's `cache` is Django's proxy of the default cache: the backend behind it now (tests replace it).
    backend = cache._connections[cache._alias] if isinstance(cache, ConnectionProxy) else cache
    if not isinstance(backend, RedisCache):
        return None, None
    client = backend._cache.get_client(write=True)
    script = getattr(client, "_hopluc_sliding_window", None)
    if script is None:
        script = client._hopluc_sliding_window = client.register_script(_SLIDING_WINDOW)
    return backend, script


class _AddressAndSettings:
    _window: tuple[int, float] | None = None

    def get_ident(self, request):
        return client_ip(request) or request.META.get("REMOTE_ADDR", "")

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        # The key first, as DRF's allow_request: none (a signed-in caller of the anonymous throttle) is a pass.
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        backend, script = _sliding_window_script(self.cache)
        if script is None:
            return super().allow_request(request, view)
        self.now = self.timer()
        allowed, count, oldest = script(
            keys=[backend.make_and_validate_key(self.key + WINDOW_KEY_SUFFIX)],
            args=[repr(self.now), self.duration, self.num_requests],
        )
        self._window = (int(count), float(oldest))
        return self.throttle_success() if allowed else self.throttle_failure()

    def throttle_success(self):
        if self._window is None:
            return super().throttle_success()
        return True

    def wait(self):
        """DRF's wait over the window the script saw: the time until its oldest request leaves it,
        shared among the requests left."""
        if self._window is None:
            return super().wait()
        count, oldest = self._window
        remaining_duration = self.duration - (self.now - oldest) if count else self.duration
        available_requests = self.num_requests - count + 1
        if available_requests <= 0:
            return None
        return remaining_duration / float(available_requests)


class AnonymousRateThrottle(_AddressAndSettings, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_AddressAndSettings, throttling.UserRateThrottle):
    pass


class AuthTokenRateThrottle(_AddressAndSettings, throttling.SimpleRateThrottle):
    """Per client address on the token endpoint, signed in or not: guessing passwords is limited by
    axes' lockout too, this keeps one address from trying many usernames quickly."""

    scope = "auth_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
