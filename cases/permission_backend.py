"""Object permissions on cases for Django and guardian-style callers, answered from the access rows.

Since issue 15 the access rows (cases.models.CaseAccessRow) are the one representation of who may do
what on a case: guardian's object-permission rows are no longer written. So that code written for
guardian keeps working, `user.has_perm("cases.view_case", case)` and `user.get_all_permissions(case)`
answer through CaseAccessBackend (in AUTHENTICATION_BACKENDS), and CaseAccessChecker offers the
methods of guardian's ObjectPermissionChecker (has_perm, get_perms, prefetch_perms) over the same
rows. Both honour validity (an ended consent or break-glass use counts for nothing) and the reader
rule (analysts, agency admins, system administrators hold nothing on a case).

Access decisions in HopLuc stay with cases.selectors.case_get_for_user, which also knows the agency
a person acts for. Note that Django answers True to every `has_perm` of an active superuser before
asking any backend (PermissionsMixin): nothing in HopLuc asks has_perm about a case for that reason.
"""

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import User

from .models import Case
from .selectors import case_codenames_for

_APP_LABEL = Case._meta.app_label


def _case_perms(user: User, case: Case) -> set[str]:
    codenames = case_codenames_for(user=user, case_ids=[case.pk]).get(case.pk, frozenset())
    return {f"{_APP_LABEL}.{codename}" for codename in codenames}


class CaseAccessBackend(BaseBackend):
    """Authenticates nobody; answers object permissions on Case objects from the access rows."""

    def get_all_permissions(self, user_obj, obj=None):
        # As Django's ModelBackend: an inactive account holds nothing.
        if not isinstance(obj, Case) or obj.pk is None or not getattr(user_obj, "is_active", False):
            return set()
        return _case_perms(user_obj, obj)

    def has_perm(self, user_obj, perm, obj=None):
        if not isinstance(obj, Case) or obj.pk is None:
            return False
        return perm in self.get_all_permissions(user_obj, obj)


class CaseAccessChecker:
    """guardian.core.ObjectPermissionChecker's object checks for cases, from the access rows: one query
    per case, or one for many after `prefetch_perms(cases)`. Codenames without the app label, as
    guardian's get_perms returns them; `has_perm` takes either form."""

    def __init__(self, user: User) -> None:
        self.user = user
        self._cache: dict[int, frozenset[str]] = {}

    def prefetch_perms(self, objects) -> bool:
        ids = [obj.pk for obj in objects if isinstance(obj, Case) and obj.pk is not None]
        found = case_codenames_for(user=self.user, case_ids=ids)
        for case_id in ids:
            self._cache[case_id] = found.get(case_id, frozenset())
        return True

    def get_perms(self, obj) -> list[str]:
        if not isinstance(obj, Case) or obj.pk is None:
            return []
        if obj.pk not in self._cache:
            self.prefetch_perms([obj])
        return sorted(self._cache[obj.pk])

    def has_perm(self, perm: str, obj) -> bool:
        app_label, _, codename = perm.rpartition(".")
        if app_label and app_label != _APP_LABEL:
            return False
        return codename in self.get_perms(obj)
