#!/usr/bin/python3
"""faults_test.py - the fault-injection suite: the split deployment under a steady device load
while its parts fail in turn, then everything counted end to end.

tools/compose-up-local's Topology runs docker-compose.yml's topology as processes (a broker with
one user per service and the ACL, influxd, the sqlite store, every service). devsim plays
MySensors nodes over MQTT on a separate anonymous device broker, numbering its values 1, 2, 3 ...
(--sequence); the gateway reads them with qos 1 and a persistent session. While devsim sends:

  each service SIGKILLed and restarted (gateway, processor, api, task, scheduler, handler,
  forward); the bus broker stopped (SIGTERM) and restarted; the gateway SIGKILLed while the bus
  broker is down; influxd stopped for SB_FAULTS_INFLUX_DOWN seconds; the sqlite database locked
  by another process (BEGIN EXCLUSIVE) for SB_FAULTS_SQLITE_LOCK seconds.

Then the security checks (security.py), devsim is stopped, and every value devsim sent is
looked for: the store's last value per field, InfluxDB's points per field (queried directly),
the field events seen by an MQTT subscriber with the api's bus user (persistent session) and a
websocket client on the API that reconnects like the dashboard. Every service must come back
online by itself. The figures go to REPORT.json and REPORT.txt (docs/testing.md).

usage: faults_test.py SOURCE_DIR BUILD_DIR [REPORT_PREFIX]
"""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

