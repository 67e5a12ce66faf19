"""API rate limits: every API endpoint is throttled per user and per anonymous address, the token
endpoint more strictly, and an exceeded limit is answered 429 with Retry-After. The counts live in the
shared cache (Redis, or files on the embedded default), so every web process sees them."""

import json
import os
import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from accounts.throttles import WINDOW_KEY_SUFFIX, AnonymousRateThrottle, AuthTokenRateThrottle, UserRateThrottle
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def fresh_counts(settings):
    """Counts of this test only: the cache outlives each test's database transaction."""
    settings.CACHES = {"default": {**django_settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


def rates(settings, **scopes):
    rates = {"anon": "1000/min", "user": "1000/min", "auth_token": "1000/min", **scopes}
    settings.REST_FRAMEWORK = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_user_over_the_rate_gets_429_with_retry_after(client, world, settings):
    rates(settings, user="3/min")
    client.force_login(world.lead_responder)
    assert [client.get("/api/me/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/notifications/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    # Someone else is counted apart.
    other = Client()
    other.force_login(world.lead_supervisor)
    assert other.get("/api/me/").status_code == 200


def test_token_endpoint_has_its_own_stricter_rate_per_address(world, settings):
    rates(settings, auth_token="2/min")
    first = Client(REMOTE_ADDR="198.51.100.7")
    payload = json.dumps({"username": "lead_responder", "password": PASSWORD})
    post = lambda c: c.post("/api/auth/token/", payload, content_type="application/json")  # noqa: E731
    assert [post(first).status_code for _ in range(2)] == [200, 200]
    response = post(first)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "token" not in response.json()
    assert post(Client(REMOTE_ADDR="192.0.2.10")).status_code == 200


def test_anonymous_callers_are_throttled_per_address(world, settings):
    rates(settings, anon="2/min")
    caller = Client(REMOTE_ADDR="198.51.100.7")
    bad = json.dumps({"username": "x", "password": "y"})
    codes = [caller.post("/api/auth/token/", bad, content_type="application/json").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_behind_the_proxy_each_client_address_has_its_own_count(world, settings):
    settings.AUDIT_TRUSTED_PROXIES = 1
    rates(settings, auth_token="1/min")
    payload = json.dumps({"username": "lead_responder", "password": PASSWORD})
    proxy = Client(REMOTE_ADDR="10.0.0.2")

    def post(forwarded_for):
        return proxy.post("/api/auth/token/", payload, content_type="application/json",
                          HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    assert post("198.51.100.7") == 200
    # A forged left part does not make a new client; the address the proxy saw does.
    assert post("203.0.113.9, 198.51.100.7") == 429
    assert post("192.0.2.10") == 200


def _api_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, route)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
            if isinstance(view_class, type) and issubclass(view_class, APIView):
                yield route, view_class


def test_every_api_endpoint_is_throttled_per_user_and_per_address():
    views = list(_api_views())
    assert len(views) > 10
    unthrottled = [
        route for route, view in views
        if not {AnonymousRateThrottle, UserRateThrottle} <= set(view.throttle_classes)
    ]
    assert not unthrottled, f"API endpoints without the user and anonymous throttles: {unthrottled}"
    token_view = dict(views)["api/auth/token/"]
    assert AuthTokenRateThrottle in token_view.throttle_classes


def test_throttle_counts_live_in_the_shared_cache_of_the_topology():
    backend = django_settings.CACHES["default"]["BACKEND"]
    if os.environ.get("REDIS_URL"):
        assert backend == "config.cache.RedisCache"
    else:
        assert backend == "django.core.cache.backends.filebased.FileBasedCache"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis cache backend needs REDIS_URL")
def test_redis_cache_reuses_one_client_per_pool_and_stores_in_redis():
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

    cache = caches["default"]
    assert isinstance(cache, DjangoRedisCache)
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is client
    assert client.connection is None  # no connection held between commands: the pool lends one per command
    key = f"reuse-{uuid.uuid4().hex}"
    cache.set(key, {"n": 1}, 30)
    assert cache.get(key) == {"n": 1}
    # What another process sees: the value is in Redis under Django's key, not in this object.
    assert client.exists(cache.make_key(key)) == 1
    cache.delete(key)
    assert cache.get(key) is None


@pytest.mark.parametrize("scope", ["anon", "user", "auth_token"])
def test_production_rates_are_set(scope):
    from config.settings import base

    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]


# --- One round trip on Redis (accounts.throttles._SLIDING_WINDOW) ----------------------------------

redis_only = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the one-round-trip window needs Redis")


class _Person:
    is_authenticated = True

    def __init__(self, pk):
        self.pk = pk


def _throttle_call(clock, user_id=7):
    """A UserRateThrottle's decision for one request at `clock[0]` (seconds): (allowed, throttle)."""
    from django.test import RequestFactory

    request = RequestFactory().get("/api/me/", REMOTE_ADDR="198.51.100.7")
    request.user = _Person(user_id)
    throttle = UserRateThrottle()
    throttle.timer = lambda: clock[0]
    return throttle.allow_request(request, None), throttle


@pytest.fixture
def redis_commands(monkeypatch):
    """The commands the default cache's Redis client sends (counted, then sent as they would be)."""
    from django.core.cache import caches

    client = caches["default"]._cache.get_client(write=True)
    sent = []
    execute = client.execute_command

    def counting(*args, **options):
        sent.append(args[0])
        return execute(*args, **options)

    monkeypatch.setattr(client, "execute_command", counting)
    return sent


@redis_only
def test_limit_holds_at_the_limit_with_one_round_trip_a_request(settings, redis_commands):
    rates(settings, user="3/min")
    _throttle_call([999_000.0], user_id=6)  # the server learns the script (once per server)
    clock = [1_000_000.0]
    decisions = []
    for second in (0, 10, 20, 30):
        clock[0] = 1_000_000.0 + second
        del redis_commands[:]
        allowed, throttle = _throttle_call(clock)
        decisions.append(allowed)
        assert redis_commands == ["EVALSHA"]
    assert decisions == [True, True, True, False]
    # DRF's Retry-After: until the oldest request (second 0) leaves the minute, for the one request left.
    assert throttle.wait() == pytest.approx(30.0)


@redis_only
def test_window_slides_as_drfs_does(settings):
    rates(settings, user="3/min")
    start = 2_000_000.0
    clock = [start]
    for second in (0, 10, 20):
        clock[0] = start + second
        assert _throttle_call(clock)[0]
    clock[0] = start + 59.9
    allowed, throttle = _throttle_call(clock)
    assert not allowed and throttle.wait() == pytest.approx(0.1)
    # The request of second 0 is out at exactly one minute (DRF drops times <= now - duration).
    clock[0] = start + 60.0
    assert _throttle_call(clock)[0]
    assert not _throttle_call(clock)[0]
    # Someone else has their own window.
    assert _throttle_call(clock, user_id=8)[0]


@redis_only
def test_window_key_ends_with_the_window(settings):
    from django.core.cache import caches

    rates(settings, user="5/min")
    clock = [3_000_000.0]
    _allowed, throttle = _throttle_call(clock)
    backend = caches["default"]
    client = backend._cache.get_client(write=True)
    key = backend.make_and_validate_key(throttle.key + WINDOW_KEY_SUFFIX)
    assert client.llen(key) == 1
    assert 0 < client.pttl(key) <= 60_000


@redis_only
def test_simultaneous_requests_never_pass_the_limit(settings):
    """DRF's read-then-write let two requests of one caller both pass at the limit; the script cannot."""
    from concurrent.futures import ThreadPoolExecutor

    rates(settings, user="10/min")
    clock = [4_000_000.0]
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(lambda _i: _throttle_call(clock)[0], range(40)))
    assert decisions.count(True) == 10
