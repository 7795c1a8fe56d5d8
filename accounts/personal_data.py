"""Encryption at rest for ID and phone numbers (access.md, Personal data).

ID numbers are low-entropy (region + birth date + 3 digits), so a plain hash can be brute-forced:
lookups use a keyed HMAC-SHA256 "blind index" with a key separate from the AES-256-GCM key. The
ciphertext carries a key id so keys can be rotated (docs/key-rotation.md).
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# One phone mask for the phone field and for phones typed into notes (core.free_text).
from core.free_text import mask_phone as mask_phone


def _decode_key(name: str, raw: str) -> bytes:
    if not raw:
        raise ImproperlyConfigured(f"{name} is not set; see README (keys are generated into var/keys.env).")
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except ValueError as exc:  # pragma: no cover - configuration error
        raise ImproperlyConfigured(f"{name} must be base64") from exc
    if len(key) < 32:
        # Short development keys are stretched; production keys are 32 random bytes.
        key = hashlib.sha256(key).digest()
    return key[:32]


@lru_cache(maxsize=8)
def _aead(raw: str) -> AESGCM:
    return AESGCM(_decode_key("FIELD_ENCRYPTION_KEY", raw))


@lru_cache(maxsize=8)
def key_id(raw: str) -> str:
    """A short public fingerprint of a key, stored in front of each ciphertext for rotation."""
    return hashlib.sha256(_decode_key("FIELD_ENCRYPTION_KEY", raw)).hexdigest()[:8]


def _keys_by_id() -> dict[str, str]:
    raws = [settings.FIELD_ENCRYPTION_KEY, *getattr(settings, "FIELD_ENCRYPTION_OLD_KEYS", [])]
    return {key_id(raw): raw for raw in raws if raw}


def current_key_id() -> str:
    return key_id(settings.FIELD_ENCRYPTION_KEY)


@lru_cache(maxsize=4)
def _index_key(raw: str) -> bytes:
    return _decode_key("BLIND_INDEX_KEY", raw)


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def encrypt(plaintext: str) -> str:
    """Return ``<key id>:<base64(nonce|ciphertext|tag)>``; empty stays empty."""
    if not plaintext:
        return ""
    nonce = os.urandom(12)
    kid = current_key_id()
    sealed = _aead(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, plaintext.encode(), kid.encode())
    return f"{kid}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    if not token:
        return ""
    kid, _, body = token.partition(":")
    keys = _keys_by_id()
    if kid not in keys:
        raise ImproperlyConfigured(f"No key for ciphertexts of key id {kid}: add it to FIELD_ENCRYPTION_OLD_KEYS.")
    raw = base64.b64decode(body)
    return _aead(keys[kid]).decrypt(raw[:12], raw[12:], kid.encode()).decode()


def blind_index(value: str) -> str:
    """Keyed HMAC of a normalised value: equal inputs give equal indexes, nothing else leaks."""
    if not value:
        return ""
    normalised = value.strip().upper()
    return hmac.new(_index_key(settings.BLIND_INDEX_KEY), normalised.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def _purpose_key(raw: str, purpose: str) -> bytes:
    return hmac.new(_index_key(raw), f"purpose:{purpose}".encode(), hashlib.sha256).digest()


def keyed_hasher(purpose: str) -> "hashlib.blake2b":
    """A keyed BLAKE2b (16 bytes) under a subkey of the blind-index secret for ``purpose``: for
    fingerprints of data that holds an ID number (an unkeyed hash of it would confirm a guessed
    number, access.md). ``copy()`` it per value: the key is set up once."""
    return hashlib.blake2b(key=_purpose_key(settings.BLIND_INDEX_KEY, purpose), digest_size=16)


def plain_of(record: object, field: str) -> str:
    """The decrypted value of ``record.<field>``, decrypted once per instance (a page or export may
    show it several times). Keyed by the ciphertext, so a changed number is decrypted afresh."""
    token = getattr(record, field)
    cache: dict[str, str] = record.__dict__.setdefault("_plain_cache", {})
    if token not in cache:
        cache[token] = decrypt(token)
    return cache[token]


def mask_id_number(id_number: str) -> str:
    """``431302********1234``: first 6 and last 4 kept (access.md)."""
    if not id_number:
        return ""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
