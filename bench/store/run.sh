#!/bin/sh
# Runs bench_store for each config store backend that is built (Release build in build-bench/).
# Usage: bench/store/run.sh [extra bench_store options, e.g. --docs 100000]
# The machine line and three runs of each row go into bench/README.md; report the median.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${SB_BENCH_BUILD:-$here/build-bench}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSB_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_store >/dev/null
bench=$build/bench/store/bench_store
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), sqlite $(pkg-config --modversion sqlite3 2>/dev/null || echo '?')"
run() {
    echo
    "$bench" "$@" || echo "($1: not built or failed)"
}
run memory "$@"
# sqlite parses every candidate document of a find (a scan is ~0.4 s at 100k): fewer finds.
run sqlite --finds 20 "$@"
run sqlite --finds 20 --scatter-puts "$@"
# sync: always costs one fsync per put; measured on fewer documents.
run memory --sync always --docs 5000 --finds 200
run sqlite --sync always --docs 5000 --finds 20
# mongodb needs a server: bench_store has no mongodb backend yet (bench/README.md).
