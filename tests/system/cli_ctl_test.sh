#!/usr/bin/env bash
# cli_ctl_test.sh - `switchboard ctl` against a real `switchboard run` with devsim's Tasmota devices:
# login (good and bad), list with filters and sort, get by quick id, put/delete, set/toggle
# reaching the device, enable/disable, the websocket event tail, --json for scripts, logout.
#
# usage: cli_ctl_test.sh SWITCHBOARD DEVSIM
set -u
SB=$1 DEVSIM=$2
TMP=$(mktemp -d "${SB_TEST_TMPDIR:-/tmp}/ctl.XXXXXX")
export XDG_CONFIG_HOME=$TMP/xdg
PIDS=()
fails=0
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ "$fails" -eq 0 ] && [ "${SB_KEEP_TMP:-0}" != 1 ] && rm -rf "$TMP"
}
trap cleanup EXIT
check() {
    if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'data_dir: %s/data\nmetrics:\n  type: none\napi:\n  port: %s\n' "$TMP" "$port" > "$TMP/sb.yaml"
"$SB" -c "$TMP/sb.yaml" run > "$TMP/run.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 200); do
    [ -s "$TMP/data/initial-admin-password" ] && [ -s "$TMP/data/run.json" ] && break
    sleep 0.05
done
pw=$(cat "$TMP/data/initial-admin-password")
bus=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["busUrl"])' "$TMP/data/run.json")
ctl() { "$SB" -c "$TMP/sb.yaml" ctl "$@"; }

check "a wrong password is refused with 401" '! ctl login admin wrong 2> "$TMP/err" && grep -q 401 "$TMP/err"'
check "login saves the session" 'ctl login admin "$pw" | grep -q "logged in" && [ -s "$XDG_CONFIG_HOME/switchboard/ctl.json" ]'
check "the session file is private" '[ "$(stat -c %a "$XDG_CONFIG_HOME/switchboard/ctl.json")" = 600 ]'
check "whoami" 'ctl whoami | grep -q "username *admin"'

echo "{\"id\":\"gwt\",\"enabled\":true,\"provider\":{\"type\":\"tasmota\",\"url\":\"$bus\"}}" > "$TMP/gw.json"
check "put a gateway from a file" 'ctl put gateway "$TMP/gw.json" | grep -q saved'
"$DEVSIM" --transport tasmota --nodes 3 --tele-period 300ms --url "$bus" --record "$TMP/rx" > "$TMP/devsim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do ctl get field:gwt.plug1.POWER1.power > /dev/null 2>&1 && break; sleep 0.1; done
check "list gateways as a table" 'ctl list gateway | grep -q "^gwt *tasmota *true"'
check "list fields filtered by node, sorted" \
    'ctl list field nodeId=plug1 --sort id:desc > "$TMP/fields" && head -1 "$TMP/fields" | grep -q "^ID *NAME *VALUE" && ! grep -q sensor1 "$TMP/fields" && grep -q plug1 "$TMP/fields"'
check "--limit pages and says so" 'ctl list field --limit 2 | grep -q "2 of [0-9]* shown"'
check "get by quick id" 'ctl get field:gwt.plug1.POWER1.power | grep -q "^current.value"'
check "get a key path" 'ctl get gateway:gwt.provider.type | grep -q tasmota'
check "--json is the API's JSON" 'ctl --json list gateway | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"data\"][0][\"id\"]==\"gwt\""'

# the event tail sees the confirmed state of a toggle that reached the device
ctl events --quickid field:gwt.plug1.POWER1.power --count 1 > "$TMP/events" 2> "$TMP/events.err" &
tail_pid=$!
for _ in $(seq 1 50); do grep -q subscribed "$TMP/events.err" && break; sleep 0.1; done
check "toggle a relay" 'ctl toggle field:gwt.plug1.POWER1.power | grep -q "done: 1"'
for _ in $(seq 1 100); do kill -0 $tail_pid 2>/dev/null || break; sleep 0.1; done
check "the event tail prints the relay's update and stops after --count" \
    '! kill -0 $tail_pid 2>/dev/null && grep -q "updated *field:gwt.plug1.POWER1.power value=" "$TMP/events"'
check "the device received the command" 'grep -q "cmnd/plug1/POWER1" "$TMP/rx"'
check "set a value" 'ctl set field:gwt.light1.light.Dimmer 40 > /dev/null && sleep 0.3 && grep -q "cmnd/light1/Dimmer 40" "$TMP/rx"'
check "a bad quick id is refused, naming it" '! ctl set nosuch:x 1 2> "$TMP/err" && grep -qi "action 0\|quick id" "$TMP/err"'
check "disable a gateway" 'ctl disable gateway:gwt > /dev/null && ctl get gateway:gwt | grep -q "^enabled *false"'
check "delete it" 'ctl delete gateway gwt > /dev/null && ! ctl get gateway:gwt 2> "$TMP/err" && grep -q 404 "$TMP/err"'
check "logout forgets the session" 'ctl logout > /dev/null && ! ctl list gateway 2> "$TMP/err" && grep -q 401 "$TMP/err"'
check "usage on a bad command" '! ctl frobnicate 2> "$TMP/err" && grep -q "usage:" "$TMP/err"'
[ "$fails" -eq 0 ] || { echo "logs in $TMP"; exit 1; }
