#!/bin/sh
# bench/pipeline/ab.sh OLD_BUILD NEW_BUILD [ROUNDS] - before/after of the device pipeline on a
# shared machine: old and new builds alternate in each round (separate and all-in-one, 100k
# values at 50k/s and 10k at 1k/s), each round ends with bench_bus (the raw mosquitto rate for
# the ratio), and the processor RSS with 100k fields closes the run. OLD_BUILD may be any
# Release build tree of an earlier commit (bench_pipeline from NEW_BUILD drives both).
set -eu
old=$1 new=$2 rounds=${3:-3}
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ "$r" -le "$rounds" ]; do
    for mode in separate allinone; do
        for b in old new; do
            eval d=\$$b
            for nr in "100000 50000" "10000 1000"; do
                echo "== round $r $b $mode $nr (load $(cut -d' ' -f1 /proc/loadavg))"
                # shellcheck disable=SC2086
                "$new/bench/bench_pipeline" "$d" $mode $nr
            done
        done
    done
    echo "== round $r bench_bus"
    "$new/bench/bench_bus" -n 100000 -r 1
    r=$((r + 1))
done
for b in old new; do
    eval d=\$$b
    echo "== $b rss 100000"
    "$new/bench/bench_pipeline" "$d" rss 100000 0
done
