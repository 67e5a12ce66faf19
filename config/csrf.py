"""The random strings of Django's CSRF protection, drawn with one read of the system's randomness.

Every page masks the CSRF token of its forms anew (BREACH), with a random string of 32 characters that
Django draws with `get_random_string`: one `secrets.choice`, so one `os.urandom` system call, per
character (issue 15: about a quarter of a millisecond of CPU a page, measured). `csrf_string` draws the
same thing, 32 characters each uniformly among the same 62, from the same source (`secrets`), with one
read of 64 bytes: a byte below 248 (4 × 62) gives the character `byte % 62`, uniform; a byte of 248 or
more is skipped (a read that leaves too few, about once in 10^10 draws, is followed by another).
`install()` makes Django's CSRF code use it for the masks and for new secrets; everything else in
Django's CSRF protection (what is masked, checked, stored, rotated) is unchanged.
"""

import secrets

from django.middleware import csrf as django_csrf

_CHARS = django_csrf.CSRF_ALLOWED_CHARS
_LENGTH = django_csrf.CSRF_SECRET_LENGTH
# The bytes whose value modulo len(_CHARS) is uniform: those below the largest multiple of it within a byte.
_BELOW = 256 - 256 % len(_CHARS)


def csrf_string() -> str:
    """A random string of CSRF_SECRET_LENGTH characters of CSRF_ALLOWED_CHARS, as Django's
    `_get_new_csrf_string` draws it."""
    chars: list[str] = []
    while True:
        for byte in secrets.token_bytes(2 * _LENGTH):
            if byte < _BELOW:
                chars.append(_CHARS[byte % len(_CHARS)])
                if len(chars) == _LENGTH:
                    return "".join(chars)


def install() -> None:
    """Django's CSRF code draws its masks and secrets with `csrf_string` (it looks the function up
    in its module at each call)."""
    django_csrf._get_new_csrf_string = csrf_string
