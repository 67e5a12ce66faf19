"""Read-only admin of the privacy rows: what was asked and decided, holds and notices are changed only
through the services (which keep the deadlines, notices and audit trail in step). Free text and the
package content are not shown here: the request page shows them to the lead's supervisors."""

from django.contrib import admin

from config.read_only_admin import ReadOnlyAdmin

from .models import AccessPackage, DataSubjectRequest, LegalHold, RetentionNotice


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "kind", "requester", "status", "received_at", "completed_at")
    list_filter = ("kind", "status")
    fields = ("case", "kind", "requester", "status", "received_at", "recorded_by", "recorded_by_agency",
              "acknowledged_at", "decided_at", "decided_by", "refusal_ground", "completed_at")
    list_select_related = ("case",)


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "placed_by_agency", "placed_at", "released_at")
    fields = ("case", "placed_by", "placed_by_agency", "placed_at", "released_at", "released_by")
    list_select_related = ("case", "placed_by_agency")


@admin.register(RetentionNotice)
class RetentionNoticeAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "retention_kind", "retention_ends_at", "anonymise_after", "status")
    list_filter = ("status", "retention_kind")
    list_select_related = ("case",)


@admin.register(AccessPackage)
class AccessPackageAdmin(ReadOnlyAdmin):
    list_display = ("request", "status", "ready_at", "size", "downloaded_at", "downloaded_by")
    fields = ("request", "status", "created_at", "ready_at", "content_sha256", "size", "downloaded_at",
              "downloaded_by")
