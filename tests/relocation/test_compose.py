"""docker-compose.yml parses and describes the production stack of interfaces.md (Running it)."""

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")  # pinned in requirements-dev.txt

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_services_and_images(compose):
    services = compose["services"]

    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"


def test_web_worker_and_beat_run_the_portal(compose):
    services = compose["services"]

    assert services["web"]["command"][0] == "gunicorn"
    assert "relocation.wsgi" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "relocation", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "relocation", "beat"]
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "relocation.settings.production"
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:")
        assert environment["DATABASE_URL"].startswith("postgres://")


def test_exactly_one_beat_and_migrations_run_once(compose):
    services = compose["services"]
    beat_commands = [s for s in services.values() if "beat" in (s.get("command") or [])]

    assert len(beat_commands) == 1
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "-B" not in services["worker"]["command"]
    assert "-B" not in services["worker-imports"]["command"]
    assert "migrate" in " ".join(services["migrate"]["command"])
    for name in ("web", "worker", "worker-imports", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_health_checks_and_named_volumes(compose):
    services = compose["services"]

    for name in ("db", "redis", "web", "worker", "worker-imports", "db-replica"):
        assert services[name]["healthcheck"]["test"], name
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert {"pgdata", "pgreplica", "redisdata", "media"} <= set(compose["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]


def test_env_example_names_every_secret():
    names = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line
    }

    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY", "POSTGRES_PASSWORD", "ALLOWED_HOSTS"} <= names


def test_dockerfile_uses_python_311_slim_and_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")

    assert dockerfile.startswith("#")
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "\nUSER portal" in dockerfile


def test_workers_consume_the_named_queues_that_the_settings_route_to(compose):
    from django.conf import settings

    workers = {
        name: set(service["command"][service["command"].index("-Q") + 1].split(","))
        for name, service in compose["services"].items()
        if service.get("command", [])[:4] == ["celery", "-A", "relocation", "worker"]
    }
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    served = set().union(*workers.values())

    assert len(workers) == 2, "a second worker takes the imports (issue 22)"
    assert workers["worker-imports"] == {"imports"}
    assert "imports" not in workers["worker"]
    assert {"compute", "imports", "reports", "default"} == served
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= served
    assert {queue.name for queue in settings.CELERY_TASK_QUEUES} == served


def test_the_optional_replica_streams_from_db_and_the_portal_reads_it_only_when_configured(compose):
    services = compose["services"]
    replica = services["db-replica"]
    script = " ".join(replica["command"])

    assert replica["profiles"] == ["replica"], "the replica starts only with --profile replica"
    assert replica["image"] == services["db"]["image"]
    assert "pg_basebackup -h db" in script
    assert " -R " in script
    assert replica["depends_on"]["db"]["condition"] == "service_healthy"
    assert any(
        volume.endswith("/docker-entrypoint-initdb.d/allow-replication.sh:ro") for volume in services["db"]["volumes"]
    )
    assert "host replication" in (ROOT / "docs/compose/allow-replication.sh").read_text(encoding="utf-8")
    assert services["web"]["environment"]["REPLICA_DATABASE_URL"] == "${REPLICA_DATABASE_URL:-}"


def test_web_health_check_uses_healthz_and_beat_is_checked_too(compose):
    services = compose["services"]
    web_check = " ".join(services["web"]["healthcheck"]["test"])

    assert "/healthz" in web_check
    assert "status == 200" in web_check
    assert services["beat"]["healthcheck"]["test"]
    assert services["migrate"]["restart"] == "no"


def test_every_portal_service_runs_the_same_image_and_persists_media(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in ("migrate", "web", "worker", "beat")}

    assert images == {"loudi-relocation-portal:latest"}
    for name in ("web", "worker", "beat"):
        assert "media:/app/var/media" in services[name]["volumes"]
        assert services[name]["environment"]["CONN_MAX_AGE"] != "0"
