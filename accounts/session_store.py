"""The session store: Django's database sessions, without a database write on every request.

The idle timeout (SESSION_IDLE_MINUTES) is the session row's expiry, pushed back by each request
(SESSION_SAVE_EVERY_REQUEST). Django writes the row on every request to do so, even when nothing in
the session changed: an UPDATE and a commit per page and API call. This store skips that write when
the session's data did not change and its stored expiry was renewed less than SESSION_RENEW_SECONDS
ago. A session then ends between SESSION_IDLE_MINUTES minus SESSION_RENEW_SECONDS and
SESSION_IDLE_MINUTES after the last request: never later than before, at most that much earlier.
Everything else is Django's: a changed session is written at once, the row is read on every request
(so an expiry or a deletion in the database takes effect on the next request), and signing out,
cycling the key and ending a session elsewhere work as before.
"""

import datetime
import math

from django.conf import settings
from django.contrib.sessions.backends import db
from django.utils import timezone


class SessionStore(db.SessionStore):
    _stored_expiry: datetime.datetime | None = None

    def _get_session_from_db(self):
        row = super()._get_session_from_db()
        self._stored_expiry = row.expire_date if row is not None else None
        return row

    def _renewal_due(self) -> bool:
        """Whether this request must write the session: it changed, it is new, or its stored expiry
        is SESSION_RENEW_SECONDS or more behind the one a write would give it now."""
        if self.modified or self.session_key is None or self._stored_expiry is None:
            return True
        behind = self.get_expiry_date() - self._stored_expiry
        return behind >= datetime.timedelta(seconds=settings.SESSION_RENEW_SECONDS)

    def save(self, must_create=False):
        if not must_create and not self._renewal_due():
            return
        super().save(must_create=must_create)
        self._stored_expiry = self.get_expiry_date()

    def expires_in(self) -> int:
        """Seconds until the session ends if no other request comes: what the idle-timeout warning
        counts down. Computed before this request's write, so it may only err short."""
        if self._renewal_due():
            return self.get_expiry_age()
        return max(0, math.ceil((self._stored_expiry - timezone.now()).total_seconds()))
