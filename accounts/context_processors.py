from django.conf import settings


def session_timeout(request):
    """Seconds of the idle timeout and of its warning, for the warning box of signed-in pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # What is left of the idle timeout after this request: the whole of it, unless the session store
    # did not need to renew the expiry (accounts.session_store): up to SESSION_RENEW_SECONDS less.
    expires_in = getattr(getattr(request, "session", None), "expires_in", None)
    idle = int(expires_in() if expires_in is not None else settings.SESSION_COOKIE_AGE)
    warning = min(settings.SESSION_WARNING_SECONDS, idle)
    return {"session_idle_seconds": idle, "session_warning_seconds": warning,
            "session_warning_minutes": max(1, round(warning / 60))}
