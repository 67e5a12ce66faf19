"""Cookie settings the sign-in depends on. (Secure-only cookies in production are covered by
tests/ops' `check --deploy` run, which fails on security.W012 and W016.)"""

from django.conf import settings


def test_cookies_are_not_readable_by_scripts_and_stay_on_this_site():
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
