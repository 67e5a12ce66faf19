"""The staff page's lockout column: the staff page belongs to agencies, which knows nothing of
accounts, so the page asks through these tags."""

from django import template

from accounts.lockout import lockouts_for_usernames

register = template.Library()


@register.simple_tag
def staff_lockouts(rows) -> dict:
    """{username: end of the pause} for the locked-out people among the staff page's rows."""
    return lockouts_for_usernames(usernames=[row[0].user.username for row in rows])


@register.simple_tag
def lockout_of(lockouts: dict, username: str):
    return lockouts.get(username)
