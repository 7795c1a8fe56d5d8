"""Settings contract (interfaces.md, Configuration): production refuses to start without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {"SECRET_KEY": "s" * 50, "FIELD_ENCRYPTION_KEY": "f" * 43, "BLIND_INDEX_KEY": "b" * 43}


def _import_production(**overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SECRETS)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    code = "import relocation.settings.production as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_production_refuses_to_start_without_a_secret(missing):
    result = _import_production(**{missing: None})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_refuses_an_empty_secret_key():
    result = _import_production(SECRET_KEY="")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_production_starts_with_its_secrets_and_is_not_in_debug():
    result = _import_production()

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
