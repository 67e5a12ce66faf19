"""The session store: Django's database sessions, without a database write on most requests.

The idle timeout (SESSION_IDLE_MINUTES) is the session row's expiry, pushed back by each request
(SESSION_SAVE_EVERY_REQUEST). Django writes the row on every request to do so, even when nothing in
the session changed, and wraps that write in a transaction (BEGIN, UPDATE, COMMIT) so that a failed
insert of a new session cannot break a transaction around it. This store changes two things:
- it skips the write when the session's data did not change and its stored expiry was renewed less
  than SESSION_RENEW_SECONDS ago. A session then ends between SESSION_IDLE_MINUTES minus
  SESSION_RENEW_SECONDS and SESSION_IDLE_MINUTES after the last request: never later than before, at
  most that much earlier;
- renewing an existing session outside any transaction is one UPDATE, atomic on its own: it is sent
  alone, without BEGIN and COMMIT.
The row is read with one statement written once per process (config.rows: the SELECT Django's `get()` sends,
without building it through the ORM on every request: about 0.4 ms of CPU a request, measured).
Everything else is Django's: a changed session is written at once, creating a session and any save
inside a transaction go through Django's code, the row is read on every request (so an expiry or a
deletion in the database takes effect on the next request), and signing out, cycling the key and
ending a session elsewhere work as before. Same table, same data.
"""

import datetime
import functools
import json
import math

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.core.signing import JSONSerializer
from django.db import DatabaseError, connections, router
from django.utils import timezone

from config.rows import row_get, row_get_with

# The person each session key was last found signed in as, and whether that session had given no
# second factor (this process's guess, at most _PERSONS_KEPT sessions): with it the session row and the
# person's row (with the second-factor facts when the session had none) are read by one statement
# (config.rows.row_get_with). The row read is used only when the session, decoded, names that person
# (accounts.backends); a wrong or missing guess costs the second statement, as before.
_PERSON_OF_SESSION: dict[str, tuple[object, bool]] = {}
_PERSONS_KEPT = 20000


def session_person_remember(session_key: str | None, user_id, *, facts: bool) -> None:
    """Remember who the session with this key was found signed in as (accounts.middleware)."""
    if not session_key:
        return
    if _PERSON_OF_SESSION.get(session_key) == (user_id, facts):
        return
    if len(_PERSON_OF_SESSION) >= _PERSONS_KEPT:
        _PERSON_OF_SESSION.clear()
    _PERSON_OF_SESSION[session_key] = (user_id, facts)


# Session data already verified and decoded, as JSON text, by (signed data, salt, signing keys): at most
# _DECODED_KEPT of them (decode).
_DECODED: dict[tuple, str] = {}
_DECODED_KEPT = 4096


def _nav_version_readable(alias: str) -> bool:
    from .models import NavRolesVersion

    return router.db_for_read(NavRolesVersion) == alias


@functools.cache
def _nav_version_extra(alias: str) -> tuple[str, list]:
    """The person's navigation roles version (accounts.navigation.nav_roles_version) as an extra column over
    the user row aliased `u` (config.rows)."""
    from django.contrib.auth import get_user_model

    from .models import NavRolesVersion

    quote = connections[alias].ops.quote_name
    table = NavRolesVersion._meta.db_table
    user_column = NavRolesVersion._meta.get_field("user").column
    version_column = NavRolesVersion._meta.get_field("version").column
    # Quoted names only; no value.
    return (f"(SELECT v.{quote(version_column)} FROM {quote(table)} v "  # noqa: S608
            f"WHERE v.{quote(user_column)} = u.{quote(get_user_model()._meta.pk.column)})"), []


