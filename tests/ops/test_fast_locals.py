"""Issue 15: Django's request-scoped locals (language, time zone, URLconf, script prefix, caches) are read
through config.fastlocals.FastLocal, which must see exactly what asgiref's Local sees, in every thread and
context asgiref knows."""

import asyncio
import contextvars
import os
import subprocess
import sys
import threading

import pytest
from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core import cache
from django.urls import base as urls_base
from django.utils import timezone, translation
from django.utils.translation import trans_real

from config import fastlocals
from config.fastlocals import FastLocal, fast_local

_MISSING = object()


def _both(raw, fast, key="value"):
    """What asgiref's Local and the fast view of it read for `key` (the same, or the test fails)."""
    seen = getattr(raw, key, _MISSING), getattr(fast, key, _MISSING)
    assert seen[0] is seen[1], seen
    return seen[0]


def test_reads_what_asgiref_reads_and_writes_through_it():
    raw = Local()
    fast = fast_local(raw)
    assert isinstance(fast, FastLocal)
    assert _both(raw, fast) is _MISSING
    with pytest.raises(AttributeError):
        fast.value  # noqa: B018 - reading is the test
    marker = object()
    fast.value = marker
    assert _both(raw, fast) is marker
    other = object()
    raw.value = other
    assert _both(raw, fast) is other
    raw.default = marker
    assert _both(raw, fast, "default") is marker
    del fast.value
    assert _both(raw, fast) is _MISSING
    with pytest.raises(AttributeError):
        del fast.value
    # Its own attributes stay reachable, so it still looks like an object.
    assert type(fast) is FastLocal and fast.__class__ is FastLocal


def test_threads_and_contexts_see_what_asgiref_lets_them_see():
    raw = Local()
    fast = fast_local(raw)
    raw.value = "main"
    # A new thread sees nothing of this thread's values.
    seen = []
    thread = threading.Thread(target=lambda: seen.append(_both(raw, fast)))
    thread.start()
    thread.join()
    assert seen == [_MISSING]
    # A copy of this thread's context run in another thread: asgiref hides storage owned by another thread
    # (that is the check on the owner thread; without it the fast view would read "main" here).
    context = contextvars.copy_context()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(context.run(_both, raw, fast)))
    thread.start()
    thread.join()
    assert seen == [_MISSING]

    # asgiref's hand-over between sync and async code: values travel both ways as asgiref moves them.
    def sync_part():
        before = _both(raw, fast)
        fast.value = "set in sync_to_async"
        return before

    async def async_part():
        before = _both(raw, fast)
        inner = await sync_to_async(sync_part)()
        after = _both(raw, fast)
        raw.value = "set in async"

        async def in_a_task():
            return _both(raw, fast)

        return before, inner, after, await asyncio.create_task(in_a_task())

    def handover():
        # In a thread of its own: a test run before this one in the same process may leave an event loop
        # running in the main thread (Playwright's sync API does), where async_to_sync refuses to run.
        raw.value = "main"
        return async_to_sync(async_part)(), _both(raw, fast)

    results = []
    thread = threading.Thread(target=lambda: results.append(handover()))
    thread.start()
    thread.join()
    assert results == [(("main", "main", "set in sync_to_async", "set in async"), "set in async")]


def test_not_an_asgiref_local_is_left_alone():
    thread_critical = Local(thread_critical=True)
    assert fast_local(thread_critical) is thread_critical
    plain = threading.local()
    assert fast_local(plain) is plain
    fast = fast_local(Local())
    assert fast_local(fast) is fast


def test_install_wraps_djangos_locals_in_place(monkeypatch):
    locals_ = {"translation": Local(), "time zone": Local(), "urlconfs": Local(), "prefixes": Local(),
               "caches": Local()}
    monkeypatch.setattr(trans_real, "_active", locals_["translation"])
    monkeypatch.setattr(timezone, "_active", locals_["time zone"])
    monkeypatch.setattr(urls_base, "_urlconfs", locals_["urlconfs"])
    monkeypatch.setattr(urls_base, "_prefixes", locals_["prefixes"])
    monkeypatch.setattr(cache.caches, "_connections", locals_["caches"])
    translation.activate("vi")  # set before the installation: still seen after it
    fastlocals.install()
    installed = {"translation": trans_real._active, "time zone": timezone._active, "urlconfs": urls_base._urlconfs,
                 "prefixes": urls_base._prefixes, "caches": cache.caches._connections}
    for name, local in installed.items():
        assert isinstance(local, FastLocal), name
        assert object.__getattribute__(local, "_fast_local_of") is locals_[name], name
    assert translation.get_language() == "vi"
    assert str(translation.gettext("Cases")) == "Hồ sơ"
    with translation.override("en"):
        assert translation.get_language() == "en" and translation.gettext("Cases") == "Cases"
    assert translation.get_language() == "vi"
    translation.deactivate()


def test_the_web_frame_installs_it():
    """A process that loads the middleware (every web process) reads Django's locals through FastLocal."""
    check = ("import django; django.setup(); from django.utils.translation import trans_real; "
             "from django.utils import timezone; from django.urls import base; from django.core.cache import caches; "
             "from config.fastlocals import FastLocal; "
             "assert not isinstance(trans_real._active, FastLocal); "
             "from django.core.handlers.wsgi import WSGIHandler; WSGIHandler(); "
             "print(all(isinstance(local, FastLocal) for local in (trans_real._active, timezone._active, "
             "base._urlconfs, base._prefixes, caches._connections)))")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=False,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}, cwd=settings.BASE_DIR)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
