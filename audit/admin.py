from django.contrib import admin

from config.read_only_admin import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: events are written by services only and never changed or removed."""

    list_display = ("seq", "at", "actor_username", "action", "agency_id", "case_id", "target", "ip")
    list_filter = ("action",)
    search_fields = ("actor_username", "target", "=request_id")
    # Counting a table that only grows is slow and tells nothing.
    show_full_result_count = False
    ordering = ("-seq",)
    actions = None
