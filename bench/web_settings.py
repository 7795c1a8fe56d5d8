"""Settings of the web benchmark: those named by ``BENCH_BASE_SETTINGS`` (default the local ones)
with the bench URLconf, which adds ``/bench/ping/`` to the portal's URLs."""

import importlib
import os

_base = importlib.import_module(os.environ.get("BENCH_BASE_SETTINGS", "relocation.settings.local"))
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

ROOT_URLCONF = "bench.urls"
