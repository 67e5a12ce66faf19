from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Channel
from .selectors import PreferenceRow


def preference_field_name(kind: str, channel: str) -> str:
    return f"{kind}__{channel}"


class PreferencesForm(forms.Form):
    """One checkbox per event × channel; the locked ones are disabled, so a posted "off" is ignored."""

    phone = forms.CharField(
        label=_("Mobile number for SMS"), max_length=20, required=False,
        help_text=_("International format, e.g. +84912345678. Leave empty to receive no SMS."),
    )
    language = forms.ChoiceField(label=_("Language of emails and SMS"), choices=settings.LANGUAGES)

    def __init__(self, *args, rows: list[PreferenceRow], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            for channel in Channel.values:
                self.fields[preference_field_name(row.kind, channel)] = forms.BooleanField(
                    required=False, initial=row.channels[channel], disabled=channel in row.locked,
                    label=f"{row.label}: {Channel(channel).label}",
                )

    def table(self):
        """Rows of (event label, [bound fields per channel]) for the template."""
        return [
            (row.label, [self[preference_field_name(row.kind, channel)] for channel in Channel.values])
            for row in self.rows
        ]

    def choices(self) -> list[tuple[str, str, bool]]:
        return [
            (row.kind, channel, self.cleaned_data[preference_field_name(row.kind, channel)])
            for row in self.rows
            for channel in Channel.values
            if channel not in row.locked
        ]
