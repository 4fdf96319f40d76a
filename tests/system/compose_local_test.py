#!/usr/bin/python3
"""compose_local_test.py - the split deployment of docker-compose.yml, run as processes.

tools/compose-up-local starts mosquitto with the deployment's users and ACL, influxd and every
Switchboard service of the compose file (each as its own process and MQTT user, reading
deploy/switchboard.yaml). Then, as a user would: every service reports online; log in to the
API; add a Tasmota gateway; devsim's devices (on a separate anonymous device broker) appear as
fields with values and InfluxDB points; a switch set through the API reaches the device and its
confirmed state comes back; stopping the topology stops every process.

usage: compose_local_test.py SOURCE_DIR BUILD_DIR
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SRC, BUILD = sys.argv[1], sys.argv[2]
if os.environ.get("SB_TEST_TMPDIR"):
    os.makedirs(os.environ["SB_TEST_TMPDIR"], exist_ok=True)
TMP = tempfile.mkdtemp(prefix="compose-local-", dir=os.environ.get("SB_TEST_TMPDIR"))
SB = os.path.join(BUILD, "services", "switchboard", "switchboard")
failures = 0
procs = []


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} - {name}{(': ' + detail) if detail and not ok else ''}",
          flush=True)
    failures += 0 if ok else 1
    return ok


def wait(cond, timeout, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = cond()
            if v:
                return v
        except (OSError, ValueError, KeyError, urllib.error.URLError):
            pass
        time.sleep(step)
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, url):
        self.url, self.token = url, None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"null")


def main():
    split = os.path.join(TMP, "split")
    up = subprocess.Popen([os.path.join(SRC, "tools", "compose-up-local"), "--build", BUILD,
                           "--dir", split], stdout=open(os.path.join(TMP, "up.log"), "w"),
                          stderr=subprocess.STDOUT)
    procs.append(up)
    topo_path = os.path.join(split, "topology.json")
    topo = wait(lambda: json.load(open(topo_path)), 60)
    if not check("compose-up-local starts the topology", topo is not None,
                 open(os.path.join(TMP, "up.log")).read()):
        return
    services = sorted(topo["services"])
    check("the core services of the compose file run", {"gateway", "processor", "api"} <= set(services),
          str(services))

    # every service online, asked with the api's own bus credentials (the ACL lets it read status)
    env = dict(os.environ, SWITCHBOARD_BUS_URL=topo["busUrl"], SWITCHBOARD_BUS_MANAGED="false",
               SWITCHBOARD_INSTANCE="compose", SWITCHBOARD_DATA_DIR=os.path.join(TMP, "cli"))
    for line in open(os.path.join(topo["brokerAuthDir"], "api.env")):
        k, _, v = line.strip().partition("=")
        env[k] = v
    for svc in services:
        ok = wait(lambda: subprocess.run([SB, "status", svc], env=env, capture_output=True)
                  .returncode == 0, 20, 0.5)
        check(f"{svc} is online as its own bus user", ok)
    anon = dict(env, SWITCHBOARD_BUS_USERNAME="", SWITCHBOARD_BUS_PASSWORD="")
    r = subprocess.run([SB, "status"], env=anon, capture_output=True, text=True, timeout=30)
    check("an anonymous client is refused by the broker", r.returncode != 0, r.stdout + r.stderr)

    api = Api(topo["apiUrl"])
    pw = wait(lambda: open(topo["adminPasswordFile"]).read().strip(), 20)
    login = api.call("POST", "/api/user/login", {"username": "admin", "password": pw})
    api.token = login["token"]
    check("log in to the api", bool(api.token))

    # a device broker for the Tasmota devices, and devsim playing them
    dev_port = free_port()
    dev_dir = os.path.join(TMP, "devbroker")
    os.makedirs(dev_dir)
    with open(os.path.join(dev_dir, "m.conf"), "w") as f:
        f.write(f"listener {dev_port} 127.0.0.1\nallow_anonymous true\n" +
                ("user root\n" if os.geteuid() == 0 else ""))
    procs.append(subprocess.Popen(["mosquitto", "-c", os.path.join(dev_dir, "m.conf")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait(lambda: socket.create_connection(("127.0.0.1", dev_port), timeout=0.5), 10)
    api.call("POST", "/api/gateway", {"id": "gwt", "enabled": True, "reconnectDelay": "200ms",
                                      "provider": {"type": "tasmota",
                                                   "url": f"tcp://127.0.0.1:{dev_port}"}})
    record = os.path.join(TMP, "devsim.rx")
    procs.append(subprocess.Popen([os.path.join(BUILD, "tools", "devsim", "devsim"), "--transport",
                                   "tasmota", "--nodes", "3", "--tele-period", "300ms", "--url",
                                   f"tcp://127.0.0.1:{dev_port}", "--record", record],
                                  stdout=open(os.path.join(TMP, "devsim.log"), "w"),
                                  stderr=subprocess.STDOUT))

    field = "gwt.sensor1.BME280.Temperature"
    doc = wait(lambda: api.call("GET", f"/api/field/{field}")["current"], 30, 0.3)
    check("a device value reaches the store through gateway and processor", doc is not None)
    q = urllib.parse.urlencode({"quickId": "field:" + field, "start": "-1h"})
    pts = wait(lambda: api.call("GET", f"/api/metric?{q}"), 30, 0.5)
    check("and InfluxDB has its points (GET /api/metric)", bool(pts) and "raw" in json.dumps(pts),
          json.dumps(pts)[:300])

    power = "gwt.plug1.POWER1.power"
    wait(lambda: api.call("GET", f"/api/field/{power}")["current"], 30, 0.3)
    before = api.call("GET", f"/api/field/{power}")["current"]["value"]
    api.call("POST", "/api/action", [{"resource": "field:" + power, "payload": "toggle"}])
    want = not (before is True or before in ("true", "1", 1))
    got = wait(lambda: api.call("GET", f"/api/field/{power}")["current"]["value"] == want, 20, 0.2)
    check("a switch set through the api reaches the device and comes back confirmed", got,
          f"before {before}")
    check("the device received the command", "cmnd/plug1/POWER1" in open(record).read())

    up.send_signal(signal.SIGTERM)
    up.wait(timeout=20)
    alive = [s for s, i in topo["services"].items() if os.path.exists(f"/proc/{i['pid']}")
             and "zombie" not in open(f"/proc/{i['pid']}/status").read().lower()]
    check("stopping the topology stops every service", not alive, str(alive))


try:
    main()
finally:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
if failures or os.environ.get("SB_KEEP_TMP") == "1":
    print(f"{failures} failure(s); logs in {TMP}", flush=True)
else:
    shutil.rmtree(TMP, ignore_errors=True)
    print("0 failure(s)", flush=True)
sys.exit(1 if failures else 0)
