"""Benchmarks (run as scripts, see each module) and the bench-only settings and URLconf; a package so
that ``bench.urls`` / ``bench.web_settings`` have one module name each (mypy, gunicorn, the tests)."""
