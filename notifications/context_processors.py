from django.utils.functional import SimpleLazyObject

from .selectors import notification_unread_count


def unread_notifications(request) -> dict:
    """The header's unread count: one COUNT query, and only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notification_count": SimpleLazyObject(lambda: notification_unread_count(user=user))}
