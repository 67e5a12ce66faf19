import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, get_language_info

# The pages base.html links to on every page (header, language switch, session warning), by the name
# its template reads them under.
FRAME_URL_NAMES = {
    "home": "accounts:home", "set_language": "set_language", "notifications": "notifications:centre",
    "password_change": "accounts:password_change", "logout": "accounts:logout",
    "session_extend": "accounts:session_extend", "login": "accounts:login",
}


@functools.lru_cache(maxsize=16)
def _frame_urls(prefix: str, urlconf: str) -> dict[str, str]:
    return {key: reverse(name, urlconf=urlconf) for key, name in FRAME_URL_NAMES.items()}


@functools.lru_cache(maxsize=8)
def _language_buttons(codes: tuple[str, ...], current: str) -> str:
    """The language switch's buttons, the current language's pressed: the same for everyone reading in
    `current`, so written once per process and language rather than by a loop on each page."""
    return format_html_join(
        "\n      ",
        '<button type="submit" name="language" value="{}" class="link{}" lang="{}" title="{}" data-testid="lang-{}"{}>'
        "{}</button>",
        ((code, " current" if code == current else "", code, get_language_info(code)["name_local"], code,
          mark_safe(' aria-pressed="true"') if code == current else "", code.upper()) for code in codes),
    )


def page_frame(request):
    """What base.html draws the same on every page, worked out once per process rather than by a
    `{% url %}` and the i18n tags on each page: the URLs of FRAME_URL_NAMES (per script prefix and
    URLconf, as `reverse` gives them) and the language switch's buttons (_language_buttons)."""
    return {
        "frame_urls": _frame_urls(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF),
        "frame_language_buttons": _language_buttons(tuple(code for code, _name in settings.LANGUAGES),
                                                    get_language()),
    }


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
