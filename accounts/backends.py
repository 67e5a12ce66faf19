"""Django's ModelBackend, with the signed-in person's row read by one statement written once per process.

Every request of a signed-in session asks the backend for its user (`get_user`): Django's does so with
`User.objects.get(pk=...)`, built through the ORM each time (about 0.4 ms of CPU a request, measured;
the statement itself costs a tenth of that). This one sends the same SELECT of the same columns, written
once (config.rows), applies the same converters and the same rule (an inactive account is nobody). Signing in,
permissions and everything else are Django's ModelBackend's.
"""

import contextvars

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from config.rows import row_get

# Sessions signed in before this backend existed name Django's (accounts.middleware.AuthenticationMiddleware
# moves them to this one).
LEGACY_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
MODEL_BACKEND = "accounts.backends.ModelBackend"


# Set while the request's user is read for a session that gave no second factor: the read then carries
# what the second-factor gate asks (accounts.mfa.user_with_mfa_facts), kept on the user as
# MFA_FACTS_ATTRIBUTE, and the gate sends no query of its own.
MFA_FACTS_WANTED: contextvars.ContextVar[bool] = contextvars.ContextVar("hopluc_mfa_facts_wanted", default=False)
MFA_FACTS_ATTRIBUTE = "_hopluc_mfa_facts"
# Set while the request's user is read: what the session store read with the session row (its
# `person_read`: user id, that user or None, the facts or None), used when the session names that user.
PERSON_READ: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("hopluc_person_read", default=None)


def user_by_pk(user_id):
    """The user with this primary key, as `User.objects.get(pk=user_id)` returns it; None if there is none."""
    return row_get(get_user_model(), pk=user_id)


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        read = PERSON_READ.get()
        wanted = MFA_FACTS_WANTED.get()
        if read is not None and read[0] == user_id and (not wanted or read[2] is not None):
            # The same row, read by the session's own statement an instant ago (accounts.session_store).
            user = read[1]
            if user is not None and wanted:
                setattr(user, MFA_FACTS_ATTRIBUTE, read[2])
        elif wanted:
            from .mfa import user_with_mfa_facts

            user, facts = user_with_mfa_facts(user_id)
            if user is not None:
                setattr(user, MFA_FACTS_ATTRIBUTE, facts)
        else:
            user = user_by_pk(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
