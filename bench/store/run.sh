#!/bin/sh
# Runs bench_store for each config store backend that is built (Release build in build-bench/).
# Usage: bench/store/run.sh [extra bench_store options, e.g. --docs 100000]
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${SB_BENCH_BUILD:-$here/build-bench}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSB_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_store >/dev/null
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for backend in memory sqlite; do
    echo
    "$build/bench/store/bench_store" "$backend" "$@" || echo "($backend: not built or failed)"
done
# sync: always costs one fsync per put; measured on fewer documents.
echo
"$build/bench/store/bench_store" memory --sync always --docs 5000 --finds 200
