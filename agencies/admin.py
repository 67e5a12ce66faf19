"""Django admin for the system administrator: reference data, agencies and their staff.

Memberships are edited inline on the agency, but saved through the membership services, so that
the agency-role groups (which carry the object permissions) never drift from the Membership rows.
Those groups are shown read-only: on the group pages, and on a user's page, where only the other
groups (such as one holding permissions.break_glass) can be chosen.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import AccountRelease, Agency, AnalystScope, Commune, InitialPassword, Membership, Province, Role
from .services import (
    account_release,
    account_release_withdraw,
    agency_groups_ensure,
    membership_add,
    membership_remove,
    membership_roles_check,
)


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "abbreviation", "type", "valid_from", "valid_to")
    list_filter = ("type",)
    search_fields = ("code", "name", "name_ascii", "abbreviation")


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "province", "valid_from", "valid_to")
    list_filter = ("province",)
    list_select_related = ("province",)
    search_fields = ("code", "name")
    autocomplete_fields = ("province",)


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "role")

    def clean(self):
        cleaned = super().clean()
        user, role = cleaned.get("user"), cleaned.get("role")
        agency = self.instance.agency if self.instance.agency_id else None
        if user is not None and role and not cleaned.get("DELETE"):
            try:
                membership_roles_check(user=user, agency=agency, role=role)
            except ValidationError as exc:
                self.add_error("role", exc)
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "sector", "province", "commune", "active")
    list_filter = ("sector", "active", "province")
    list_select_related = ("province", "commune")
    search_fields = ("name",)
    autocomplete_fields = ("province", "commune", "parent")
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The admin view runs in one transaction, so the agency never exists without its groups.
        agency_groups_ensure(agency=obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        agency = form.instance
        # The admin's change message reads these lists, which formset.save() would have filled.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.deleted_forms:
            if inline_form.instance.pk is not None:
                membership_remove(user=inline_form.instance.user, agency=agency)
                formset.deleted_objects.append(inline_form.instance)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            instance = inline_form.instance
            user, role = inline_form.cleaned_data["user"], inline_form.cleaned_data["role"]
            if instance.pk is not None and "user" in inline_form.changed_data:
                membership_remove(user=Membership.objects.get(pk=instance.pk).user, agency=agency)
            membership = membership_add(user=user, agency=agency, role=role)
            if instance.pk is None:
                formset.new_objects.append(membership)
            else:
                formset.changed_objects.append((membership, inline_form.changed_data))


class AnalystScopeForm(forms.ModelForm):
    class Meta:
        model = AnalystScope
        fields = ("user", "province")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if Membership.objects.filter(user=user, role__in=(Role.RESPONDER, Role.SUPERVISOR)).exists():
            raise ValidationError(_("An analyst sees reports only and cannot work on cases: use a separate "
                                    "account."), code="analyst_case_role")
        return user


@admin.register(AnalystScope)
class AnalystScopeAdmin(admin.ModelAdmin):
    form = AnalystScopeForm
    list_display = ("user", "province")
    list_select_related = ("user", "province")
    search_fields = ("user__username", "user__first_name", "user__last_name", "province__name")
    autocomplete_fields = ("user", "province")


class AccountReleaseForm(forms.ModelForm):
    class Meta:
        model = AccountRelease
        fields = ("user", "agency", "reason")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user.is_superuser or user.is_staff:
            raise ValidationError(_("Superusers and staff accounts cannot be released to an agency."))
        return user


@admin.register(AccountRelease)
class AccountReleaseAdmin(admin.ModelAdmin):
    """The system administrator lets one agency attach an account that works elsewhere. Created and
    withdrawn through the services (audited); never edited in place."""

    list_display = ("user", "agency", "released_by", "released_at")
    list_select_related = ("user", "agency", "released_by")
    search_fields = ("user__username", "agency__name")
    autocomplete_fields = ("user", "agency")
    form = AccountReleaseForm

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        release = account_release(user=obj.user, agency=obj.agency, reason=obj.reason, actor=request.user)
        obj.pk, obj.released_by, obj.released_at = release.pk, release.released_by, release.released_at

    def delete_model(self, request, obj):
        account_release_withdraw(release=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for release in queryset:
            account_release_withdraw(release=release, actor=request.user)


@admin.register(InitialPassword)
class InitialPasswordAdmin(admin.ModelAdmin):
    """Read-only: which one-time passwords are still waiting to be changed, and until when."""

    list_display = ("user", "issued_by", "issued_at", "expires_at")
    list_select_related = ("user", "issued_by")
    search_fields = ("user__username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Auth groups and users: the agency groups are derived from memberships, read-only here -------


admin.site.unregister(Group)


@admin.register(Group)
class DerivedGroupAdmin(GroupAdmin):
    """Agency groups (agency:<id>:<role>) are written by the membership services alone: they can
    be looked at, not changed or deleted. Other groups are edited as usual."""

    list_display = ("name", "is_agency_group")

    @admin.display(boolean=True, description=_("agency group (derived from memberships)"))
    def is_agency_group(self, obj):
        return hasattr(obj, "agency_group")

    def has_change_permission(self, request, obj=None):
        if obj is not None and hasattr(obj, "agency_group"):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and hasattr(obj, "agency_group"):
            return False
        return super().has_delete_permission(request, obj)


class MembershipAwareUserChangeForm(UserChangeForm):
    """A user's groups, the agency ones excepted: those follow the memberships, which are edited on
    the agency's page. A system administrator's flags cannot go with a case role."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "groups" in self.fields:
            self.fields["groups"].queryset = Group.objects.filter(agency_group__isnull=True)
            self.fields["groups"].help_text = _(
                "Agency groups are not listed: they follow the person's memberships, set on the agency's page."
            )

    def clean_groups(self):
        chosen = list(self.cleaned_data.get("groups") or [])
        if self.instance.pk is None:
            return chosen
        derived = list(self.instance.groups.filter(agency_group__isnull=False))
        return chosen + derived

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("is_superuser") or cleaned.get("is_staff")) and self.instance.pk and Membership.objects.filter(
            user=self.instance, role__in=(Role.RESPONDER, Role.SUPERVISOR)
        ).exists():
            raise ValidationError(_("A responder or supervisor cannot be a system administrator: use a separate "
                                    "account."), code="sysadmin_case_role")
        return cleaned


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class MembershipAwareUserAdmin(UserAdmin):
    form = MembershipAwareUserChangeForm
    readonly_fields = (*UserAdmin.readonly_fields, "agency_groups")
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Agency groups (derived from memberships)"), {"fields": ("agency_groups",)}),
    )

    @admin.display(description=_("agency groups"))
    def agency_groups(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return ", ".join(obj.groups.filter(agency_group__isnull=False).values_list("name", flat=True)) or "-"
