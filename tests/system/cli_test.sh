#!/usr/bin/env bash
# cli_test - the switchboard binary as a user runs it: version, config default/check/show,
# and `run` with its managed mosquitto, stopped by SIGTERM and SIGINT within 2 s.
# Usage: cli_test.sh PATH/TO/switchboard
set -u
SB=$1
TMP=$(mktemp -d "${SB_TEST_TMPDIR:-/tmp}/cli-XXXXXX" 2>/dev/null || mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
ok() { echo "ok   - $1"; passed=$((passed + 1)); }
bad() { echo "FAIL - $1"; failed=$((failed + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

check "version prints the version" '"$SB" version | grep -q "^switchboard [0-9]"'

"$SB" config default > "$TMP/default.yaml"
check "config default loads back" '"$SB" config check "$TMP/default.yaml" > /dev/null'
check "config default has a comment per key" \
    '[ "$(grep -c "^ *#" "$TMP/default.yaml")" -ge "$(grep -c "^ *[a-z_]*:" "$TMP/default.yaml")" ]'

printf 'bus:\n  managed: true\n  prot: 1883\n' > "$TMP/unknown.yaml"
out=$("$SB" config check "$TMP/unknown.yaml" 2>&1); rc=$?
check "config check rejects an unknown key (exit 1)" '[ $rc -eq 1 ]'
check "the error names the key and the line" 'echo "$out" | grep -q "3" && echo "$out" | grep -q "prot"'

printf 'bus:\n  keepalive: soon\n' > "$TMP/type.yaml"
out=$("$SB" config check "$TMP/type.yaml" 2>&1); rc=$?
check "config check rejects a wrong type" '[ $rc -eq 1 ] && echo "$out" | grep -q "keepalive"'

check "config show redacts secrets" \
    'SWITCHBOARD_BUS_PASSWORD=hunter2 "$SB" config show | grep -q "password" &&
     ! SWITCHBOARD_BUS_PASSWORD=hunter2 "$SB" config show | grep -q hunter2'

printf 'run:\n  services: [processor, nosuch]\n' > "$TMP/badsvc.yaml"
out=$("$SB" -c "$TMP/badsvc.yaml" run 2>&1); rc=$?
check "run refuses an unknown service, naming it" '[ $rc -ne 0 ] && echo "$out" | grep -q nosuch'

# `run` with the managed broker, stopped by a signal.
run_and_stop() {
    local sig=$1 dir="$TMP/run-$1"
    mkdir -p "$dir"
    printf 'data_dir: %s/data\n' "$dir" > "$dir/sb.yaml"
    "$SB" -c "$dir/sb.yaml" run > "$dir/out.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    local url=""
    for _ in $(seq 1 200); do
        url=$(grep -o "tcp://127.0.0.1:[0-9]*" "$dir/out.log" | head -1)
        [ -n "$url" ] && grep -q "is running" "$dir/out.log" && break
        sleep 0.05
    done
    local port=${url##*:}
    check "run ($sig): starts a managed mosquitto and prints the banner" '[ -n "$port" ]'
    check "run ($sig): the managed broker carries messages" \
        'timeout 5 mosquitto_sub -p "$port" -t sbcli/x -C 1 -W 4 > "$dir/got" & local sub=$!; sleep 0.3;
         mosquitto_pub -p "$port" -t sbcli/x -m hello -q 1; wait $sub; grep -q hello "$dir/got"'
    if [ "$sig" = TERM ]; then
        local st=""
        for _ in $(seq 1 100); do
            st=$("$SB" -c "$dir/sb.yaml" status processor 2>&1) && break
            sleep 0.1
        done
        check "status: the all-in-one's processor is online ($st)" \
            '"$SB" -c "$dir/sb.yaml" status processor | grep -q "processor .*: online"'
        check "status: lists the services, exit 0" \
            '"$SB" -c "$dir/sb.yaml" status > "$dir/st" && grep -q "^gateway .* online" "$dir/st"'
        check "status: a service not running exits 1" '! "$SB" -c "$dir/sb.yaml" status nosuch'
    fi
    local broker_pid
    broker_pid=$(pgrep -f "mosquitto -c $dir/data/mosquitto/mosquitto.conf" | head -1)
    local t0
    t0=$(date +%s%N)
    kill -"$sig" "$pid"
    wait "$pid"
    local rc=$?
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    check "run ($sig): exits 0 within 2 s (took ${ms} ms, rc $rc)" '[ $rc -eq 0 ] && [ $ms -lt 2000 ]'
    check "run ($sig): run.json is removed" '[ ! -e "$dir/data/run.json" ]'
    check "run ($sig): the managed broker is gone" \
        '[ -n "$broker_pid" ] && ! kill -0 "$broker_pid" 2>/dev/null'
}
run_and_stop TERM
run_and_stop INT

# Backup export/import and store copy between two stores (sqlite -> memory), as a user runs them.
mkdir -p "$TMP/bk"
printf 'data_dir: %s/bk/a\n' "$TMP" > "$TMP/bk/a.yaml"
printf 'data_dir: %s/bk/b\nstorage:\n  type: memory\n' "$TMP" > "$TMP/bk/b.yaml"
printf 'data_dir: %s/bk/c\n' "$TMP" > "$TMP/bk/c.yaml"
mkdir -p "$TMP/bk/src"
printf '{"format":"switchboard-backup","version":1,"kinds":{"gateway":2}}' > "$TMP/bk/src/manifest.json"
printf '[{"id":"gw1","name":"one"},\n{"id":"gw2","name":"two"}]\n' > "$TMP/bk/src/gateway.json"
check "backup import reads a directory backup" \
    '"$SB" -c "$TMP/bk/a.yaml" backup import "$TMP/bk/src" > /dev/null'
check "backup export writes a tar.gz" \
    '"$SB" -c "$TMP/bk/a.yaml" backup export "$TMP/bk/out.tar.gz" > /dev/null && [ -s "$TMP/bk/out.tar.gz" ]'
check "backup import of that archive into another store" \
    '"$SB" -c "$TMP/bk/c.yaml" backup import "$TMP/bk/out.tar.gz" > /dev/null &&
     "$SB" -c "$TMP/bk/c.yaml" backup export "$TMP/bk/c-out" > /dev/null &&
     grep -q gw2 "$TMP/bk/c-out/gateway.json"'
check "store copy from sqlite to memory" \
    '"$SB" store copy --from "$TMP/bk/a.yaml" --to "$TMP/bk/b.yaml" > /dev/null &&
     "$SB" -c "$TMP/bk/b.yaml" backup export "$TMP/bk/b-out" > /dev/null &&
     grep -q gw1 "$TMP/bk/b-out/gateway.json"'
printf '{"format":"switchboard-backup","version":99,"kinds":{}}' > "$TMP/bk/src/manifest.json"
out=$("$SB" -c "$TMP/bk/a.yaml" backup import "$TMP/bk/src" 2>&1); rc=$?
check "backup import refuses an unknown version, naming it" '[ $rc -ne 0 ] && echo "$out" | grep -q 99'

# The managed port from the environment.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/env"
SWITCHBOARD_DATA_DIR="$TMP/env/data" SWITCHBOARD_BUS_MANAGED_PORT=$port "$SB" run > "$TMP/env/out.log" 2>&1 &
pid=$!
PIDS+=("$pid")
for _ in $(seq 1 200); do grep -q "is running" "$TMP/env/out.log" && break; sleep 0.05; done
check "SWITCHBOARD_BUS_MANAGED_PORT overrides the config" 'grep -q "127.0.0.1:$port" "$TMP/env/out.log"'
kill -TERM "$pid"
wait "$pid"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
