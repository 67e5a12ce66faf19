"""Django admin for the system administrator: reference data, agencies and their staff.

Memberships are edited inline on the agency, but saved through the membership services, so that
the agency-role groups (which carry the object permissions) never drift from the Membership rows.
"""

from django.contrib import admin

from .models import Agency, AnalystScope, Commune, Membership, Province
from .services import agency_groups_ensure, membership_add, membership_remove


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


class MembershipInline(admin.TabularInline):
    model = Membership
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


@admin.register(AnalystScope)
class AnalystScopeAdmin(admin.ModelAdmin):
    list_display = ("user", "province")
    list_select_related = ("user", "province")
    search_fields = ("user__username", "user__first_name", "user__last_name", "province__name")
    autocomplete_fields = ("user", "province")
