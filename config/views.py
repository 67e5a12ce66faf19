"""Liveness of the installation for load balancers, container health checks and operators.

/healthz is public on purpose: it says only whether the database and the broker answer, never
anything about cases or users. /healthz/detail adds counts about notification delivery (no case,
no person) for system administrators signed in, or monitoring holding HEALTHZ_DETAIL_TOKEN.
"""

import hmac
import logging
import os
from dataclasses import asdict

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .celery import app as celery_app

logger = logging.getLogger(__name__)

# Probes call this every few seconds; an answer slower than this is as bad as none.
BROKER_CHECK_SECONDS = 2


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:
        # One line, no traceback: a probe repeats every few seconds while the database is down.
        logger.warning("healthz: database check failed: %s", exc)
        return False


def _broker_ok() -> bool:
    # Without a socket timeout a server that accepts connections but never replies would hang the probe.
    bounded = {"socket_connect_timeout": BROKER_CHECK_SECONDS, "socket_timeout": BROKER_CHECK_SECONDS}
    try:
        with celery_app.connection_for_write(transport_options=bounded) as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_CHECK_SECONDS)
            if conn.transport.driver_type == "filesystem":
                # This transport "connects" without touching the disk; what can fail is its queue folder.
                folder = conn.transport_options["data_folder_out"]
                return os.path.isdir(folder) and os.access(folder, os.W_OK)
            return True
    except Exception as exc:
        logger.warning("healthz: broker check failed: %s", exc)
        return False


@never_cache
@require_safe
def healthz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "down" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


def _detail_allowed(request) -> bool:
    user = request.user
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    token = settings.HEALTHZ_DETAIL_TOKEN
    presented = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())


@never_cache
@require_safe
def healthz_detail(request):
    """The outbox backlog, the oldest undelivered message's age, rows a dead worker holds past their
    lease, failures of the last day and the age of beat's heartbeat, with the checks of /healthz."""
    if not _detail_allowed(request):
        return JsonResponse({"detail": "forbidden"}, status=403)
    from notifications.selectors import outbox_health

    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "down" for name, ok in checks.items()})
    if checks["database"]:
        body["notifications"] = asdict(outbox_health())
    return JsonResponse(body, status=200 if healthy else 503)
