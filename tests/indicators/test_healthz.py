"""/healthz: 200 when database, broker, worker heartbeat and pending recomputes are fine; 503 naming
the failing part otherwise; no login, no personal data (issue 10, acceptance 4)."""

import datetime
import os
import socket

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from households.models import ChangeFeed
from indicators.health import HEARTBEAT_KEY, worker_heartbeat

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def fresh_heartbeat():
    worker_heartbeat()  # as a worker would every 30 s
    yield
    cache.delete(HEARTBEAT_KEY)


def test_healthy_without_a_broker_answers_200_without_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "worker", "recompute"}
    assert body["checks"]["recompute"]["oldest_pending_seconds"] is None
    assert response["Cache-Control"].startswith("max-age=0")


def test_broker_on_a_closed_port_is_named_then_back_to_200(client):
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        down = client.get("/healthz")
    back = client.get("/healthz")

    assert down.status_code == 503
    assert down.json()["failing"] == ["broker"]
    assert down.json()["checks"]["broker"] == {"ok": False, "detail": "ConnectionError"}
    assert back.status_code == 200


@pytest.mark.needs_redis
def test_real_redis_broker_up_down_up(client):
    redis_url = os.environ.get("TEST_REDIS_URL") or os.environ["REDIS_URL"]

    with override_settings(CELERY_BROKER_URL=redis_url):
        up = client.get("/healthz")
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        down = client.get("/healthz")
    with override_settings(CELERY_BROKER_URL=redis_url):
        again = client.get("/healthz")

    assert (up.status_code, down.status_code, again.status_code) == (200, 503, 200)
    assert up.json()["checks"]["broker"]["detail"] == "redis"
    assert down.json()["failing"] == ["broker"]


def test_a_stale_or_missing_heartbeat_names_the_worker(client):
    stale = timezone.now() - datetime.timedelta(minutes=3)
    cache.set(HEARTBEAT_KEY, {"at": stale.isoformat(), "worker": "w1"})

    # Heartbeats only matter with a broker; a listening loopback socket stands in for it.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with override_settings(CELERY_BROKER_URL=f"amqp://127.0.0.1:{server.getsockname()[1]}//"):
            old = client.get("/healthz")
            cache.delete(HEARTBEAT_KEY)
            missing = client.get("/healthz")

    assert old.status_code == 503
    assert old.json()["failing"] == ["worker"]
    assert old.json()["checks"]["worker"]["heartbeat_age_seconds"] >= 180
    assert missing.status_code == 503
    assert missing.json()["failing"] == ["worker"]


def test_pending_recompute_age_is_reported_and_fails_when_stale(client):
    ChangeFeed.objects.create()
    fresh = client.get("/healthz").json()["checks"]["recompute"]
    ChangeFeed.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=20))

    stale = client.get("/healthz")

    assert fresh["ok"] is True
    assert fresh["pending_changes"] == 1
    assert fresh["oldest_pending_seconds"] < 60
    assert stale.status_code == 503
    assert stale.json()["failing"] == ["recompute"]
    assert stale.json()["checks"]["recompute"]["oldest_pending_seconds"] >= 1200


def test_the_answer_carries_no_personal_data(client):
    body = client.get("/healthz").content.decode()

    for word in ("name", "id_number", "phone", "household"):
        assert word not in body
