"""What follows a sign-in, a sign-out, and a change that must end a person's API tokens.

Token revocation hangs on model signals rather than on the services that change passwords, accounts
and memberships, because those changes also come from Django admin, management commands and other
apps: the rule has to hold whichever path made the change.
"""

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from agencies.acting import ACTING_AGENCY_SESSION_KEY, ACTING_CHOICES_SESSION_KEY, case_membership_agencies
from agencies.models import AnalystScope, Membership

from .services import api_tokens_revoke_all, signin_session_forget, signin_session_record


@receiver(user_logged_in, dispatch_uid="accounts.receivers.signin_session")
def _record_signin_session(sender, request, user: User, **kwargs) -> None:
    # Only a web sign-in (django.contrib.auth.login) puts the user in the session; the API token
    # endpoint sends the same signal without doing so.
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) == user._meta.pk.value_to_string(user):
        signin_session_record(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="accounts.receivers.signin_session_end")
def _forget_signin_session(sender, request, user: User | None, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        signin_session_forget(session_key=session.session_key)


@receiver(pre_save, sender=get_user_model(), dispatch_uid="accounts.receivers.user_change")
def _revoke_on_user_change(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    watched = {"password", "is_active", "is_staff", "is_superuser"}
    if update_fields is not None and not watched & set(update_fields):
        return
    before = sender.objects.filter(pk=instance.pk).values(*watched).first()
    if before is None:
        return
    if before["password"] != instance.password:
        reason = "password_changed"
    elif before["is_active"] and not instance.is_active:
        reason = "deactivated"
    elif (before["is_staff"] and not instance.is_staff) or (before["is_superuser"] and not instance.is_superuser):
        reason = "role_removed"
    else:
        return
    api_tokens_revoke_all(user=instance, reason=reason)


@receiver(post_save, sender=Membership, dispatch_uid="accounts.receivers.membership_change")
def _revoke_on_role_change(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw or created:
        return
    if update_fields is None or "role" in update_fields:
        api_tokens_revoke_all(user=instance.user, reason="role_changed")


@receiver(post_delete, sender=Membership, dispatch_uid="accounts.receivers.membership_remove")
@receiver(post_delete, sender=AnalystScope, dispatch_uid="accounts.receivers.analyst_scope_remove")
def _revoke_on_role_removal(sender, instance, **kwargs) -> None:
    api_tokens_revoke_all(user=instance.user, reason="role_removed")


@receiver(user_logged_in, dispatch_uid="accounts.remember_acting_agency_choices")
def remember_acting_agency_choices(sender, request, user: User, **kwargs) -> None:
    """The header's agency switcher, for people who work on cases for several agencies, drawn
    without a query on every page. Nobody is acting for anyone at sign-in: the person chooses.
    The choice itself is checked against their memberships on every request."""
    if request is None or not hasattr(request, "session"):
        return
    agencies = list(case_membership_agencies(user=user).values_list("pk", "name"))
    request.session.pop(ACTING_AGENCY_SESSION_KEY, None)
    if len(agencies) > 1:
        request.session[ACTING_CHOICES_SESSION_KEY] = [[pk, name] for pk, name in agencies]
    else:
        request.session.pop(ACTING_CHOICES_SESSION_KEY, None)


@receiver(user_logged_in, dispatch_uid="accounts.remember_nav_roles")
def remember_nav_roles(sender, request, user: User, **kwargs) -> None:
    """The roles of the navigation bar (accounts.navigation), read once per sign-in."""
    if request is None or not hasattr(request, "session"):
        return
    from .navigation import nav_roles_remember

    nav_roles_remember(session=request.session, user=user)


@receiver(post_save, sender=Membership, dispatch_uid="accounts.receivers.nav_membership_save")
@receiver(post_delete, sender=Membership, dispatch_uid="accounts.receivers.nav_membership_delete")
@receiver(post_save, sender=AnalystScope, dispatch_uid="accounts.receivers.nav_analyst_scope_save")
@receiver(post_delete, sender=AnalystScope, dispatch_uid="accounts.receivers.nav_analyst_scope_delete")
def _nav_roles_on_role_change(sender, instance, raw=False, **kwargs) -> None:
    """A membership or analyst scope added, changed or removed: the navigation bar follows on the
    person's next request (accounts.navigation)."""
    if raw:
        return
    from .navigation import nav_roles_changed

    nav_roles_changed(user_id=instance.user_id)


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts.receivers.nav_staff_change")
def _nav_roles_on_staff_change(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw or created or (update_fields is not None and not {"is_staff", "is_superuser"} & set(update_fields)):
        return
    from .navigation import nav_roles_changed

    nav_roles_changed(user_id=instance.pk)
