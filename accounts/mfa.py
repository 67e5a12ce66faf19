"""The second factor: who needs one, checking a code, enrolment, recovery codes and reset.

django-otp keeps the devices: a TOTP device (an authenticator app) and a static device holding the
one-time recovery codes. A session counts as verified once a code was accepted in it; the mark is
django-otp's own session key, set by `django_otp.login`. The gate in `accounts.middleware` reads only
that key, so a verified request costs no extra query.

Public helpers (other apps use these): `mfa_required_for`, `mfa_needed_for`, `verify_code`,
`session_is_verified`.
"""

import base64
import functools
import re

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import connection, transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import Agency, AnalystScope, Membership, Role
from audit.models import AuditAction
from audit.services import audit_record

TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery"
# Roles whose holders always need a second factor; responders need one only where their agency says so.
MFA_ROLES = (Role.SUPERVISOR, Role.AGENCY_ADMIN)
_TOTP_CODE = re.compile(r"^\d{6}$")
_SEPARATORS = re.compile(r"[\s-]+")


class SecondFactorError(Exception):
    """A reset or enrolment the domain refuses; the message is for the person who asked."""


@functools.cache
def _mfa_facts_columns(vendor: str) -> str:
    """The two columns of `_mfa_facts` (required, enrolled) over the user row aliased `u`, written once:
    the gate asks them on every request of a session that gave no code, and building them through the
    ORM (five EXISTS over nine tables) cost more CPU than anything else around the views (issue 15,
    measured at load 15: 5.9 ms a call, 0.33 ms so written; about a seventh of a responder's request).
    Parameters (`_mfa_facts_params`): active, the MFA roles, mfa_required, is_active, the right's codename
    and app label (twice), confirmed. `vendor` only keys the cache: quoting is the connection's."""
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    User = get_user_model()
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    user_permissions = table(User.user_permissions.through)
    group_permissions = table(Group.permissions.through)
    user_groups = table(User.groups.through)
    roles = ", ".join(["%s"] * len(MFA_ROLES))
    # Only table names (the models', quoted) are formatted in; every value is a parameter.
    right = f"SELECT 1 FROM {table(Permission)} p JOIN {table(ContentType)} ct ON ct.id = p.content_type_id"  # noqa: S608
    return f"""
        (
            EXISTS(SELECT 1 FROM {table(Membership)} m JOIN {table(Agency)} a ON a.id = m.agency_id
                   WHERE m.user_id = u.id AND a.active = %s AND (m.role IN ({roles}) OR a.mfa_required = %s))
            OR EXISTS(SELECT 1 FROM {table(AnalystScope)} s WHERE s.user_id = u.id)
            OR (u.is_active = %s AND (
                EXISTS({right} JOIN {user_permissions} up ON up.permission_id = p.id
                       WHERE p.codename = %s AND ct.app_label = %s AND up.user_id = u.id)
                OR EXISTS({right} JOIN {group_permissions} gp ON gp.permission_id = p.id
                          JOIN {user_groups} ug ON ug.group_id = gp.group_id
                          WHERE p.codename = %s AND ct.app_label = %s AND ug.user_id = u.id)))
        ), EXISTS(SELECT 1 FROM {table(TOTPDevice)} d WHERE d.user_id = u.id AND d.confirmed = %s)
    """  # noqa: S608


def _mfa_facts_params() -> list:
    # Late import: cases imports accounts' neighbours; the rule of who holds the right lives there.
    from permissions.breakglass import BREAK_GLASS_PERMISSION

    app_label, codename = BREAK_GLASS_PERMISSION.split(".", 1)
    return [True, *MFA_ROLES, True, True, codename, app_label, codename, app_label, True]


@functools.cache
def _mfa_facts_sql(vendor: str) -> str:
    """The statement of `_mfa_facts`; parameters: `_mfa_facts_params()`, then the user id."""
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    return f"SELECT {_mfa_facts_columns(vendor)} FROM {users} u WHERE u.id = %s"  # noqa: S608


def _mfa_facts(user: User) -> tuple[bool, bool]:
    """(required by a membership, analyst scope or the break-glass right; enrolled), in one query.
    The staff/superuser rule needs none: mfa_required_for reads it from the user first. The break-glass
    right counts as ModelBackend.has_perm reads it for an active user: the user's own permissions and
    their groups'."""
    with connection.cursor() as cursor:
        cursor.execute(_mfa_facts_sql(connection.vendor), [*_mfa_facts_params(), user.pk])
        row = cursor.fetchone()
    return (bool(row[0]), bool(row[1])) if row else (False, False)


def mfa_facts_extra() -> tuple[str, list]:
    """`_mfa_facts` as extra columns over a user row aliased `u` (config.rows), with their parameters."""
    return _mfa_facts_columns(connection.vendor), _mfa_facts_params()


