"""The vocabulary of need-to-know: data categories within a case and the object permissions on it.

Every other app speaks of access in these terms. Category access is an object permission named
`view_<category>`; the rest are case-level rights.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataCategory(models.TextChoices):
    """Sensitive categories: each is shared only where the survivor consented and the role allows."""

    IDENTITY = "identity", _("Identity")
    CONTACT = "contact", _("Contact and address")
    MEDICAL = "medical", _("Medical")
    POLICE_LEGAL = "police_legal", _("Police and legal")
    EDUCATION = "education", _("Education")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial notes")


# Coordination facts (status, risk, incident type, who did what when) that everyone on the case
# needs. Not a consent category: holding `view_case` is what reveals it.
GENERAL = "general"
ACTION_CATEGORY_CHOICES = [(GENERAL, _("General coordination")), *DataCategory.choices]


class CaseRight(models.TextChoices):
    VIEW = "view_case", _("View the case")
    CHANGE = "change_case", _("Change the case")
    LOG_ACTION = "log_action", _("Log actions on the case")
    MANAGE_SHARING = "manage_sharing", _("Manage consent and sharing")
    CLOSE = "close_case", _("Close or reopen the case")


def category_codename(category: str) -> str:
    return f"view_{category}"


CATEGORY_CODENAMES = {category_codename(c): c for c in DataCategory.values}

# Custom permissions declared on cases.Case (view_case and change_case come from Django's defaults).
CASE_CUSTOM_PERMISSIONS = [
    (CaseRight.LOG_ACTION.value, "Can log actions on the case"),
    (CaseRight.MANAGE_SHARING.value, "Can manage consent and sharing"),
    (CaseRight.CLOSE.value, "Can close or reopen the case"),
    *[(category_codename(c), f"Can view {c} data") for c in DataCategory.values],
]


def categories_from_codenames(codenames) -> frozenset[str]:
    return frozenset(CATEGORY_CODENAMES[c] for c in codenames if c in CATEGORY_CODENAMES)
