"""Django admin for the cases app.

The admin is for system administrators, who see no case content (only through audited
break-glass access). Cases, survivors, incidents, actions, consents and their events are
therefore deliberately not registered: an admin page would read them without an audit event and
past the need-to-know rules. Only the case-number sequences, which hold counts and no case data,
are shown, read-only, for support ("which number comes next in Huế this year?").
"""

from django.contrib import admin

from config.read_only_admin import ReadOnlyAdmin

from .models import CaseNumberSequence


@admin.register(CaseNumberSequence)
class CaseNumberSequenceAdmin(ReadOnlyAdmin):
    list_display = ("province", "year", "last")
    list_filter = ("year",)
    ordering = ("province__code", "-year")
