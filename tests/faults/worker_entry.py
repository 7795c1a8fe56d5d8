"""The Celery worker of the fault tests: the production worker, with two test hooks.

* While the file named by ``FAULT_SLOW_FLAG`` exists, a recompute writes half of its new values,
  touches ``FAULT_INSIDE`` and sleeps — the moment to ``kill -9`` it, mid-transaction, with the
  period's old rows already deleted inside that transaction.
* Redis redelivers an unacknowledged message after ``visibility_timeout`` (2 h in production, see
  docs/deploy.md); here 5 s, scanned every second, so that a killed worker's message comes back
  within the test's time budget.

Usage: ``python -m tests.faults.worker_entry -Q default,compute,imports,reports …`` (worker arguments).
"""

import os
import sys
import time
from pathlib import Path

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relocation.settings.production")
    django.setup()
    from indicators.engine import runs as services
    from relocation.celery import app

    real_insert = services.values_insert
    slow_flag = Path(os.environ["FAULT_SLOW_FLAG"])
    inside = Path(os.environ["FAULT_INSIDE"])

    def values_insert(values, **kwargs):  # type: ignore[no-untyped-def]
        if not slow_flag.exists():
            return real_insert(values, **kwargs)
        values = list(values)
        real_insert(values[: len(values) // 2], **kwargs)
        inside.write_text(str(os.getpid()))
        time.sleep(120)
        return real_insert(values[len(values) // 2 :], **kwargs)

    services.values_insert = values_insert
    app.conf.broker_transport_options = {
        "visibility_timeout": 5,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    app.worker_main(["worker", *sys.argv[1:]])


if __name__ == "__main__":
    main()
