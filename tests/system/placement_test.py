#!/usr/bin/python3
"""placement_test.py - gateways and handlers placed on "hosts" by label filters.

Two gateway services and two handler services run as separate processes, as on two hosts:
host a with gateway.filter.labels / handler.filter.labels {host: a}, host b with {host: b}.
Through the API (its own process) a system_monitoring gateway and a log handler are created for
each host. Each host's services run only their own (read from their status stats through
GET /api/system), the gateways' values arrive (the processor runs too), and a handler call
reaches the right host only. DESIGN.md section 1; docs/scaling.md.

usage: placement_test.py BUILD_DIR
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = sys.argv[1]
if os.environ.get("SB_TEST_TMPDIR"):
    os.makedirs(os.environ["SB_TEST_TMPDIR"], exist_ok=True)
TMP = tempfile.mkdtemp(prefix="placement-", dir=os.environ.get("SB_TEST_TMPDIR"))
procs, failures = [], 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} - {name}{(': ' + str(detail)) if detail and not ok else ''}",
          flush=True)
    failures += 0 if ok else 1
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(cond, timeout, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = cond()
            if v:
                return v
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        time.sleep(step)
    return None


def spawn(name, argv, env=None):
    log = open(os.path.join(TMP, name + ".log"), "w")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    procs.append(p)
    return p


def service(svc, cfg):
    return spawn(f"{svc}-{os.path.basename(cfg)}",
                 [os.path.join(BUILD, "services", svc, f"switchboard-{svc}"), "-c", cfg])


class Api:
    def __init__(self, url):
        self.url, self.token = url, None

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"null")


def main():
    port = free_port()
    conf = os.path.join(TMP, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                + ("user root\n" if os.geteuid() == 0 else ""))
    spawn("mosquitto", ["mosquitto", "-c", conf])
    wait(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.5), 10)
    api_port = free_port()
    common = (f"data_dir: {TMP}/data\nbus:\n  managed: false\n  url: tcp://127.0.0.1:{port}\n"
              f"  status_interval: 1s\nmetrics:\n  type: none\n"
              f"api:\n  port: {api_port}\n")
    cfgs = {}
    for host in ("a", "b", "main"):
        path = os.path.join(TMP, f"{host}.yaml")
        with open(path, "w") as f:
            f.write(common + f"instance: host-{host}\n")
            if host != "main":
                f.write(f"gateway:\n  filter:\n    labels: {{host: {host}}}\n"
                        f"handler:\n  filter:\n    labels: {{host: {host}}}\n")
        cfgs[host] = path
    service("api", cfgs["main"])
    service("processor", cfgs["main"])
    for host in ("a", "b"):
        service("gateway", cfgs[host])
        service("handler", cfgs[host])

    api = Api(f"http://127.0.0.1:{api_port}")
    pw = wait(lambda: open(f"{TMP}/data/initial-admin-password").read().strip(), 20)
    api.token = wait(lambda: api.call("POST", "/api/user/login",
                                      {"username": "admin", "password": pw})["token"], 20)
    check("log in to the api", bool(api.token))
    for host in ("a", "b"):
        api.call("POST", "/api/gateway", {
            "id": f"gw{host}", "enabled": True, "labels": {"host": host},
            "provider": {"type": "system_monitoring", "interval": "500ms",
                         "nodeId": f"host{host}"}})
        api.call("POST", "/api/handler", {
            "id": f"h{host}", "enabled": True, "type": "log", "labels": {"host": host},
            "spec": {"message": "call for {{ who }}"}})

    def stats(svc, host):
        for e in api.call("GET", "/api/system")["services"]:
            if e["service"] == svc and e["instance"] == f"host-{host}" and e.get("stats"):
                return e["stats"]
        return None

    for host, other in (("a", "b"), ("b", "a")):
        st = wait(lambda: (lambda s: s if f"gw{host}" in s.get("gateways", {}) else None)(
            stats("gateway", host)), 20)
        check(f"host {host}'s gateway service runs gw{host}", st is not None)
        check(f"host {host}'s gateway service does not run gw{other}",
              st is not None and f"gw{other}" not in st.get("gateways", {}), st)
        f = wait(lambda: api.call("GET", f"/api/field?gatewayId=gw{host}&limit=1")["count"], 20)
        check(f"gw{host}'s values are stored", bool(f))
        hs = wait(lambda: (lambda s: s if f"h{host}" in s.get("handlers", {}) else None)(
            stats("handler", host)), 20)
        check(f"host {host}'s handler service runs h{host} only",
              hs is not None and f"h{other}" not in hs.get("handlers", {}), hs)

    subprocess.run(["mosquitto_pub", "-p", str(port), "-q", "1", "-t", "switchboard/handler/ha",
                    "-m", json.dumps({"id": "ha", "source": "test", "parameters": {"who": "a"}})],
                   check=True)
    ok = wait(lambda: "call for a" in open(os.path.join(TMP, "handler-a.yaml.log")).read(), 10)
    check("a call for ha is delivered on host a", ok)
    check("and not on host b",
          "call for a" not in open(os.path.join(TMP, "handler-b.yaml.log")).read())


try:
    main()
finally:
    for p in reversed(procs):
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
if failures or os.environ.get("SB_KEEP_TMP") == "1":
    print(f"{failures} failure(s); logs in {TMP}")
else:
    shutil.rmtree(TMP, ignore_errors=True)
    print("0 failure(s)")
sys.exit(1 if failures else 0)
