"""Development and the embedded one-machine default (README command 1)."""

import os

from relocation.settings.base import *  # noqa: F403
from relocation.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)

# The run script writes generated keys into var/keys.env and exports them; these fallbacks only keep
# `manage.py` usable in a bare checkout, never in production (see production.py).
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY") or "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmch"
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY") or "ZGV2LW9ubHktYmxpbmQtaW5kZXgta2V5LTMyLWJ5dGVz"
