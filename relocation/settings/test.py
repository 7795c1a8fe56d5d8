"""Test settings: the same code, with fast hashing and fixed keys."""

import os

from relocation.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY") or "dGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY") or "dGVzdC1ibGluZC1pbmRleC1rZXktMzItYnl0ZXMtbG9uZw=="
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal-local"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING"},
    "loggers": {"axes": {"level": "ERROR"}},
}
