"""``/healthz`` for load balancers, compose and systemd watchdogs, and the worker heartbeat it reads.

The answer is JSON without personal data and needs no login: each part (database, broker, worker,
recompute) with ``ok`` and a short detail; 200 when every part is fine, 503 with ``failing`` naming
the parts that are not. The broker check opens a connection with a short timeout; the worker part
reads a timestamp that a beat task (``worker_heartbeat``, every 30 s) has a worker write into the
cache; the recompute part is the age of the oldest change not yet recomputed (unconsumed change
feed rows, dirty periods) — the "stale values" flag while the broker or the workers are down.
"""

import datetime
import logging
import socket
from typing import Any
from urllib.parse import urlparse

import redis
from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from households.models import ChangeFeed
from indicators.models import Period

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "health:worker-heartbeat"
BROKER_TIMEOUT = 2.0


@shared_task(name="indicators.health.worker_heartbeat", ignore_result=True, acks_late=False)
def worker_heartbeat() -> str:
    """Beat task run by whichever worker consumes the default queue: proves beat, broker and a worker."""
    now = timezone.now()
    cache.set(HEARTBEAT_KEY, {"at": now.isoformat(), "worker": socket.gethostname()}, timeout=24 * 3600)
    return now.isoformat()


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "detail": connection.vendor}


def _check_broker(url: str) -> dict[str, Any]:
    if not url:
        return {"ok": True, "detail": "not configured: tasks run in-process"}
    scheme = url.split("://", 1)[0]
    if scheme in ("redis", "rediss"):
        client = redis.Redis.from_url(url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
        return {"ok": True, "detail": "redis"}
    if scheme.startswith("sqla+"):  # the embedded broker is a file next to the database
        return {"ok": True, "detail": "embedded (sqlalchemy)"}
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), timeout=BROKER_TIMEOUT):
        pass
    return {"ok": True, "detail": scheme}


def _check_worker(broker_url: str) -> dict[str, Any]:
    if not broker_url:
        return {"ok": True, "detail": "not configured: tasks run in-process"}
    beat = cache.get(HEARTBEAT_KEY)
    if not beat:
        return {"ok": False, "detail": "no heartbeat yet (is a worker and exactly one beat running?)"}
    age = (timezone.now() - datetime.datetime.fromisoformat(beat["at"])).total_seconds()
    stale = settings.HEALTH_HEARTBEAT_STALE_SECONDS
    return {"ok": age <= stale, "heartbeat_age_seconds": round(age, 1), "stale_after_seconds": stale}


def _check_recompute() -> dict[str, Any]:
    now = timezone.now()
    oldest_change = ChangeFeed.objects.filter(consumed_at__isnull=True).aggregate(oldest=Min("created_at"))["oldest"]
    dirty = Period.objects.filter(dirty_since__isnull=False, closed_at__isnull=True)
    year_data = Period.objects.filter(year_data_dirty_since__isnull=False, published_at__isnull=True)
    candidates = [oldest_change]
    candidates.append(dirty.aggregate(oldest=Min("dirty_since"))["oldest"])
    candidates.append(year_data.aggregate(oldest=Min("year_data_dirty_since"))["oldest"])
    oldest = min((moment for moment in candidates if moment is not None), default=None)
    age = None if oldest is None else round((now - oldest).total_seconds(), 1)
    stale = settings.HEALTH_PENDING_STALE_SECONDS
    return {
        "ok": age is None or age <= stale,
        "oldest_pending_seconds": age,
        "pending_changes": ChangeFeed.objects.filter(consumed_at__isnull=True).count(),
        "dirty_periods": sorted({*dirty.values_list("key", flat=True), *year_data.values_list("key", flat=True)}),
        "stale_after_seconds": stale,
    }


def health_report() -> dict[str, Any]:
    """Every part's state; a part whose check raises is failing with the exception's class as detail."""
    broker_url = settings.CELERY_BROKER_URL
    checks = {
        "database": _check_database,
        "broker": lambda: _check_broker(broker_url),
        "worker": lambda: _check_worker(broker_url),
        "recompute": _check_recompute,
    }
    parts: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        try:
            parts[name] = check()
        except Exception as exc:  # a health check reports failures, it never raises them
            logger.warning("health check %s failed: %s", name, exc)
            parts[name] = {"ok": False, "detail": exc.__class__.__name__}
    failing = [name for name, part in parts.items() if not part["ok"]]
    return {"status": "fail" if failing else "ok", "failing": failing, "checks": parts}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=503 if report["failing"] else 200)
