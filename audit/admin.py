from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: events are written by services only and never changed or removed."""

    list_display = ("seq", "at", "actor_username", "action", "agency_id", "case_id", "target", "ip")
    list_filter = ("action",)
    search_fields = ("actor_username", "target", "=request_id")
    # Counting a table that only grows is slow and tells nothing.
    show_full_result_count = False
    ordering = ("-seq",)
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
