"""Sending SMS: one small interface, a console backend for development and an HTTP gateway backend.

settings.SMS_BACKEND names the class. A backend raises SmsError when a message did not go out;
`permanent` says that trying again cannot help (a refused number, a rejected token).
"""

import abc
import json
import sys
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class SmsBackend(abc.ABC):
    @abc.abstractmethod
    def send(self, *, to: str, text: str, reference: str = "") -> str:
        """Send one message; return the provider's message id (or "" when it gives none). The same
        `reference` comes with every attempt at one message, for gateways that drop repeats."""


class ConsoleSmsBackend(SmsBackend):
    """Development: print the message where `make run` shows the worker's output."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, text: str, reference: str = "") -> str:
        self.stream.write(f"SMS to {to}: {text}\n")
        self.stream.flush()
        return ""


class HttpGatewaySmsBackend(SmsBackend):
    """POST {"to": ..., "text": ..., "reference": ...} as JSON to SMS_GATEWAY_URL with a bearer token.

    Any 2xx is success (a JSON body's "id" is kept as the provider id); 4xx other than 408 and 429
    are permanent failures; everything else (5xx, timeouts, refused connections) is worth a retry.
    """

    def __init__(self, *, url: str | None = None, token: str | None = None, timeout: float | None = None):
        self.url = url if url is not None else settings.SMS_GATEWAY_URL
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN
        self.timeout = timeout if timeout is not None else settings.SMS_GATEWAY_TIMEOUT
        if not self.url.startswith(("https://", "http://")):
            raise SmsError("SMS_GATEWAY_URL must be an http(s) URL", permanent=True)

    def send(self, *, to: str, text: str, reference: str = "") -> str:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=json.dumps({"to": to, "text": text, "reference": reference}).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
            raise SmsError(f"SMS gateway answered HTTP {exc.code}", permanent=permanent) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"SMS gateway unreachable: {exc}") from exc
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            return ""
        return str(answer.get("id", "")) if isinstance(answer, dict) else ""


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
