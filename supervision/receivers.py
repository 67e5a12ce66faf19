"""Sign-in hooks of the supervision app."""

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from permissions.breakglass import break_glass_allowed


@receiver(user_logged_in, dispatch_uid="supervision.remember_break_glass_right")
def remember_break_glass_right(sender, request, user: User, **kwargs) -> None:
    """Whether to show the break-glass link, decided once per sign-in: a permission check on every
    page would cost two queries a request. The page itself checks the right on every request."""
    if request is not None and hasattr(request, "session"):
        request.session["may_break_glass"] = break_glass_allowed(user=user)
