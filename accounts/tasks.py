"""Celery tasks of the accounts app: thin wrappers around the services."""

from celery import shared_task

from .lockout import lockout_attempts_expired_delete
from .services import sessions_ended_delete


@shared_task
def delete_ended_sessions() -> dict:
    """Beat, hourly: sessions past their expiry, the sign-in records (address, browser) of sessions that
    have ended, and failed sign-ins (username typed, address) past the lockout's cool-off are deleted,
    whether or not anyone signs in or looks at their sessions afterwards."""
    return {"signin_records": sessions_ended_delete(), "failed_signins": lockout_attempts_expired_delete()}