SRC, BUILD = sys.argv[1], sys.argv[2]
REPORT = sys.argv[3] if len(sys.argv) > 3 else os.path.join(BUILD, "faults-report")
sys.path.insert(0, os.path.join(SRC, "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compose_local import Topology, free_port, wait_port  # noqa: E402
from faultlib import Api, EventRecorder, WsWatcher, influx_points, read_retained, wait  # noqa
import security  # noqa: E402
import report  # noqa: E402


def env_num(name, default):
    v = os.environ.get(name)
    return float(v) if v else default


RATE = env_num("SB_FAULTS_RATE", 200)            # device values per second, all nodes
NODES = int(env_num("SB_FAULTS_NODES", 10))
INFLUX_DOWN = env_num("SB_FAULTS_INFLUX_DOWN", 60)
SQLITE_LOCK = env_num("SB_FAULTS_SQLITE_LOCK", 8)  # longer than storage.sqlite.busy_timeout
GATEWAY, PREFIX, DEV_PREFIX = "gwf", "switchboard", "mygateway1"
# Faster recovery than the defaults, to bound the suite's time; every other key is the
# deployment's (deploy/switchboard.yaml).
SERVICE_ENV = {"SWITCHBOARD_BUS_RECONNECT_MAX": "2s", "SWITCHBOARD_BUS_STATUS_INTERVAL": "1s"}

if os.environ.get("SB_TEST_TMPDIR"):
    os.makedirs(os.environ["SB_TEST_TMPDIR"], exist_ok=True)
TMP = tempfile.mkdtemp(prefix="faults-", dir=os.environ.get("SB_TEST_TMPDIR"))
T0 = time.time()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def log(text):
    print(f"[{time.time() - T0:6.1f}s] {text}", flush=True)


class Suite:
    def __init__(self):
        self.checks = []
        self.faults = []
        self.procs = []
        self.topo = Topology(BUILD, os.path.join(TMP, "split"), env=SERVICE_ENV)
        self.gateway, self.prefix, self.dev_prefix = GATEWAY, PREFIX, DEV_PREFIX

    def check(self, name, ok, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} - {name}{(': ' + detail) if detail and not ok else ''}",
              flush=True)
        self.checks.append({"name": name, "ok": bool(ok), "detail": "" if ok else detail})
        return ok

    def status_topic(self, svc):
        return f"{PREFIX}/status/{svc}/compose"

    def status(self, svc):
        return read_retained(self.topo.info["busUrl"], self.api_creds, self.status_topic(svc),
                             timeout=2) or {}

    # ---- set-up ---------------------------------------------------------------------------

    def start(self):
        info = self.topo.start()
        self.api_creds = self.topo.bus_env("api")
        self.api = Api(info["apiUrl"])
        pw = wait(lambda: open(info["adminPasswordFile"]).read().strip(), 30)
        wait(lambda: self.api.login("admin", pw), 30, 0.3)
        self.check("the split deployment starts and the admin logs in", bool(self.api.token))
        for svc in self.topo.services():
            self.check(f"{svc} is online", wait(lambda: self.status(svc).get("status") ==
                                                 "online", 30, 0.3))
        self.start_device_broker()
        self.events = EventRecorder(info["busUrl"], self.api_creds, PREFIX,
                                    os.path.join(TMP, "events.err"))
        self.events.start()
        u = urllib.parse.urlparse(info["apiUrl"])
        self.ws = WsWatcher(u.hostname, u.port, self.api.token)
        self.ws.start()
        self.api.call("POST", "/api/gateway", {
            "id": GATEWAY, "enabled": True, "reconnectDelay": "200ms",
            "provider": {"type": "mysensors", "transport": "mqtt", "url": self.dev_url,
                         "topicPrefix": DEV_PREFIX, "qos": 1}})
        up = wait(lambda: self.api.call("GET", f"/api/gateway/{GATEWAY}")["state"]["status"] ==
                  "up", 30, 0.3)
        self.check("the MySensors MQTT gateway is up", up)
        self.devsim_log = os.path.join(TMP, "devsim.log")
        self.devsim = subprocess.Popen(
            [os.path.join(BUILD, "tools", "devsim", "devsim"), "--transport", "mqtt", "--url",
             self.dev_url, "--prefix", DEV_PREFIX, "--nodes", str(NODES), "--rate", str(RATE),
             "--sequence"], stdout=open(self.devsim_log, "w"), stderr=subprocess.STDOUT)
        self.procs.append(self.devsim)
        flowing = wait(lambda: self.events.max_value > RATE, 30, 0.2)
        self.check("device values flow to the bus's field events", flowing)

    def start_device_broker(self):
        port = free_port()
        d = os.path.join(TMP, "devbroker")
        os.makedirs(d)
        with open(os.path.join(d, "m.conf"), "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                    "max_queued_messages 0\nmax_inflight_messages 0\nmax_queued_bytes 0\n" +
                    ("user root\n" if os.geteuid() == 0 else ""))
        self.procs.append(subprocess.Popen(["mosquitto", "-c", os.path.join(d, "m.conf")],
                                           stdout=open(os.path.join(d, "log"), "w"),
                                           stderr=subprocess.STDOUT))
        wait_port(port)
        self.dev_url = f"tcp://127.0.0.1:{port}"

    # ---- faults ---------------------------------------------------------------------------

    def online_again(self, svcs, began, repaired, restarted=(), timeout=60):
        """Waits until each service has published online after the repair (its status is
        republished every second), and a restarted one from a new start."""
        def ok(svc):
            st = self.status(svc)
            return (st.get("status") == "online" and st.get("updatedAt", "") > repaired and
                    (svc not in restarted or st.get("startedAt", "") > began))
        return all(wait(lambda: ok(s), timeout, 0.3) for s in svcs)

    def flowing(self, timeout=60):
        mark = self.events.max_value
        return wait(lambda: self.events.max_value >= mark + max(5, RATE / 2), timeout, 0.2)

    def fault(self, name, action, services=(), pipeline=True, restarted=()):
        """Runs one fault: action() breaks and repairs; then every named service must be back
        online by itself and, for the pipeline's parts, new values must arrive again."""
        log(f"fault: {name}")
        f = {"name": name, "atS": round(time.time() - T0, 1), "mark": self.events.max_value}
        t = time.time()
        detail = action() or {}
        t_repaired = time.time()
        repaired = iso(t_repaired)
        back = self.online_again(services, iso(t), repaired, restarted) if services else True
        flows = self.flowing() if pipeline else True
        f.update(detail)
        f["faultS"] = round(t_repaired - t, 1)
        f["recoverS"] = round(time.time() - t_repaired, 1)
        self.check(f"{name}: {', '.join(services) or 'the pipeline'} back by itself",
                   back and flows, f"online {bool(back)}, values flowing {bool(flows)}")
        self.faults.append(f)

    def kill_restart(self, svc, down=0.0):
        def action():
            self.topo.kill(svc)
            time.sleep(down)
            self.topo.restart(svc)
            return {"downS": down}
        return action

    def broker_restart(self, down=3.0, kill_gateway=False):
        def action():
            self.topo.stop_part("mosquitto")
            time.sleep(down)
            if kill_gateway:
                self.topo.kill("gateway")
            self.topo.start_part("mosquitto")
            if kill_gateway:
                self.topo.restart("gateway")
            return {"downS": down}
        return action

    def influx_outage(self):
        self.topo.stop_part("influxd")
        time.sleep(INFLUX_DOWN)
        self.topo.start_part("influxd")
        return {"downS": INFLUX_DOWN}

    def sqlite_lock(self):
        db = sqlite3.connect(self.topo.info["sqlitePath"], timeout=30, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        time.sleep(SQLITE_LOCK)
        db.execute("ROLLBACK")
        db.close()
        return {"lockedS": SQLITE_LOCK}

    def run_faults(self):
        self.fault("gateway SIGKILL, 2 s down", self.kill_restart("gateway", 2), ["gateway"],
                   restarted=["gateway"])
        self.fault("processor SIGKILL, 2 s down", self.kill_restart("processor", 2),
                   ["processor"], restarted=["processor"])
        ws_before = self.ws.connects
        self.fault("api SIGKILL", self.kill_restart("api"), ["api"], pipeline=False,
                   restarted=["api"])
        api_back = wait(lambda: self.api.request("GET", "/api/status", token="")[0] == 200, 30)
        ev = self.ws.events
        ws_ok = wait(lambda: self.ws.connects > ws_before and self.ws.events > ev, 30, 0.2)
        self.check("the websocket client reconnects after the api restart and gets events",
                   api_back and ws_ok, f"connects {self.ws.connects}, events {self.ws.events}")
        for svc in ("task", "scheduler", "handler", "forward"):
            if svc in self.topo.services():
                self.fault(f"{svc} SIGKILL", self.kill_restart(svc), [svc], pipeline=False,
                           restarted=[svc])
        everyone = self.topo.services()
        self.fault("bus broker SIGTERM, 3 s down", self.broker_restart(3), everyone)
        self.fault("bus broker SIGTERM 3 s, gateway SIGKILL meanwhile",
                   self.broker_restart(3, kill_gateway=True), everyone,
                   restarted=["gateway"])
        self.fault(f"influxd stopped {INFLUX_DOWN:g} s", self.influx_outage, ["processor"])
        self.fault(f"sqlite locked {SQLITE_LOCK:g} s (BEGIN EXCLUSIVE)", self.sqlite_lock,
                   ["processor"])

    # ---- counting -------------------------------------------------------------------------

    def stop_devsim(self):
        self.devsim.send_signal(signal.SIGTERM)
        self.devsim.wait(timeout=20)
        sent = {}
        for line in open(self.devsim_log):
            p = line.split()
            if len(p) == 7 and p[:2] == ["devsim:", "seq"]:
                fid = f"{GATEWAY}.{p[2]}.{p[3]}.{'V_TEMP' if p[4] == '0' else 'V_HUM'}"
                sent[fid] = {"count": int(p[5]), "last": int(p[6])}
        return sent

    def store_last(self, sent):
        out = {}
        for fid in sent:
            st, doc = self.api.request("GET", f"/api/field/{fid}")
            out[fid] = ((doc or {}).get("current") or {}).get("value") if st == 200 else None
        return out

    def count(self):
        sent = self.stop_devsim()
        total = sum(s["count"] for s in sent.values())
        log(f"devsim sent {total} values to {len(sent)} fields; counting")
        self.check("devsim reports its fields", len(sent) == 2 * NODES, str(len(sent)))

        def complete():
            last = self.store_last(sent)
            pts = influx_points(self.topo.info["metricsUrl"], "switchboard", GATEWAY)
            ev = self.events.snapshot()
            done = (all(last[f] == s["last"] for f, s in sent.items()) and
                    all(len({v for _, v in pts.get(f, [])}) >= s["count"]
                        for f, s in sent.items()) and
                    all(len({v for v, _ in ev.get(f, [])}) >= s["count"]
                        for f, s in sent.items()))
            return done, last, pts, ev
        end = time.time() + 60
        while True:
            done, last, pts, ev = complete()
            if done or time.time() > end:
                break
            time.sleep(1)
        return report.tally(sent, last, pts, ev, self.faults)

    def final_status(self):
        env = dict(os.environ, SWITCHBOARD_BUS_MANAGED="false", SWITCHBOARD_INSTANCE="compose",
                   SWITCHBOARD_DATA_DIR=os.path.join(TMP, "cli"), **self.api_creds)
        sb = os.path.join(BUILD, "services", "switchboard", "switchboard")
        r = subprocess.run([sb, "status"], env=env, capture_output=True, text=True, timeout=30)
        self.check("switchboard status: every service online", r.returncode == 0,
                   r.stdout + r.stderr)
        return r.stdout


def main():
    s = Suite()
    rep = {"config": {"rate": RATE, "nodes": NODES, "influxDownS": INFLUX_DOWN,
                      "sqliteLockS": SQLITE_LOCK}, "startedAt": time.strftime(
                          "%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        s.start()
        s.run_faults()
        log("security checks")
        rep["security"] = security.run_all(s)
        rep["counts"] = s.count()
        report.judge(s.check, rep["counts"])
        rep["status"] = s.final_status()
        rep["websocket"] = {"connects": s.ws.connects, "events": s.ws.events}
    finally:
        if hasattr(s, "ws"):
            s.ws.stopping = True
        if hasattr(s, "events"):
            s.events.stop()
        s.topo.stop()
        for p in reversed(s.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        rep["faults"] = s.faults
        rep["checks"] = s.checks
        rep["durationS"] = round(time.time() - T0, 1)
        rep["failures"] = sum(1 for c in s.checks if not c["ok"])
        report.write(REPORT, rep)
    return rep["failures"]


failures = 1
try:
    failures = main()
finally:
    if failures or os.environ.get("SB_KEEP_TMP") == "1":
        print(f"{failures} failure(s); logs in {TMP}; report {REPORT}.txt", flush=True)
    else:
        shutil.rmtree(TMP, ignore_errors=True)
        print(f"0 failure(s); report {REPORT}.txt", flush=True)
sys.exit(1 if failures else 0)
