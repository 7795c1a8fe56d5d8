#!/bin/sh
# Issue 22, acceptance 2 and 3: every figure the closing note gives, measured one after another on this
# machine in one run, so that they can be read side by side. Not a test; it takes about 45 minutes.
#
#   PG=postgres://postgres@127.0.0.1:5432 REDIS=redis://127.0.0.1:6379 bench/figures.sh 2>&1 | tee figures.log
#
# Databases on $PG (each bench's docstring says how to fill it):
#   $FRESH_SMALL   (default fresh19k)              seed_demo --households 19200, for the freshness bench
#   $FRESH_LARGE   (default bench_engine_2700000)  the national data set engine_bench builds
#   $WEB           (default web_bench)    seed_demo --households 19200, for the web bench,
#                                                  first loads and exports
#   $IMPORTS       (default imp_bench)             any migrated database (the import bench's own county)
#   bench_engine_19200, bench_engine_2700000       engine_bench's, for the engine compare
# SQLite imports run in a new file under /tmp. Sections can be skipped: SKIP="fresh engine".
set -eu
cd "$(dirname "$0")/.."
PG=${PG:-postgres://postgres@127.0.0.1:55432}
REDIS=${REDIS:-redis://127.0.0.1:6390}
SKIP=${SKIP:-}
py=${PYTHON:-.venv/bin/python}
skipped() { case " $SKIP " in *" $1 "*) echo "(skipped: $1)"; return 0 ;; esac; return 1; }
section() { printf '\n=== %s  [%s UTC]\n' "$1" "$(date -u +%H:%M:%S)"; }

echo "figures of $(git rev-parse --short HEAD) on $(nproc) cores, $(date -u +%Y-%m-%d)"

if ! skipped fresh; then
    for db in "${FRESH_SMALL:-fresh19k}" "${FRESH_LARGE:-bench_engine_2700000}"; do
        section "freshness: 20 edits/s for 300 s on $db"
        DATABASE_URL=$PG/$db CELERY_BROKER_URL=$REDIS/4 REDIS_URL=$REDIS/3 \
            "$py" bench/freshness_bench.py --seconds 300 --rate 20
    done
fi

# The web bench and the first loads read $WEB as it is: bring it to this commit's schema first.
DATABASE_URL=$PG/${WEB:-web_bench} "$py" manage.py migrate --verbosity 0

if ! skipped web; then
    section "web bench: county dashboard against /bench/ping/, persistent connections (CONN_MAX_AGE=60)"
    DATABASE_URL=$PG/${WEB:-web_bench} REDIS_URL=$REDIS/2 \
        "$py" bench/web_bench.py --seconds 20 --conn-max-age 60 --rounds 4
fi

if ! skipped loads; then
    section "cold first loads after a recompute, and exports"
    DATABASE_URL=$PG/${WEB:-web_bench} REDIS_URL=$REDIS/2 ALLOWED_HOSTS=127.0.0.1,localhost DEBUG=0 \
        "$py" bench/first_load_bench.py
fi

# The engine compare before the imports: after the 1,000,000-row imports the cluster spends minutes
# vacuuming and checkpointing, and the 19,200-household compare (about 0.4 s a round) felt it.
if ! skipped engine; then
    section "full recompute against caa5238 (before the incremental recompute), 19,200 and 2,700,000 households"
    DATABASE_URL=$PG/bench sh bench/engine_compare.sh --households 19200 2700000 --repeat 3
fi

if ! skipped imports; then
    sqlite=$(mktemp /tmp/figures-imports-XXXXXX.sqlite3)
    section "imports on SQLite (embedded default), and a 1,000,000-row persons import"
    DATABASE_URL=sqlite:///$sqlite "$py" bench/import_bench.py --memory 1000000
    rm -f "$sqlite"
    section "imports on PostgreSQL, and a 1,000,000-row persons import"
    DATABASE_URL=$PG/${IMPORTS:-imp_bench} "$py" bench/import_bench.py --memory 1000000
fi

section "done"
