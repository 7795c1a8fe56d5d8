"""Reads on a streaming replica, when there is one (issue 22, docs/scaling.md).

With ``REPLICA_DATABASE_URL`` set, the reads of a safe request (GET, HEAD, OPTIONS: pages, dashboards,
lists, exports, the API's GETs) go to the ``replica`` database. Everything else stays on the primary:
writes, every read of a request that writes, tasks and commands, and reads inside a transaction.

- **Read your writes.** A request that writes marks its client (a cookie, and the API token's key in
  the cache) for ``READ_YOUR_WRITES_SECONDS``; that client's reads stay on the primary meanwhile, so
  a clerk never sees the page from before their own save.
- **Lag and outages.** Every ``REPLICA_CHECK_SECONDS`` a process asks the replica how far its replay
  is behind. Beyond ``REPLICA_MAX_LAG_SECONDS``, or when it does not answer, reads fall back to the
  primary until a later check finds it current again.
"""

import hashlib
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
RECENT_WRITE_COOKIE = "wrote"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Who is asking is always read on the primary: a token or session created a moment ago must work at
# once, and a revoked or logged-out one must stop at once, however far the replica lags. The database
# cache holds the read-your-writes marks of API clients.
PRIMARY_ONLY_APPS = frozenset({"accounts", "sessions", "axes", "otp_totp", "otp_static", "django_cache"})

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)
# Lag in seconds behind the primary, or 0 when the replica has replayed all it received. On a server
# that is not a standby both LSNs are NULL, and it counts as current.
LAG_SQL = """
    SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
                ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""


class _Health:
    """The last answer of this process's replica check, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at = float("-inf")
        self.usable = False

    def reset(self) -> None:
        with self.lock:
            self.checked_at = float("-inf")


health = _Health()


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag() -> float | None:
    """Seconds the replica is behind, or None when it cannot be reached."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
    except DatabaseError:
        connections[REPLICA].close()  # a broken connection is not reused by the next check
        return None
    return float(row[0]) if row else None


def replica_usable() -> bool:
    now = time.monotonic()
    if now - health.checked_at < settings.REPLICA_CHECK_SECONDS:
        return health.usable
    with health.lock:
        if now - health.checked_at >= settings.REPLICA_CHECK_SECONDS:
            lag = replica_lag()
            health.usable = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
            health.checked_at = time.monotonic()
    return health.usable


class ReplicaRouter:
    """Django's router hook: replica reads only where ``ReplicaReadsMiddleware`` allowed them."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if not _replica_reads.get() or connections["default"].in_atomic_block:
            return None
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return None
        return REPLICA if replica_usable() else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same rows on both servers

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA


def _token_key(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if not authorization:
        return None
    return "wrote:" + hashlib.sha256(authorization.encode()).hexdigest()


class ReplicaReadsMiddleware:
    """Decides, per request, whether its reads may use the replica. Placed first, before the session
    and the user are read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        token_key = _token_key(request)
        safe = request.method in SAFE_METHODS
        allowed = safe and RECENT_WRITE_COOKIE not in request.COOKIES and not (token_key and cache.get(token_key))
        reset = _replica_reads.set(allowed)
        try:
            response = self.get_response(request)
        finally:
            _replica_reads.reset(reset)
        if not safe:
            seconds = settings.READ_YOUR_WRITES_SECONDS
            response.set_cookie(
                RECENT_WRITE_COOKIE,
                "1",
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
            if token_key:
                cache.set(token_key, 1, timeout=seconds)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, DatabaseError) and _replica_reads.get():
            health.reset()  # check again at once: the replica may have gone away mid-request
