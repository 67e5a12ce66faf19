"""Encryption at rest for identifying survivor fields, and keyed hashes for exact-match search and grouping.

Keys come from the environment (FIELD_ENCRYPTION_KEYS, comma-separated Fernet keys, newest first;
SEARCH_HASH_KEY). Decryption tries every listed key, encryption uses the first, so rotating is: put
a new key first, run `manage.py rotate_encryption_keys`, then drop the old key.
"""

import functools
import hashlib
import hmac
import re
import secrets
import threading
import time
import unicodedata
import uuid

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@functools.cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from exc


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key."""
    return fernet().rotate(token.encode()).decode()


def normalize_phone(phone: str) -> str:
    """Vietnamese numbers are written +84 9x…, 84 9x… or 09x…; all mean the same subscriber."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def phone_search_hash(phone: str) -> str:
    """Keyed hash of a normalized phone number: equal numbers match, the number cannot be read back."""
    normalized = normalize_phone(phone)
    if not normalized:
        return ""
    key = settings.SEARCH_HASH_KEY.encode()
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()


def normalize_reason(reason: str) -> str:
    """A reason as it is grouped: the same words whatever the Unicode form they were typed in (NFC: a
    Vietnamese letter typed as one code point or as a letter and its marks), without surrounding space."""
    return unicodedata.normalize("NFC", reason or "").strip()


@functools.cache
def _reason_key_key(key: str) -> bytes:
    # Its own key, derived from SEARCH_HASH_KEY: a reason key is never equal to another keyed hash of the
    # same text (a phone number, a content reference).
    return hmac.new(key.encode(), b"hopluc/decline-reason/v1", hashlib.sha256).digest()


def reason_key(reason: str) -> uuid.UUID | None:
    """Keyed digest of a normalized reason (HMAC-SHA-256 under a key derived from SEARCH_HASH_KEY, its first
    128 bits), None for no reason: equal reasons have equal keys, so they are grouped and counted in SQL
    without opening them. The reason is free text that may name a person: without the key (it is not in
    the database) it cannot be read back nor confirmed by hashing a guess; whoever reads the database still
    sees which handoffs gave the same reason, so the key is blanked with the case's text when the case is
    anonymised (cases.erasure)."""
    normalized = normalize_reason(reason)
    if not normalized:
        return None
    digest = hmac.new(_reason_key_key(settings.SEARCH_HASH_KEY), normalized.encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16])


# --- Per-case data keys (envelope encryption, crypto-shredding) --------------------------------
#
# Every case has a data key of its own (cases.CaseKey): a Fernet key stored wrapped, i.e. encrypted
# under the key ring above. Case text is sealed with that key and stored as "ck1.<kid>.<token>":
# the key id travels with the value, so reading needs no join, and keys are unwrapped in bulk (one
# query for every key a page needs, see `unseal`). Destroying the wrapped key (cases.erasure) leaves
# every copy of the case's text, in the database, its backups or a dump, without a key.

SEALED_PREFIX = "ck1."
KID_LENGTH = 32


class Sealed(str):
    """A sealed value as read from the database, not yet opened (see fields.EncryptedTextField)."""

    __slots__ = ()

    @property
    def kid(self) -> str:
        return sealed_kid(self)


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def sealed_kid(value: str) -> str:
    return value[len(SEALED_PREFIX):len(SEALED_PREFIX) + KID_LENGTH]


def data_key_new() -> tuple[str, str]:
    """A fresh data key: its id and the key (to be stored wrapped: cases.CaseKey.wrapped_key)."""
    return secrets.token_hex(KID_LENGTH // 2), Fernet.generate_key().decode()


def seal(value: str, *, kid: str, key: Fernet) -> str:
    return f"{SEALED_PREFIX}{kid}.{key.encrypt(value.encode()).decode()}"


class _KeyCache(threading.local):
    def __init__(self):
        self.keys: dict[str, tuple[Fernet | None, float]] = {}
        self.pending: set[str] = set()


_cache = _KeyCache()


def key_cache_clear(**kwargs) -> None:
    """Forget every unwrapped key (at the start and end of each request and task)."""
    _cache.keys.clear()
    _cache.pending.clear()


def key_cache_forget(kid: str) -> None:
    _cache.keys.pop(kid, None)
    _cache.pending.discard(kid)


def key_wanted(kid: str) -> None:
    """A value sealed with `kid` was read: its key is fetched together with the others when the
    first of them is opened."""
    if kid not in _cache.keys:
        _cache.pending.add(kid)


def _cached(kid: str) -> tuple[bool, Fernet | None]:
    entry = _cache.keys.get(kid)
    if entry is None:
        return False, None
    key, loaded = entry
    if time.monotonic() - loaded > settings.CASE_KEY_CACHE_SECONDS:
        del _cache.keys[kid]
        return False, None
    return True, key


def _remember(kid: str, raw: str) -> Fernet | None:
    key = Fernet(raw.encode()) if raw else None
    _cache.keys[kid] = (key, time.monotonic())
    return key


def _load(kids: set[str]) -> None:
    from django.apps import apps

    found = set()
    for row in apps.get_model("cases", "CaseKey").objects.filter(kid__in=kids).only("kid", "wrapped_key"):
        _remember(row.kid, row.wrapped_key)  # the field unwraps it
        found.add(row.kid)
    for kid in kids - found:
        _remember(kid, "")  # no such key: destroyed, or never existed here


def case_key(kid: str) -> Fernet | None:
    """The unwrapped data key `kid`, None when it was destroyed. Keys other values read so far
    are waiting for come in the same query."""
    known, key = _cached(kid)
    if known:
        return key
    wanted = {kid} | {k for k in _cache.pending if not _cached(k)[0]}
    _cache.pending.clear()
    _load(wanted)
    return _cache.keys[kid][0]


def key_known(kid: str) -> bool:
    return _cached(kid)[0]


def key_from_raw(kid: str, raw: str) -> Fernet | None:
    """The Fernet of an unwrapped key, remembered for reads in this request."""
    known, key = _cached(kid)
    return key if known else _remember(kid, raw)


def unseal(value: str) -> str:
    """The plaintext of a sealed value; "" when its case key was destroyed (the case is anonymised)."""
    key = case_key(sealed_kid(value))
    return "" if key is None else unseal_with(value, key)


def unseal_with(value: str, key: Fernet) -> str:
    """The plaintext of a sealed value opened with its case key `key` (unwrapped by the caller)."""
    try:
        return key.decrypt(value[len(SEALED_PREFIX) + KID_LENGTH + 1:].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A sealed value does not open with its case key.") from exc
