"""Assessments are case content: the admin lists them without their answers and never edits them."""

from django.contrib import admin

from .models import RiskAssessment


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(admin.ModelAdmin):
    list_display = ("id", "case", "status", "level", "computed_level", "instrument_version", "agency", "completed_at")
    list_filter = ("status", "level", "variant")
    fields = ("case", "status", "variant", "instrument_version", "score", "computed_level", "level", "agency",
              "completed_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
