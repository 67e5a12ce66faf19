"""Meetings are case coordination records: the admin lists them without any case text and never edits them."""

from django.contrib import admin

from config.read_only_admin import ReadOnlyAdmin

from .models import ActionPlanItem, CaseMeeting, MeetingMinutes


@admin.register(CaseMeeting)
class CaseMeetingAdmin(ReadOnlyAdmin):
    list_display = ("id", "coordinator_agency", "scheduled_for", "mode", "status", "held_on")
    list_filter = ("status", "mode")
    fields = ("coordinator_agency", "scheduled_for", "mode", "status", "held_on", "created_at")
    readonly_fields = fields


@admin.register(MeetingMinutes)
class MeetingMinutesAdmin(ReadOnlyAdmin):
    list_display = ("id", "meeting", "version", "status", "signed_at")
    list_filter = ("status",)
    fields = ("meeting", "version", "status", "signed_at")
    readonly_fields = fields


@admin.register(ActionPlanItem)
class ActionPlanItemAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "owner_agency", "due_at", "status")
    list_filter = ("status",)
    fields = ("case", "owner_agency", "due_at", "status", "finished_at")
    readonly_fields = fields
