"""Writes for agencies and memberships. Group membership is derived from Membership rows here and
nowhere else, so that object permissions granted to agency groups always reach the right people."""

import datetime
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditAction
from audit.services import audit_record

from .models import (
    CASE_ROLES,
    AccountRelease,
    Agency,
    AgencyGroup,
    AnalystScope,
    Commune,
    InitialPassword,
    Membership,
    Province,
    Role,
)
from .reference_data import (
    PROVINCES_FILE,
    ReferenceDataError,
    commune_conflicts_with_stored,
    commune_records_parse,
    province_records_read,
)
from .selectors import BREAK_GLASS_APP_LABEL, BREAK_GLASS_CODENAME, account_attachable

logger = logging.getLogger(__name__)


def agency_group_name(*, agency: Agency, role: str) -> str:
    return f"agency:{agency.pk}:{role}"


@transaction.atomic
def agency_groups_ensure(*, agency: Agency) -> dict[str, Group]:
    """Create (or find) the auth group of every role of the agency."""
    groups: dict[str, Group] = {}
    existing = {ag.role: ag.group for ag in AgencyGroup.objects.filter(agency=agency).select_related("group")}
    for role in Role.values:
        if role in existing:
            groups[role] = existing[role]
            continue
        group, _ = Group.objects.get_or_create(name=agency_group_name(agency=agency, role=role))
        AgencyGroup.objects.create(agency=agency, role=role, group=group)
        groups[role] = group
    return groups


@transaction.atomic
def agency_create(*, name: str, sector: str, province, commune=None, parent=None, active: bool = True) -> Agency:
    agency = Agency(name=name, sector=sector, province=province, commune=commune, parent=parent, active=active)
    agency.full_clean()
    agency.save()
    agency_groups_ensure(agency=agency)
    return agency


def _group_for(*, agency: Agency, role: str) -> Group:
    return agency_groups_ensure(agency=agency)[role]


CASE_ROLE_VALUES = tuple(role.value for role in CASE_ROLES)


def membership_roles_check(*, user: User, agency: Agency, role: str) -> None:
    """Those who never read cases stay out of the roles that do (permissions/README.md, rule 2):
    an analyst, an agency admin (of any agency) or a system administrator cannot also be a
    responder or supervisor. The database refuses the same (agencies.triggers)."""
    others = Membership.objects.filter(user=user).exclude(agency=agency)
    if role in CASE_ROLE_VALUES:
        if user.is_superuser or user.is_staff:
            raise ValidationError(_("A system administrator cannot work on cases: use a separate account."),
                                  code="sysadmin_case_role")
        if AnalystScope.objects.filter(user=user).exists():
            raise ValidationError(_("An analyst sees reports only and cannot work on cases: use a separate "
                                    "account."), code="analyst_case_role")
        if others.filter(role=Role.AGENCY_ADMIN).exists():
            raise ValidationError(_("An agency admin manages staff and cannot work on cases: use a separate "
                                    "account."), code="admin_case_role")
    elif role == Role.AGENCY_ADMIN and others.filter(role__in=CASE_ROLE_VALUES).exists():
        raise ValidationError(_("This person works on cases in another agency and cannot also be an agency "
                                "admin: use a separate account."), code="case_role_admin")


@transaction.atomic
def membership_add(*, user: User, agency: Agency, role: str) -> Membership:
    """Give the user a role in the agency, or change the role they already have there.
    ValidationError when the role cannot go with the user's other roles."""
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}")
    membership_roles_check(user=user, agency=agency, role=role)
    membership = Membership.objects.select_for_update().filter(user=user, agency=agency).first()
    if membership is None:
        membership = Membership.objects.create(user=user, agency=agency, role=role)
    elif membership.role != role:
        user.groups.remove(_group_for(agency=agency, role=membership.role))
        membership.role = role
        membership.save(update_fields=["role"])
    user.groups.add(_group_for(agency=agency, role=role))
    return membership


