"""The Redis cache backend: Django's, with one client object per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call (`get_client`), and that
constructor fills a table of about 170 response callbacks each time: two per API request for the
throttle's read and write, one per page for the navigation's roles version. A `redis.Redis` that
shares a connection pool holds no connection of its own between commands (the pool hands one out per
command and takes it back) and is safe to share between threads, so one per pool is kept and reused.
Same pools, same commands, same keys and values.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