class SessionStore(db.SessionStore):
    _stored_expiry: datetime.datetime | None = None
    # (user id, that user or None, second-factor facts or None): the person read with the session row.
    person_read: tuple[object, object, tuple[bool, bool] | None] | None = None
    # Set by the session middleware on a page's GET: read the person's unread notification count with the
    # session's row (the header shows it: notifications.context_processors), left in
    # `notification_unread_prefetched` when it was.
    unread_wanted = False
    notification_unread_prefetched: tuple | None = None
    # Set by the session middleware on a page's GET: read the person's navigation roles version with the
    # session's row (the header's bar follows it: accounts.navigation), left in `nav_roles_version_read` as
    # (user id, version) when it was.
    nav_version_wanted = False
    nav_roles_version_read: tuple[object, str | None] | None = None

    def decode(self, session_data):
        """Django's decode, remembered per process: the same signed text under the same salt and keys always
        decodes to the same data, so the signature check, base64 and decompression of a session whose data did
        not change since this process last read it are not done again (about 8% of an API request's frame).
        Each call gets data of its own (json.loads of the kept text). Data that does not verify is not kept,
        and is refused (logged, empty) by Django's code each time, as before."""
        if self.serializer is not JSONSerializer:
            return super().decode(session_data)
        key = (session_data, self.key_salt, settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
        text = _DECODED.get(key)
        if text is not None:
            return json.loads(text)
        data = super().decode(session_data)
        if data:
            if len(_DECODED) >= _DECODED_KEPT:
                _DECODED.clear()
            _DECODED[key] = json.dumps(data)
        return data

    def _get_session_from_db(self):
        row = self._session_row()
        self._stored_expiry = row.expire_date if row is not None else None
        return row

    def _session_row(self):
        """Django's read of the session (a live row with this key, else None and no key), in one
        statement written once (config.rows)."""
        session_key = self.session_key
        # No key (no cookie, or one Django's key validation refused): the ORM looks up NULL and finds nothing.
        if not session_key:
            row = None
        elif (guess := _PERSON_OF_SESSION.get(session_key)) is None:
            row = row_get(self.model, session_key=session_key, expire_date__gt=timezone.now())
        else:
            row = self._session_row_with_person(session_key, *guess)
        if row is None:
            self._session_key = None
        return row

    def _session_row_with_person(self, session_key, user_id, facts: bool):
        from django.contrib.auth import get_user_model

        from notifications.selectors import notification_unread_extra, notification_unread_prefetched

        from .mfa import mfa_facts_extra

        alias = router.db_for_read(self.model)
        extras = [mfa_facts_extra()] if facts else []
        nav_version = self.nav_version_wanted and _nav_version_readable(alias)
        if nav_version:
            extras.append(_nav_version_extra(alias))
        unread = notification_unread_extra(using=alias, user_alias="u") if self.unread_wanted else None
        if unread is not None:
            extras.append(unread)
        found = row_get_with(self.model, get_user_model(), user_id, other_alias="u",
                             other_extra=(", ".join(sql for sql, _params in extras),
                                          [param for _sql, params in extras for param in params]) if extras else None,
                             session_key=session_key, expire_date__gt=timezone.now())
        if found is None:
            return None
        row, user, extra = found
        self.person_read = (user_id, user, (bool(extra[0]), bool(extra[1])) if facts else None)
        if nav_version and user is not None:
            self.nav_roles_version_read = (user_id, extra[2 if facts else 0])
        if unread is not None and user is not None:
            self.notification_unread_prefetched = notification_unread_prefetched(
                using=alias, user_id=user_id, count=extra[-1])
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
        using = router.db_for_write(self.model)
        connection = connections[using]
        if must_create or self.session_key is None or connection.in_atomic_block or not connection.get_autocommit():
            super().save(must_create=must_create)
        else:
            obj = self.create_model_instance(self._get_session())
            try:
                # No row updated (the session was ended meanwhile) raises DatabaseError, as in Django's save.
                obj.save(force_update=True, using=using)
            except DatabaseError as exc:
                raise UpdateError from exc
        self._stored_expiry = self.get_expiry_date()

    def expires_in(self) -> int:
        """Seconds until the session ends if no other request comes: what the idle-timeout warning
        counts down. Computed before this request's write, so it may only err short."""
        if self._renewal_due():
            return self.get_expiry_age()
        return max(0, math.ceil((self._stored_expiry - timezone.now()).total_seconds()))
