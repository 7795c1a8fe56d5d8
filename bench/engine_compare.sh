#!/bin/sh
# Issue 22: the full recompute must be no slower than before. Times the full recompute of this tree
# and of an earlier commit (default caa5238, before the incremental recompute), alternately on the
# same databases (bench/engine_bench.py --against), and prints both medians and their ratio.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:55432/bench bench/engine_compare.sh \
#       [commit] [--households 19200 2700000] [--repeat 3] [--year 2025]
#
# The databases are engine_bench's <name>_engine_<N> (seeded once when missing: the national scale
# takes about an hour on 2 shared cores). autovacuum is off on the server while it measures.
set -eu
cd "$(dirname "$0")/.."
commit=caa5238
case "${1:-}" in
    ""|-*) ;;
    *) commit=$1; shift ;;
esac
tree=/tmp/engine_before_$commit
if [ ! -d "$tree" ]; then
    git worktree add --detach "$tree" "$commit" >/dev/null
fi
case " $* " in
    *" --households "*) ;;
    *) set -- --households 19200 2700000 "$@" ;;
esac
python=${PYTHON:-.venv/bin/python}
exec nice -n "${NICE:-0}" "$python" bench/engine_bench.py --against "$tree" --autovacuum-off "$@"
