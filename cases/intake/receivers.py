"""After signing in, the next page offers the person's unfinished cases (connected in
cases.apps.CasesConfig.ready)."""


from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from ..models import IntakeDraft

# Session key: set at sign-in when the person has unfinished drafts, so that the next page offers them.
RESUME_SESSION_KEY = "intake_resume_offer"


@receiver(user_logged_in, dispatch_uid="cases.intake.offer_unfinished_drafts")
def offer_unfinished_drafts(sender, request, user: User, **kwargs) -> None:
    """After signing in (also after a timeout), the next page offers the unfinished cases."""
    if request is None or not hasattr(request, "session") or request.path.startswith("/api/"):
        return
    if IntakeDraft.objects.filter(user=user, expires_at__gt=timezone.now()).exists():
        request.session[RESUME_SESSION_KEY] = True
