"""Who and where an audit event comes from, beyond its actor: the request id, the client address and
user agent of the web request, or the task or command that runs.

It travels in a context variable, so services below the edge take no `request`: the edge sets it
(audit.middleware.AuditContextMiddleware for every web request, the Celery task signals below for every task,
`audit_context()` around a management command's work) and `audit_record` reads it. Outside any of
these (a shell, a test calling a service directly) the context is empty: no address, no request id.
"""

from __future__ import annotations

import contextvars
import ipaddress
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.conf import settings

from config.context import bound

REQUEST_ID_MAX = 100  # AuditEvent.request_id
USER_AGENT_MAX = 300


@dataclass(frozen=True)
class AuditContext:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""
    # "web", "task" or "command"; "" when nothing set it.
    origin: str = ""


EMPTY = AuditContext()
_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("hopluc_audit_context", default=EMPTY)


def current_audit_context() -> AuditContext:
    return _current.get()


def audit_context_set(context: AuditContext) -> contextvars.Token:
    """Set the context; give the token to `audit_context_reset` when the unit of work ends."""
    return _current.set(context)


def audit_context_reset(token: contextvars.Token) -> None:
    _current.reset(token)


@contextmanager
def audit_context(context: AuditContext | None = None, **fields) -> Iterator[AuditContext]:
    """Run a block under an audit context: `context`, else the current one with `fields` replaced.

        with audit_context(task_audit_context("nightly")):
            ...
    """
    with bound(_current, context if context is not None else replace(current_audit_context(), **fields)) as value:
        yield value


def request_audit_context(request) -> AuditContext:
    """The context of a web request: the id RequestIdMiddleware gave it, the client address (as
    client_ip reads it) and the user agent."""
    return AuditContext(
        request_id=_clip(getattr(request, "request_id", "") or "", REQUEST_ID_MAX),
        ip=client_ip(request),
        user_agent=_clip(request.META.get("HTTP_USER_AGENT", ""), USER_AGENT_MAX),
        origin="web",
    )


def task_audit_context(task_name: str, task_id: str | None = None) -> AuditContext:
    """The context of a Celery task (or any background job): request id `task:<name>:<id>`."""
    return AuditContext(
        request_id=_clip(f"task:{task_name}:{task_id or uuid.uuid4()}", REQUEST_ID_MAX),
        origin="task",
    )


def command_audit_context(command_name: str) -> AuditContext:
    """The context of a management command run: request id `command:<name>:<uuid>`."""
    return AuditContext(request_id=_clip(f"command:{command_name}:{uuid.uuid4()}", REQUEST_ID_MAX), origin="command")


def client_ip(request) -> str | None:
    """The client address: REMOTE_ADDR, or with AUDIT_TRUSTED_PROXIES = n reverse proxies in front,
    the address the outermost trusted proxy saw (n-th from the right of X-Forwarded-For)."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    candidate = meta.get("REMOTE_ADDR")
    proxies = getattr(settings, "AUDIT_TRUSTED_PROXIES", 0)
    if proxies:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        # Hops left of the ones our proxies appended are whatever the client chose to send.
        candidate = hops[-proxies] if len(hops) >= proxies else None
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None


def _clip(value: str, limit: int) -> str:
    return value.replace("\x00", "")[:limit]


def _on_task_prerun(sender=None, task_id=None, task=None, **kwargs) -> None:
    if task is None:
        return
    token = _current.set(task_audit_context(getattr(task, "name", "") or "task", task_id))
    # Kept on the task's request so postrun resets exactly what prerun set (eager tasks run nested).
    task.request.hopluc_audit_token = token


def _on_task_postrun(sender=None, task_id=None, task=None, **kwargs) -> None:
    token = getattr(getattr(task, "request", None), "hopluc_audit_token", None)
    if token is not None:
        task.request.hopluc_audit_token = None
        _current.reset(token)


def connect_task_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_on_task_prerun, dispatch_uid="hopluc_audit_context_prerun", weak=False)
    task_postrun.connect(_on_task_postrun, dispatch_uid="hopluc_audit_context_postrun", weak=False)


def command_audit_context_handle(handle):
    """Decorate a management command's `handle` so that what it audits carries a command context."""
    import functools

    @functools.wraps(handle)
    def wrapped(self, *args, **options):
        with audit_context(command_audit_context(self.__module__.rsplit(".", 1)[-1])):
            return handle(self, *args, **options)

    return wrapped
