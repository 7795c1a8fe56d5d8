"""First loads of the dashboards after a recompute, and list exports (issue 22; not a test).

Usage (a database filled by ``seed_demo``, e.g. the demo's 300 households)::

    DATABASE_URL=… python bench/first_load_bench.py [--settings relocation.settings.local]

Recomputes the running period in-process, then does what the worker does after a finished run
(``dashboards_warm``) unless ``--no-warm``, empties this process's own cache and times, in a new
process, the first GET of the city dashboard, every county's and a township's, as the city bureau
and the county official would open them (after one request to the home page, which pays the new
process's own start-up). Then times the village- and township-level exports of a
township (xlsx). Prints milliseconds per request; the goal is ≤ 300 ms per first load, < 1 s per export.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MEASURE = r"""
import time, django
django.setup()
from django.test import Client
from accounts.models import User
from areas.models import Area

def timed(client, url):
    started = time.perf_counter()
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans", SERVER_NAME="127.0.0.1")
    assert response.status_code == 200, (url, response.status_code)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return (time.perf_counter() - started) * 1000

city = Client(); city.force_login(User.objects.get(username="demo_bureau"))
county_user = User.objects.get(username="demo_county")
county = Client(); county.force_login(county_user)
town = Area.objects.filter(level="乡镇", code__startswith=county_user.area.code).order_by("code").first()
# The process's own first request (imports, templates, URLs) is not a dashboard's cost: a gunicorn
# worker pays it once, at its start. The home page pays it here.
print(f"(process warm-up: home   {timed(city, '/'):7.0f} ms)")
print(f"city dashboard            {timed(city, '/dashboard/city/'):7.0f} ms")
for area in Area.objects.filter(level="县").order_by("code"):
    print(f"county dashboard {area.code}  {timed(city, f'/dashboard/county/{area.code}/'):7.0f} ms")
print(f"township dashboard        {timed(county, f'/dashboard/township/{town.code}/'):7.0f} ms")
for level in ("village", "township"):
    print(f"export {level:<9}          {timed(county, f'/dashboard/export/?level={level}'):7.0f} ms")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", default="relocation.settings.local")
    parser.add_argument("--no-warm", action="store_true", help="skip the worker's warming (the state before issue 22)")
    args = parser.parse_args()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": args.settings, "PYTHONPATH": str(ROOT)}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import cache
    from django.utils import timezone

    from indicators.dashboards.parts import dashboards_warm
    from indicators.engine.runs import compute_run_create, compute_run_execute

    started = time.perf_counter()
    run = compute_run_execute(run_id=compute_run_create(period_key=str(timezone.localdate().year)).pk)
    print(f"recompute of {run.period.key}: {time.perf_counter() - started:.1f} s")
    cache.clear()
    if not args.no_warm:
        started = time.perf_counter()
        built = dashboards_warm(run.period_id)
        print(f"warming (on the worker): {built} county parts in {time.perf_counter() - started:.1f} s")
    subprocess.run([sys.executable, "-c", MEASURE], env=env, check=True)


if __name__ == "__main__":
    main()
