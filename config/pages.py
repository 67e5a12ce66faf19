"""What the HTML pages of every app share."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def flash_outcome(request: HttpRequest, save: Callable[[], Any], success: str | Callable[[Any], str]) -> bool:
    """Run save() for a posted change: each message of its refusal (ValidationError) is flashed as an
    error; otherwise `success` (a text, or a function of save's result) as a success. True when saved."""
    try:
        result = save()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success(result) if callable(success) else success)
    return True
