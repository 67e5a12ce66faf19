"""Sign-ins, failed sign-ins and sign-outs become audit events. Connected in AuditConfig.ready()."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from .models import AuditAction
from .services import audit_record

USERNAME_MAX = 150


def on_user_logged_in(sender, request, user: User, **kwargs) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, target=f"user:{user.pk}")


def on_user_logged_out(sender, request, user: User | None, **kwargs) -> None:
    # Django sends this for anonymous visitors of the logout view too; nobody signed out then.
    if user is None:
        return
    audit_record(actor=user, action=AuditAction.LOGOUT, target=f"user:{user.pk}")


def on_user_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Only the attempted username is kept: never the password, whatever else the backend was given.
    username_field = get_user_model().USERNAME_FIELD
    attempted = str(credentials.get(username_field, credentials.get("username", "")))[:USERNAME_MAX]
    audit_record(actor=None, action=AuditAction.LOGIN_FAILED, details={"username": attempted})
