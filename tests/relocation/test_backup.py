"""docs/backup.md works: pg_dump -Fc, pg_restore into a fresh database, recompute there, identical
indicator values (the export_indicators CSV, byte for byte) — issue 10, Backup."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]


def client_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGHOST": str(db["HOST"] or "127.0.0.1"), "PGPORT": str(db["PORT"] or 5432)}
    env["PGUSER"] = db["USER"] or "postgres"
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def manage(database: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url(database), "DJANGO_SETTINGS_MODULE": "relocation.settings.test"}
    env.pop("CELERY_BROKER_URL", None)  # in-process, like the operator's one-off commands
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def restored_name():
    name = f"{settings.DATABASES['default']['NAME']}_restored"
    run = {"env": client_env(), "capture_output": True, "timeout": 60}
    subprocess.run(["dropdb", "--if-exists", name], **run)
    yield name
    subprocess.run(["dropdb", "--if-exists", "--force", name], **run)


def test_a_dump_restored_into_a_fresh_database_recomputes_to_identical_values(tmp_path, restored_name):
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        assert shutil.which(tool), f"{tool} missing (apt-get install postgresql-client-15)"
    call_command("seed_demo", households=100, seed=5, verbosity=0)
    original = settings.DATABASES["default"]["NAME"]
    period = f"{timezone.localdate().year:04d}"
    manage(original, "compute_indicators", "--period", period)
    dump = tmp_path / "relocation.dump"
    env = client_env()

    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-d", original, "-f", str(dump)], env=env, check=True, timeout=120)
    subprocess.run(["createdb", restored_name], env=env, check=True, timeout=60)
    subprocess.run(["pg_restore", "--no-owner", "-d", restored_name, str(dump)], env=env, check=True, timeout=120)
    manage(restored_name, "compute_indicators", "--period", period)

    exports = {}
    for name in (original, restored_name):
        for level in ("county", "site"):
            exports[name, level] = manage(name, "export_indicators", "--period", period, "--level", level)
    assert dump.stat().st_size > 0
    assert exports[original, "county"].count("\n") > 100
    assert exports[original, "county"] == exports[restored_name, "county"]
    assert exports[original, "site"] == exports[restored_name, "site"]
