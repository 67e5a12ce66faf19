from django.utils.functional import SimpleLazyObject

from .selectors import notification_unread_count

# Where the session store leaves the count it read with the session's statement on a page request
# (accounts.session_store: notification_unread_prefetched's value), or None.
UNREAD_PREFETCHED_ATTRIBUTE = "notification_unread_prefetched"


def unread_notifications(request) -> dict:
    """The header's unread count: read with the session's statement when it could be (a page's GET on
    PostgreSQL), else one COUNT query, and only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    prefetched = getattr(getattr(request, "session", None), UNREAD_PREFETCHED_ATTRIBUTE, None)
    return {"unread_notification_count": SimpleLazyObject(
        lambda: notification_unread_count(user=user, prefetched=prefetched))}