def membership_change_role(*, membership: Membership, role: str) -> Membership:
    return membership_add(user=membership.user, agency=membership.agency, role=role)


@transaction.atomic
def membership_remove(*, user: User, agency: Agency) -> None:
    """Take the user out of the agency: every group of that agency, then the membership."""
    user.groups.remove(*Group.objects.filter(agency_group__agency=agency))
    Membership.objects.filter(user=user, agency=agency).delete()


# --- Staff management by an agency admin ---------------------------------------------------------

# Letters and digits that cannot be mistaken for one another when read aloud or copied by hand.
_READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"


def password_generate() -> str:
    """A one-time password to hand over in person: 4 groups of 4, about 79 bits."""
    groups = ["".join(secrets.choice(_READABLE_CHARACTERS) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


@transaction.atomic
def user_create(*, username: str, full_name: str, email: str, password: str | None = None):
    """Create a person's account. The whole name goes in first_name: Vietnamese names put the family
    name first, and Django's get_full_name() joins first and last name in the Western order."""
    User = get_user_model()
    user = User(username=username, first_name=full_name.strip(), last_name="", email=email.strip())
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # The username was taken between the check and now: another admin, or the form sent twice at once.
        raise ValidationError({"username": [User._meta.get_field("username").error_messages["unique"]]}) from None
    return user


@transaction.atomic
def initial_password_issue(*, user: User, password: str, issued_by=None) -> InitialPassword:
    """Give the user a one-time password: it works for INITIAL_PASSWORD_HOURS and, until changed,
    opens nothing but the password change form (accounts.passwords)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    now = timezone.now()
    expires_at = now + datetime.timedelta(hours=settings.INITIAL_PASSWORD_HOURS)
    initial, _created = InitialPassword.objects.update_or_create(
        user=user, defaults={"issued_by": issued_by, "issued_at": now, "expires_at": expires_at},
    )
    return initial


@transaction.atomic(durable=True)
def staff_create_person(*, agency: Agency, username: str, full_name: str, email: str, role: str,
                        actor: User | None=None):
    """Create a new user with a generated one-time password and give them the role; returns
    (membership, password). The password expires after INITIAL_PASSWORD_HOURS."""
    password = password_generate()
    user = user_create(username=username, full_name=full_name, email=email)
    initial = initial_password_issue(user=user, password=password, issued_by=actor)
    membership = membership_add(user=user, agency=agency, role=role)
    audit_record(actor=actor, action=AuditAction.CREATE, agency_id=agency.pk, target=f"user:{user.pk}",
                 details={"role": role, "initial_password_expires_at": initial.expires_at.isoformat()})
    return membership, password


@transaction.atomic(durable=True)
def staff_initial_password_reissue(*, membership: Membership, actor: User | None=None) -> str:
    """A new one-time password for a colleague whose first one was never changed (typically: it
    expired). Only for someone who works in this agency alone, so that no agency admin can take over
    an account that other agencies rely on. Returns the password."""
    user = get_user_model().objects.select_for_update().get(pk=membership.user_id)
    if not InitialPassword.objects.filter(user=user).exists():
        raise ValidationError(_("%(person)s has already chosen their own password.")
                              % {"person": user.get_full_name() or user.username})
    if (user.is_superuser or user.is_staff or Membership.objects.filter(user=user).exclude(
            agency_id=membership.agency_id).exists() or AnalystScope.objects.filter(user=user).exists()):
        raise ValidationError(_("This person also works elsewhere; ask the system administrator."))
    password = password_generate()
    initial = initial_password_issue(user=user, password=password, issued_by=actor)
    audit_record(actor=actor, action=AuditAction.CHANGE, agency_id=membership.agency_id, target=f"user:{user.pk}",
                 details={"initial_password_reissued": True,
                          "initial_password_expires_at": initial.expires_at.isoformat()})
    return password


class NotAttachable(Exception):
    """The account may not be attached to this agency. Deliberately says no more: the staff form
    answers the same for an unknown username, a superuser and an account working elsewhere."""


@transaction.atomic(durable=True)
def staff_attach(*, user: User, agency: Agency, role: str, actor: User | None=None) -> Membership:
    """Attach an existing account to the agency (agencies.selectors.account_attachable decides
    which), using up the system administrator's release if there was one."""
    # The user row lock makes two agencies that race for the same free account take turns.
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if Membership.objects.filter(user=user, agency=agency).exists() or not account_attachable(
        user=user, agency=agency
    ):
        raise NotAttachable
    released = AccountRelease.objects.filter(user=user, agency=agency).delete()[0] > 0
    membership = membership_add(user=user, agency=agency, role=role)
    audit_record(actor=actor, action=AuditAction.CHANGE, agency_id=agency.pk, target=f"user:{user.pk}",
                 details={"membership": "attached", "role": role, "released": released})
    return membership


@transaction.atomic
def account_release(*, user: User, agency: Agency, reason: str, actor: User) -> AccountRelease:
    """A system administrator lets `agency` attach an account that works elsewhere."""
    if user.is_superuser or user.is_staff:
        raise ValidationError(_("Superusers and staff accounts cannot be released to an agency."))
    release = AccountRelease(user=user, agency=agency, reason=reason.strip(), released_by=actor)
    release.full_clean()
    release.save()
    audit_record(actor=actor, action=AuditAction.SHARE, agency_id=agency.pk, target=f"user:{user.pk}",
                 reason=release.reason, details={"account_release": release.pk})
    return release


@transaction.atomic
def account_release_withdraw(*, release: AccountRelease, actor: User) -> None:
    audit_record(actor=actor, action=AuditAction.REVOKE, agency_id=release.agency_id,
                 target=f"user:{release.user_id}", details={"account_release": release.pk})
    release.delete()


def _break_glass_permission() -> Permission:
    return Permission.objects.get(content_type__app_label=BREAK_GLASS_APP_LABEL, codename=BREAK_GLASS_CODENAME)


@transaction.atomic(durable=True)
def staff_break_glass_set(*, membership: Membership, granted: bool, actor: User) -> bool:
    """Give or take the break-glass right (in person, not through a group) of a colleague working on
    cases in the agency. Returns whether anything changed; every change is audited."""
    user = membership.user
    if granted and membership.role not in CASE_ROLES:
        raise ValidationError(_("Only responders and supervisors can be given the break-glass right."))
    permission = _break_glass_permission()
    holds = user.user_permissions.filter(pk=permission.pk).exists()
    if holds == granted:
        return False
    if granted:
        user.user_permissions.add(permission)
    else:
        user.user_permissions.remove(permission)
    audit_record(actor=actor, action=AuditAction.SHARE if granted else AuditAction.REVOKE,
                 agency_id=membership.agency_id, target=f"user:{user.pk}",
                 details={"right": f"{BREAK_GLASS_APP_LABEL}.{BREAK_GLASS_CODENAME}", "granted": granted})
    return True


def _break_glass_drop_without_case_role(*, user: User, agency: Agency, actor: User | None) -> None:
    """Someone who no longer works on cases anywhere loses the right an agency admin gave them."""
    if Membership.objects.filter(user=user, role__in=CASE_ROLES).exists():
        return
    permission = _break_glass_permission()
    if user.user_permissions.filter(pk=permission.pk).exists():
        user.user_permissions.remove(permission)
        audit_record(actor=actor, action=AuditAction.REVOKE, agency_id=agency.pk, target=f"user:{user.pk}",
                     details={"right": f"{BREAK_GLASS_APP_LABEL}.{BREAK_GLASS_CODENAME}", "granted": False})


@transaction.atomic(durable=True)
def agency_mfa_requirement_set(*, agency: Agency, required: bool, actor: User) -> bool:
    """Require (or stop requiring) a second factor from every member of the agency; audited.
    Returns whether anything changed. Supervisors and admins need one whatever this says."""
    changed = Agency.objects.filter(pk=agency.pk).exclude(mfa_required=required).update(mfa_required=required)
    agency.mfa_required = required
    if changed:
        audit_record(actor=actor, action=AuditAction.CHANGE, agency_id=agency.pk, target=f"agency:{agency.pk}",
                     details={"mfa_required": required})
    return bool(changed)


@transaction.atomic
def mfa_reset(*, user: User, actor: User | None, agency_id: int | None = None, reason: str = "") -> int:
    """Remove every second-factor device of `user` (accounts.mfa enrols them): they enrol again at
    their next sign-in. Here, beside the other staff services, because the agency admin's staff page
    calls it (agencies sits below accounts).

    `actor` is the agency admin (through the staff page) or None for an operator's command. Returns
    how many devices were removed. Audited either way, with the agency it was done for.
    """
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        devices = model.objects.filter(user=user)
        removed += devices.count()
        devices.delete()
    audit_record(actor=actor, action=AuditAction.REVOKE, agency_id=agency_id, target=f"user:{user.pk}",
                 reason=reason, details={"second_factor": "reset", "username": user.get_username()})
    return removed


def _refuse_to_remove_last_admin(*, membership: Membership) -> None:
    """An agency is never left without an agency admin: nobody but the system administrator could
    manage its staff any more."""
    if membership.role != Role.AGENCY_ADMIN:
        return
    # Locking the admin rows makes two admins who demote each other at once take turns.
    other_admins = list(
        Membership.objects.select_for_update()
        .filter(agency_id=membership.agency_id, role=Role.AGENCY_ADMIN)
        .exclude(pk=membership.pk)
        .values_list("pk", flat=True)
    )
    if not other_admins:
        raise ValidationError(_("The agency needs at least one agency admin; appoint another one first."))


@transaction.atomic(durable=True)
def staff_change_role(*, membership: Membership, role: str, actor: User | None=None) -> Membership:
    if role != Role.AGENCY_ADMIN:
        _refuse_to_remove_last_admin(membership=membership)
    changed = membership_change_role(membership=membership, role=role)
    _break_glass_drop_without_case_role(user=membership.user, agency=membership.agency, actor=actor)
    return changed


@transaction.atomic(durable=True)
def staff_remove(*, membership: Membership, actor: User | None=None) -> None:
    _refuse_to_remove_last_admin(membership=membership)
    membership_remove(user=membership.user, agency=membership.agency)
    _break_glass_drop_without_case_role(user=membership.user, agency=membership.agency, actor=actor)


# --- Reference data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadCounts:
    created: int
    updated: int
    unchanged: int


@transaction.atomic
def province_load_reference(*, path: Path = PROVINCES_FILE) -> LoadCounts:
    """Create or update the provinces of the reference file, matched by code. Provinces missing
    from the file are left alone: agencies and cases may still point at them."""
    records = province_records_read(path=path)
    stored = {province.code: province for province in Province.objects.all()}
    taken = {province.abbreviation: code for code, province in stored.items()}
    taken_by_pk = {province.pk: province.abbreviation for province in stored.values()}
    file_codes = {record.code for record in records}
    clashes = [
        _("%(name)s: abbreviation %(abbr)s is already used by the stored province %(code)s.")
        % {"name": record.name, "abbr": record.abbreviation, "code": taken[record.abbreviation]}
        for record in records
        if taken.get(record.abbreviation, record.code) not in file_codes
    ]
    if clashes:
        raise ReferenceDataError(clashes)
    fields = ("name", "name_ascii", "abbreviation", "type", "valid_from")
    created = updated = unchanged = 0
    changed: list[Province] = []
    for record in records:
        province = stored.get(record.code)
        if province is None:
            Province.objects.create(code=record.code, **{field: getattr(record, field) for field in fields})
            created += 1
        elif any(getattr(province, field) != getattr(record, field) for field in fields):
            for field in fields:
                setattr(province, field, getattr(record, field))
            changed.append(province)
            updated += 1
        else:
            unchanged += 1
    # Two provinces of the file may swap abbreviations: park the changing ones on placeholders
    # (never valid abbreviations, which are capital letters) so that the unique constraint holds
    # after every single statement.
    moving = [province for province in changed if province.abbreviation != taken_by_pk[province.pk]]
    for index, province in enumerate(moving):
        Province.objects.filter(pk=province.pk).update(abbreviation=f"#{index}")
    for province in changed:
        province.save()
    return LoadCounts(created=created, updated=updated, unchanged=unchanged)


@transaction.atomic
def commune_import_csv(*, text: str) -> LoadCounts:
    """Load an official commune list: every row is checked first, then all are written together,
    matched on (code, valid_from) so that re-running the same file changes nothing."""
    provinces = {province.code: province for province in Province.objects.all()}
    records = commune_records_parse(text=text, province_codes=set(provinces))
    conflicts = commune_conflicts_with_stored(records=records)
    if conflicts:
        raise ReferenceDataError(conflicts)
    stored = {(commune.code, commune.valid_from): commune for commune in Commune.objects.all()}
    new: list[Commune] = []
    changed: list[Commune] = []
    unchanged = 0
    for record in records:
        province = provinces[record.province_code]
        commune = stored.get((record.code, record.valid_from))
        if commune is None:
            new.append(Commune(
                code=record.code, name=record.name, province=province,
                valid_from=record.valid_from, valid_to=record.valid_to,
            ))
        elif (commune.name, commune.province_id, commune.valid_to) != (record.name, province.pk, record.valid_to):
            commune.name, commune.province, commune.valid_to = record.name, province, record.valid_to
            changed.append(commune)
        else:
            unchanged += 1
    Commune.objects.bulk_create(new, batch_size=500)
    Commune.objects.bulk_update(changed, ["name", "province", "valid_to"], batch_size=500)
    return LoadCounts(created=len(new), updated=len(changed), unchanged=unchanged)


# --- Drift between agency groups and memberships --------------------------------------------------


@dataclass(frozen=True)
class GroupDrift:
    missing: list[tuple[int, int]]  # (user id, group id) a membership calls for but the group lacks
    extra: list[tuple[int, int]]  # (user id, group id) in an agency group without the membership


def agency_groups_drift() -> GroupDrift:
    """Compare the agency groups' members with the memberships. The services and the database
    triggers keep them equal; this finds what got past them (a restored backup, a dropped trigger)."""
    membership_pairs = set(
        Membership.objects.filter(agency__groups__role=F("role")).values_list("user_id", "agency__groups__group_id")
    )
    through = get_user_model().groups.through
    group_pairs = set(
        through.objects.filter(group__agency_group__isnull=False).values_list("user_id", "group_id")
    )
    return GroupDrift(missing=sorted(membership_pairs - group_pairs), extra=sorted(group_pairs - membership_pairs))


@transaction.atomic
def agency_groups_reconcile() -> dict:
    """Report and repair drift: add the members memberships call for, remove the others. Each repair
    is audited (actor: the system)."""
    drift = agency_groups_drift()
    through = get_user_model().groups.through
    if drift.extra:
        for user_id, group_id in drift.extra:
            through.objects.filter(user_id=user_id, group_id=group_id).delete()
    if drift.missing:
        through.objects.bulk_create([through(user_id=u, group_id=g) for u, g in drift.missing])
    if drift.missing or drift.extra:
        logger.warning("Agency groups drifted from memberships: %d missing, %d extra; repaired.",
                       len(drift.missing), len(drift.extra))
        audit_record(actor=None, action=AuditAction.CHANGE, target="agency_groups",
                     reason="Agency groups drifted from memberships; repaired.",
                     details={"added": [list(p) for p in drift.missing], "removed": [list(p) for p in drift.extra]})
    return {"missing": len(drift.missing), "extra": len(drift.extra)}
