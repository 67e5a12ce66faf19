"""Assessments are case content: the admin lists them without their answers and never edits them."""

from django.contrib import admin

from config.read_only_admin import ReadOnlyAdmin

from .models import RiskAssessment


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "status", "level", "computed_level", "instrument_version", "agency", "completed_at")
    list_filter = ("status", "level", "variant")
    fields = ("case", "status", "variant", "instrument_version", "score", "computed_level", "level", "agency",
              "completed_at")
    readonly_fields = fields
