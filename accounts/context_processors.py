from django.conf import settings


def session_timeout(request):
    """Seconds of the idle timeout and of its warning, for the warning box of signed-in pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    idle = int(settings.SESSION_COOKIE_AGE)
    warning = min(settings.SESSION_WARNING_SECONDS, idle)
    return {"session_idle_seconds": idle, "session_warning_seconds": warning,
            "session_warning_minutes": max(1, round(warning / 60))}
