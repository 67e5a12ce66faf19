from django.contrib import admin

from config.read_only_admin import ReadOnlyAdmin

from .models import (
    Deadline,
    HolidayRemoval,
    LegalTimeLimit,
    Notification,
    OutboxMessage,
    ProvinceCoordinator,
    PublicHoliday,
    UserContact,
    WeekendWorkday,
)


@admin.register(LegalTimeLimit)
class LegalTimeLimitAdmin(admin.ModelAdmin):
    list_display = ("code", "description", "limit_type", "amount", "unit", "source")
    search_fields = ("code", "description", "source")


@admin.register(PublicHoliday)
class PublicHolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "is_compensatory")
    list_filter = ("is_compensatory",)
    date_hierarchy = "date"


@admin.register(HolidayRemoval)
class HolidayRemovalAdmin(admin.ModelAdmin):
    """Days taken off the holiday list; no load puts them back. Deleting a row here lets the next
    load_holidays add the day again."""

    list_display = ("date", "name", "removed_at")
    date_hierarchy = "date"
    readonly_fields = ("removed_at",)


@admin.register(WeekendWorkday)
class WeekendWorkdayAdmin(admin.ModelAdmin):
    list_display = ("date", "name")
    date_hierarchy = "date"


@admin.register(ProvinceCoordinator)
class ProvinceCoordinatorAdmin(admin.ModelAdmin):
    list_display = ("user", "province")
    list_select_related = ("user", "province")
    autocomplete_fields = ("user",)
    list_filter = ("province",)


@admin.register(UserContact)
class UserContactAdmin(admin.ModelAdmin):
    list_display = ("user", "phone", "language")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    search_fields = ("user__username",)


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    """Read-only: deadlines change only through the services and the sweep."""

    list_display = ("pk", "kind", "case_number", "owner_agency", "due_at", "stage", "next_fire_at")
    list_filter = ("kind", "stage")
    list_select_related = ("owner_agency",)
    search_fields = ("case_number", "subject")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """The delivery record of emails and SMS, for operators; read-only."""

    list_display = ("pk", "channel", "recipient", "status", "attempts", "created_at", "sent_at", "last_error")
    list_filter = ("channel", "status")
    list_select_related = ("recipient",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "recipient", "case_number", "created_at", "read_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)
