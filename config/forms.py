"""What the pages' forms share beyond Django's own fields."""

from django import forms


def line_breaks_joined(text: str) -> str:
    """Each line break as one "\\n". A browser sends a text box's line breaks as CR LF, two characters,
    where its maxlength counted one: a text that the box let through would otherwise be refused as too
    long (or cut short) by the server, once for every line break."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TypedTextField(forms.CharField):
    """Text typed in a box of several lines (a Textarea): its length counted as the browser counts it."""

    widget = forms.Textarea

    def to_python(self, value):
        return line_breaks_joined(super().to_python(value))
