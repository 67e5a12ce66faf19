"""A form that writes on a case writes once, however often it is sent.

On a phone with a slow or dropping connection a form is sent twice: a double tap on Save, or Save tapped
again because the first answer never came although the server had saved. Each rendered form carries a
token (cases.models.FormSending), and the first sending claims it in a row committed on its own before
the service runs; once the service's own transaction has committed, the row keeps where the sending led.
A second sending with the token:
- after the first has finished, is led where the first was, and writes nothing;
- while the first runs, waits for it (up to SENDING_WAIT after the first began), then is led there;
- after the first was refused (the form's errors) or failed, finds the token free and runs as the first
  would have: the token is released, so a corrected form is sent with it.
Where the first began more than SENDING_WAIT ago and never finished (its worker was killed between the
service's commit and the row's), nobody can tell whether it saved: the second is refused with a message
that says so, and the form comes back with a new token, so that the worker looks at the case before
sending it again. It is never saved twice and never silently dropped.

The row also keeps a fingerprint of what the first sending asked (sending_fingerprint), so that the token
sent again with something else is refused instead of being taken for the first: on a page, a form shown
again from the browser's history and changed (cases.pages.page_sent_once); on the API, the key sent again
with another body. The API's POSTs that create a record take the token as an `Idempotency-Key` header
(cases.apis.once_per_key): the row keeps the record created, which a request sent again is answered with.
"""

import datetime
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from config.exceptions import NotFound, StateConflict, Unprocessable

from .models import FormSending

# How long a token is kept at least (cases.tasks.delete_expired_forms deletes it within the hour after):
# longer than anyone keeps a form open.
SENDING_KEPT = datetime.timedelta(days=1)
# How long after the first sending began a second one waits for it; longer than a service takes.
SENDING_WAIT = datetime.timedelta(seconds=10)
POLL_SECONDS = 0.1


class SendingUnsettled(StateConflict):
    """The token's first sending began too long ago and never finished, or the token is not this
    user's: the form is shown again, with a new token, and nothing is written."""


class SendingMismatch(Unprocessable):
    """The token was sent before with another request (on the API: the same Idempotency-Key, another body)."""


@dataclass(frozen=True)
class Sent:
    # Where the sending led (the case page); None when the form was refused.
    location: str | None
    # True when an earlier sending with the token wrote, and this one wrote nothing.
    again: bool = False


def sent_once(*, token: uuid.UUID, user: User, send: Callable[[], str | None], fingerprint: str = "",
              field: str = "sending_token") -> Sent:
    """send() (which writes, then returns where to go next, or None when the form is refused) once for
    this token. SendingUnsettled when the token cannot be settled (above); SendingMismatch when it was
    sent with another fingerprint; their messages are on `field`, the token's name where it was sent."""
    while True:
        earlier = _claim(token=token, user=user, fingerprint=fingerprint)
        if earlier is None:
            try:
                location = send()
            except BaseException:
                _release(token)
                raise
            if location is None:
                _release(token)
            else:
                FormSending.objects.filter(token=token).update(location=location)
            return Sent(location=location)
        if earlier.user_id != user.pk:
            raise SendingUnsettled({field: [_("This form can no longer be sent: send it again.")]})
        if earlier.fingerprint != fingerprint:
            raise SendingMismatch({field: [_("This key was sent before with another request.")]})
        if earlier.location:
            return Sent(location=earlier.location, again=True)
        if timezone.now() >= earlier.created_at + SENDING_WAIT:
            raise SendingUnsettled({field: [_(
                "This form was sent before and its answer never came: it may have been saved. Look at the case "
                "before you send it again.")]})
        sending_wait()


def sending_fingerprint(asked: object) -> str:
    """A keyed hash of what a sending asked (its path and what it sent), never what it sent itself."""
    return salted_hmac("hopluc.sending", json.dumps(asked, sort_keys=True, default=str),
                       algorithm="sha256").hexdigest()


def sending_wait() -> None:
    """One pause of a second sending waiting for the first (tests watch it to know the second waits)."""
    time.sleep(POLL_SECONDS)


def _claim(*, token: uuid.UUID, user: User, fingerprint: str) -> FormSending | None:
    """None when this sending now holds the token (its row committed); else the earlier sending's row.
    A row gone between the two queries (its sending refused) is claimed at the next try."""
    now = timezone.now()
    try:
        with transaction.atomic(durable=True):
            FormSending.objects.create(token=token, user=user, fingerprint=fingerprint, created_at=now)
    except IntegrityError:
        earlier = FormSending.objects.filter(token=token).first()
        return earlier or FormSending(token=token, user=user, fingerprint=fingerprint, created_at=now)
    return None


def sendings_expired_delete() -> int:
    """Delete the tokens kept longer than SENDING_KEPT (beat: cases.tasks.delete_expired_forms); how many."""
    deleted, _by_model = FormSending.objects.filter(created_at__lt=timezone.now() - SENDING_KEPT).delete()
    return deleted


def sending_location(*, token: uuid.UUID, user: User) -> str | None:
    """Where this user's finished sending with the token led, if there is one."""
    return FormSending.objects.filter(token=token, user=user).exclude(location="").values_list(
        "location", flat=True).first()


def sending_record(record) -> str:
    """How a sending keeps the record it created: "cases.action:81"."""
    return f"{record._meta.label_lower}:{record.pk}"


def sending_record_get(location: str):
    """The record a sending created (sending_record), read again; NotFound when it is gone since."""
    label, _sep, pk = location.rpartition(":")
    record = apps.get_model(label)._default_manager.filter(pk=pk).first()
    if record is None:
        raise NotFound
    return record


def _release(token: uuid.UUID) -> None:
    FormSending.objects.filter(token=token, location="").delete()


def sending_token(posted: str | None) -> uuid.UUID:
    """The token a form was rendered with; a new one for a form shown for the first time, or sent
    without one (or with a malformed one, which is then not kept from being written twice)."""
    try:
        return uuid.UUID(posted or "")
    except ValueError:
        return uuid.uuid4()
