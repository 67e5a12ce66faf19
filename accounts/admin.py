"""Django admin for the system administrator: sign-in lockouts, and no API tokens at all."""

from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from knox.models import AuthToken

from config.read_only_admin import ReadOnlyAdmin

from .lockout import lockout_lift

# knox registers its tokens in admin, with a form that mints a token for anyone: an administrator
# could then act as any person through the API. Tokens are listed and revoked by their owner only.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AccessAttempt)
class SignInLockoutAdmin(ReadOnlyAdmin):
    """Failed sign-ins that count towards a lockout. Read-only; "Lift the lockout" clears them, audited."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time")
    search_fields = ("username", "ip_address")
    ordering = ("-attempt_time",)
    fields = ("username", "ip_address", "failures_since_start", "attempt_time", "path_info")
    readonly_fields = fields
    actions = ["lift_lockout"]

    @admin.action(description=_("Lift the lockout (every failure of these usernames, or of these addresses)"))
    def lift_lockout(self, request, queryset):
        cleared = 0
        for username, ip_address in set(queryset.values_list("username", "ip_address")):
            if username:
                cleared += lockout_lift(actor=request.user, username=username)
            elif ip_address:
                cleared += lockout_lift(actor=request.user, ip_address=ip_address)
        messages.success(request, ngettext(
            "%(count)s failed sign-in record cleared.", "%(count)s failed sign-in records cleared.", cleared,
        ) % {"count": cleared})
