"""The session engine (SESSION_ENGINE): Django's database sessions, without a transaction around the
save of every request.

SESSION_SAVE_EVERY_REQUEST renews the idle timeout on every request by saving the session. Django's
database engine wraps that save in a transaction (BEGIN, UPDATE, COMMIT) so that a failed insert of a
new session cannot break a transaction around it. Renewing an existing session outside any transaction
is one UPDATE, atomic on its own: it is sent alone. Creating a session, and any save inside a
transaction, go through Django's code unchanged. Same table, same data: sessions and the code that
reads them (accounts.selectors) are unaffected."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, connections, router


class SessionStore(db.SessionStore):
    def save(self, must_create=False):
        using = router.db_for_write(self.model)
        connection = connections[using]
        if must_create or self.session_key is None or connection.in_atomic_block or not connection.get_autocommit():
            return super().save(must_create=must_create)
        obj = self.create_model_instance(self._get_session())
        try:
            # No row updated (the session was ended meanwhile) raises DatabaseError, as in Django's save.
            obj.save(force_update=True, using=using)
        except DatabaseError as exc:
            raise UpdateError from exc
