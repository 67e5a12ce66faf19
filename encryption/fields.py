from django.db import models
from django.db.models.query_utils import DeferredAttribute

from . import crypto


class SealedAttribute(DeferredAttribute):
    """Opens a sealed value on first read. Values are read sealed (from_db_value) so that the keys
    of every row of a query are unwrapped together, in one query, when the first one is opened."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, crypto.Sealed):
            _key_from_loaded_holder(instance, value.kid)
            value = crypto.unseal(value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


def data_key_holder(instance):
    """The Case or Survivor whose data key seals `instance`'s text (or the CaseMeeting, whose own key
    seals the reasons typed about a meeting of several cases), or None (the key ring seals it).

    A model names the way there with `data_key_via`: "" for the holder itself, or a dotted path of
    relations ("case", "handoff.case")."""
    via = getattr(type(instance), "data_key_via", None)
    if via is None:
        return None
    holder = instance
    for name in filter(None, via.split(".")):
        holder = getattr(holder, name, None)
        if holder is None:
            return None
    return holder


def _key_from_loaded_holder(instance, kid: str) -> None:
    """When the key row came with the query (select_related(".._data_key")), remember it: no query."""
    if crypto.key_known(kid):
        return
    holder = instance
    for name in filter(None, (getattr(type(instance), "data_key_via", None) or "").split(".")):
        holder = holder._state.fields_cache.get(name)
        if holder is None:
            return
    data_key = holder._state.fields_cache.get("data_key") if hasattr(holder, "_state") else None
    if data_key is not None and data_key.kid == kid:
        crypto.key_from_raw(kid, data_key.wrapped_key)


class EncryptedTextField(models.TextField):
    """Text stored encrypted. On a model with `data_key_via` (case data) it is sealed with the case's
    own data key ("ck1.<kid>.<token>", see crypto); elsewhere it is a Fernet token under the key ring.
    The database never sees the plaintext; lookups other than isnull and = "" are meaningless on it
    (use a keyed hash column for exact-match search)."""

    description = "Encrypted text"
    descriptor_class = SealedAttribute

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        if crypto.is_sealed(value):
            sealed = crypto.Sealed(value)
            crypto.key_wanted(sealed.kid)
            return sealed
        return crypto.decrypt(value)

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if value is None or value == "" or isinstance(value, crypto.Sealed):
            return value
        holder = data_key_holder(model_instance)
        if holder is None or getattr(holder, "data_key_id", None) is None:
            return value  # sealed under the key ring by get_prep_value
        # The key row as the holder loaded it (one query per holder instance): never a cache keyed
        # by row id, which a rolled-back transaction can hand out again for another key.
        data_key = holder.data_key
        if not data_key.wrapped_key:
            return ""  # the case was anonymised: nothing new is kept about it
        key = crypto.key_from_raw(data_key.kid, data_key.wrapped_key)
        return crypto.Sealed(crypto.seal(str(value), kid=data_key.kid, key=key))

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or isinstance(value, crypto.Sealed):
            return value
        return crypto.encrypt(value)
