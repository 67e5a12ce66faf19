from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Province(models.Model):
    """One of the provincial-level units in force since 2025-07-01 (two-tier local government)."""

    class Type(models.TextChoices):
        CITY = "city", _("Centrally-run city")
        PROVINCE = "province", _("Province")

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_ascii = models.CharField(_("name without diacritics"), max_length=100)
    # Short letter prefix for case numbers (e.g. "HN" for Hà Nội).
    abbreviation = models.CharField(_("abbreviation"), max_length=4, unique=True)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name


class Commune(models.Model):
    """A commune, ward or special zone; communes are merged and renamed, so each has validity dates."""

    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=100)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="communes")
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["province__code", "code"]
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="commune_code_valid_from_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="commune_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Sector(models.TextChoices):
    POLICE = "police", _("Police")
    HEALTH = "health", _("Health")
    EDUCATION = "education", _("Education")
    SOCIAL_WORK = "social_work", _("Social work")
    WOMENS_UNION = "womens_union", _("Women's Union")
    HOTLINE = "hotline", _("Hotline")
    LEGAL_AID = "legal_aid", _("Legal aid")
    SHELTER = "shelter", _("Shelter")
    NGO = "ngo", _("NGO")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    RESPONDER = "responder", _("Frontline responder")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENCY_ADMIN = "agency_admin", _("Agency admin")


class Agency(models.Model):
    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="agencies")
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, related_name="agencies", null=True, blank=True,
        help_text=_("Empty for an agency whose jurisdiction is the whole province."),
    )
    parent = models.ForeignKey("self", on_delete=models.PROTECT, related_name="children", null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Set by the agency's admin: every member then needs a second factor, responders included.
    mfa_required = models.BooleanField(_("second factor required for everyone"), default=False)

    class Meta:
        ordering = ["province__code", "name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.UniqueConstraint(fields=["province", "name"], name="agency_name_unique_in_province"),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="agency_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class AgencyGroup(models.Model):
    """The auth group of one agency and role. Object permissions are granted to these groups, so
    permission rows grow with cases × agencies, not with users."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="groups")
    role = models.CharField(max_length=20, choices=Role.choices)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="agency_group")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "role"], name="agency_group_unique_role")]

    def __str__(self) -> str:
        return self.group.name


class Membership(models.Model):
    """A user's role in one agency. A user may belong to several agencies, with one role in each."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agency__name", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "agency"], name="membership_one_role_per_agency")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency} ({self.get_role_display()})"


class AnalystScope(models.Model):
    """A ministry or provincial analyst's reporting scope: national (no province) or one province.
    Analysts see aggregated reports only, never a case."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analyst_scopes")
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, null=True, blank=True, related_name="analyst_scopes",
        help_text=_("Empty for a national scope."),
    )

    class Meta:
        verbose_name = _("analyst scope")
        verbose_name_plural = _("analyst scopes")
        constraints = [
            models.UniqueConstraint(fields=["user", "province"], name="analyst_scope_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(province__isnull=True), name="analyst_scope_one_national",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.province or _('national')}"
