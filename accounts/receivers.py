"""Sign-in hooks of the accounts app."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from agencies.acting import ACTING_AGENCY_SESSION_KEY, ACTING_CHOICES_SESSION_KEY, case_membership_agencies


@receiver(user_logged_in, dispatch_uid="accounts.remember_acting_agency_choices")
def remember_acting_agency_choices(sender, request, user, **kwargs):
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