def user_with_mfa_facts(user_id):
    """The user with this primary key (as `User.objects.get(pk=...)` gives it, None if there is none)
    and `_mfa_facts` of that user, read in one statement: the user row the request reads anyway
    carries what the second-factor gate asks (accounts.backends)."""
    from config.rows import row_get

    User = get_user_model()
    vendor = connection.vendor
    found = row_get(User, extra=(_mfa_facts_columns(vendor), _mfa_facts_params()), table_alias="u", pk=user_id)
    if found is None:
        return None, (False, False)
    user, (required, enrolled) = found
    return user, (bool(required), bool(enrolled))


def mfa_required_for(user: User | AnonymousUser) -> bool:
    """Whether the user must use a second factor: system administrators (staff, superusers),
    supervisors, agency admins, analysts, holders of the break-glass right, and every member of an
    agency whose admin requires it."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return _mfa_facts(user)[0]


def mfa_enrolled(user: User) -> bool:
    """Whether the user has a confirmed authenticator."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_status(user: User | AnonymousUser, *, facts: tuple[bool, bool] | None = None) -> tuple[bool, bool]:
    """(needed, enrolled) in at most one query: what the gate asks on every request of a session
    that gave no code, read fresh each time (a new role, an agency's new requirement, the
    break-glass right or an enrolment take effect on the next request). `facts`: `_mfa_facts` as
    read with this request's user row (`user_with_mfa_facts`), which saves the query."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return False, False
    required, enrolled = facts if facts is not None else _mfa_facts(user)
    return (user.is_staff or user.is_superuser or required or enrolled), enrolled


def mfa_needed_for(user: User | AnonymousUser) -> bool:
    """Whether a sign-in of this user must give a code: required, or enrolled of their own accord."""
    return mfa_status(user)[0]


def session_is_verified(request) -> bool:
    """Whether a code was accepted in this session (no query: the session is already loaded)."""
    return bool(getattr(request, "session", None) is not None and request.session.get(DEVICE_ID_SESSION_KEY))


def _normalize(code: str) -> str:
    return _SEPARATORS.sub("", str(code or "")).lower()


def verify_code(user: User, code: str):
    """Check a code from the user's authenticator or one of their recovery codes.

    Returns the device that accepted it (truthy) or None. A TOTP code is accepted once (django-otp
    remembers the last time step used); a recovery code is deleted when used. Each device throttles
    wrong codes (an exponentially growing wait), so the code space cannot be walked.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    code = _normalize(code)
    if not code or len(code) > 16:
        return None
    if _TOTP_CODE.match(code):
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    with transaction.atomic():
        for device in devices.select_for_update().order_by("pk"):
            if device.verify_token(code):
                return device
    return None


def session_verify(request, device) -> None:
    """Mark the session as verified by `device` (django-otp's own session key)."""
    otp_login(request, device)


# --- Enrolment -------------------------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (created on first call, the same one on reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, made here: the secret never leaves the server."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, title="QR")


def _recovery_codes_replace(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic(durable=True)
def mfa_enrol_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a pending authenticator with a code from it; returns the new recovery codes, or None
    when the code is wrong. Any earlier authenticator and recovery codes are replaced."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
    if device is None:
        raise SecondFactorError("no pending authenticator")
    code = _normalize(code)
    if not _TOTP_CODE.match(code) or not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user=user)
    audit_record(actor=user, action=AuditAction.CREATE, target=f"user:{user.pk}",
                 details={"second_factor": "enrolled"})
    return codes


@transaction.atomic(durable=True)
def mfa_recovery_codes_regenerate(*, user: User) -> list[str]:
    if not mfa_enrolled(user):
        raise SecondFactorError("not enrolled")
    codes = _recovery_codes_replace(user=user)
    audit_record(actor=user, action=AuditAction.CHANGE, target=f"user:{user.pk}",
                 details={"second_factor": "recovery_codes_regenerated"})
    return codes


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Demo and tests ----------------------------------------------------------------------------------

# The published authenticator secret of the demo accounts (development only: `seed_demo` never
# enrols it under the production settings). Base32, as authenticator apps take it.
DEMO_TOTP_SECRET = "HOPLUCDEMOSECRETKEYFORTOTPLOGINS"  # noqa: S105 - published on purpose: demo only


def demo_totp_device_ensure(*, user: User) -> TOTPDevice | None:
    """Enrol the demo secret for a user who needs a second factor and has none (demo and tests only)."""
    if not settings.DEMO_SECOND_FACTOR or not mfa_required_for(user) or mfa_enrolled(user):
        return None
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=True)


def demo_totp_code(*, at: float | None = None) -> str:
    """The current code of the demo secret, as an authenticator app would show it."""
    from django_otp.oath import TOTP

    totp = TOTP(base64.b32decode(DEMO_TOTP_SECRET), step=30, t0=0, digits=6)
    if at is not None:
        totp.time = at
    return f"{totp.token():06d}"


def seed_demo_second_factor_step(world) -> None:
    """Demo step: the demo accounts that need a second factor get the published secret, so that the
    demo logins work with any authenticator app (or `manage.py demo_totp_code`)."""
    world.demo_totp_secret = None
    if not settings.DEMO_SECOND_FACTOR:
        return
    for user in world.users.values():
        demo_totp_device_ensure(user=user)
    world.demo_totp_secret = DEMO_TOTP_SECRET
