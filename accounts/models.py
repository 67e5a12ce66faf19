from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInSession(models.Model):
    """A web sign-in whose session may still be alive, so that its owner can see and end it.

    Django's session rows carry no user; this records the session key at sign-in (and follows it when
    the key is cycled, see accounts.middleware.SignInSessionMiddleware). The session itself stays in the
    session engine: a record whose session has ended is left out when listed, and deleted within the hour
    by beat (accounts.services.sessions_ended_delete)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signin_sessions", verbose_name=_("user")
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    started_at = models.DateTimeField(_("signed in at"), auto_now_add=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("sign-in session")
        verbose_name_plural = _("sign-in sessions")
        indexes = [models.Index(fields=["user", "started_at"], name="signin_session_user_started")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.started_at:%Y-%m-%d %H:%M}"


class NavRolesVersion(models.Model):
    """The version of a person's roles that the navigation bar was drawn from (accounts.navigation): a new
    value each time a role of theirs changes, written in the change's own transaction. Read with the
    session's row on every page, so that the bar follows a change on the next request without a read of
    its own. No row: the person's roles never changed since this table exists (the version is None).

    Without a database constraint on `user`: deleting a person deletes their memberships first, whose
    receivers write a new version in that transaction; the row left behind names nobody and is harmless."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                db_constraint=False, related_name="+", verbose_name=_("user"))
    version = models.CharField(_("version"), max_length=32)

    class Meta:
        verbose_name = _("navigation roles version")
        verbose_name_plural = _("navigation roles versions")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.version}"
