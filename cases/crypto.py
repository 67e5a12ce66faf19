"""Encryption at rest for identifying survivor fields, and keyed hashes for exact-match search.

Keys come from the environment (FIELD_ENCRYPTION_KEYS, comma-separated Fernet keys, newest first;
SEARCH_HASH_KEY). Decryption tries every listed key, encryption uses the first, so rotating is: put
a new key first, run `manage.py rotate_encryption_keys`, then drop the old key.
"""

import functools
import hashlib
import hmac
import re

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
