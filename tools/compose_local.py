"""compose_local.py - docker-compose.yml's topology as plain processes on this machine.

The library behind tools/compose-up-local, importable by tests that need to start the split
deployment and then stop, kill and restart its parts (tests/faults/):

    sys.path.insert(0, os.path.join(SB_ROOT, "tools"))
    from compose_local import Topology
    topo = Topology(build="build", dir="/tmp/sb-split")
    topo.start()                       # broker, influxd, every service; topo.info as topology.json
    topo.kill("processor")             # SIGKILL, waits for the exit
    topo.restart("processor")          # the same command, environment and ports
    topo.stop_part("mosquitto")        # SIGTERM (the broker saves its persistence), then
    topo.start_part("mosquitto")       # ... started again on the same port
    topo.stop()

The broker, InfluxDB and every Switchboard service of the compose file run as local processes
with the compose file's own commands and environment, the same config file
(deploy/switchboard.yaml), mosquitto with the same mosquitto.conf and the ACL and users of
`switchboard bus acl`. Host names become loopback ports; the store is sqlite (shared by the
processes, as on one host) unless mongodb_uri names a MongoDB server. Parts are named as in the
compose file's services, except the infrastructure: "mosquitto" and "influxd".
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

SB_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFRA = {"mosquitto", "mongodb", "influxdb", "init"}


class TopologyError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def read_env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return env


class Topology:
    """The split deployment as processes. env: extra variables for every service."""

    def __init__(self, build, dir, mongodb_uri=None, keep=False, env=None):
        self.dir = os.path.abspath(dir)
        self.build = os.path.abspath(build)
        self.mongodb_uri = mongodb_uri
        self.keep = keep
        self.extra_env = dict(env or {})
        self.procs = {}  # part name -> Popen, in start order
        self.specs = {}  # part name -> (argv, env, cwd), to start it again
        with open(os.path.join(SB_ROOT, "docker-compose.yml")) as f:
            self.compose = yaml.safe_load(f)
        self.info = {"services": {}}

    # ---- processes ------------------------------------------------------------------------

    def spawn(self, name, argv, env=None, cwd=None):
        self.specs[name] = (argv, env, cwd)
        log = open(os.path.join(self.dir, f"{name}.log"), "ab")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                             start_new_session=True)
        log.close()
        self.procs.pop(name, None)
        self.procs[name] = p
        if name in self.info["services"]:
            self.info["services"][name]["pid"] = p.pid
        return p

    def running(self, name):
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def kill(self, name, sig=signal.SIGKILL, timeout=10.0):
        """Sends sig to the part and waits for it to exit (SIGKILL after timeout)."""
        p = self.procs[name]
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def restart(self, name):
        """Starts a stopped part again with the same command, environment and ports."""
        if self.running(name):
            raise TopologyError(f"{name} is still running")
        argv, env, cwd = self.specs[name]
        p = self.spawn(name, argv, env, cwd)
        if name == "mosquitto":
            self.wait_broker()
        elif name == "influxd":
            self.wait_influxd()
        return p

    def stop_part(self, name, timeout=10.0):
        """A clean stop (SIGTERM): the broker saves its persistence, a service says offline."""
        return self.kill(name, signal.SIGTERM, timeout)

    def start_part(self, name):
        return self.restart(name)

    def switchboard(self):
        return os.path.join(self.build, "services", "switchboard", "switchboard")

    # ---- the broker -----------------------------------------------------------------------

    def start_broker(self):
        """mosquitto with deploy/mosquitto.conf: only the port and paths are local."""
        auth = os.path.join(self.dir, "broker")
        subprocess.run([self.switchboard(), "bus", "acl", "--dir", auth], check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        os.makedirs(os.path.join(self.dir, "mosquitto"), exist_ok=True)
        out = []
        with open(os.path.join(SB_ROOT, "deploy", "mosquitto.conf")) as f:
            for line in f:
                line = re.sub(r"^listener \d+.*", f"listener {port} 127.0.0.1", line)
                line = line.replace("/mosquitto/auth/", auth + "/")
                line = line.replace("/mosquitto/data/", os.path.join(self.dir, "mosquitto") + "/")
                if line.startswith("log_dest"):
                    line = f"log_dest file {self.dir}/mosquitto/mosquitto.log\n"
                out.append(line)
        if os.geteuid() == 0:
            out.append("user root\n")
        conf = os.path.join(self.dir, "mosquitto", "mosquitto.conf")
        with open(conf, "w") as f:
            f.writelines(out)
        self.info["busUrl"] = f"tcp://127.0.0.1:{port}"
        self.info["busPort"] = port
        self.info["brokerAuthDir"] = auth
        self.spawn("mosquitto", ["mosquitto", "-c", conf])
        self.wait_broker()

    def wait_broker(self):
        if not wait_port(self.info["busPort"]):
            raise TopologyError("mosquitto did not start (see mosquitto.log)")

    def bus_env(self, service):
        """SWITCHBOARD_BUS_* of a service's bus user (e.g. "api" for a client reading status)."""
        env = read_env_file(os.path.join(self.info["brokerAuthDir"], f"{service}.env"))
        env["SWITCHBOARD_BUS_URL"] = self.info["busUrl"]
        return env

    # ---- InfluxDB -------------------------------------------------------------------------

    def start_influxd(self):
        d = os.path.join(self.dir, "influxdb")
        os.makedirs(d, exist_ok=True)
        port, rpc = free_port(), free_port()
        conf = os.path.join(d, "influxdb.conf")
        with open(conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  index-version = "inmem"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
[monitor]
  store-enabled = false
""")
        self.info["metricsUrl"] = f"http://127.0.0.1:{port}"
        self.spawn("influxd", ["influxd", "-config", conf])
        self.wait_influxd()

    def wait_influxd(self, timeout=30.0):
        end = time.time() + timeout
        while time.time() < end:
            try:
                urllib.request.urlopen(self.info["metricsUrl"] + "/ping", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise TopologyError("influxd did not start (see influxd.log)")

    # ---- the services ---------------------------------------------------------------------

    def service_env(self, name, svc):
        env = dict(os.environ)
        env_files = svc.get("env_file", [])
        for ef in [env_files] if isinstance(env_files, str) else env_files:
            path = ef["path"] if isinstance(ef, dict) else ef
            path = path.replace("deploy/broker", self.info["brokerAuthDir"])
            env.update(read_env_file(path))
        env.update({k: str(v) for k, v in (svc.get("environment") or {}).items()})
        data = os.path.join(self.dir, "data")
        env.update({
            "SWITCHBOARD_CONFIG": os.path.join(SB_ROOT, "deploy", "switchboard.yaml"),
            "SWITCHBOARD_DATA_DIR": data,
            "SWITCHBOARD_BUS_URL": self.info["busUrl"],
            "SWITCHBOARD_METRICS_URL": self.info["metricsUrl"],
            "SWITCHBOARD_METRICS_BUFFER_DIR": os.path.join(data, f"metrics-spool-{name}"),
        })
        if self.mongodb_uri:
            env["SWITCHBOARD_STORAGE_MONGODB_URI"] = self.mongodb_uri
        else:
            env["SWITCHBOARD_STORAGE_TYPE"] = "sqlite"
        if name == "api":
            env["SWITCHBOARD_API_ADDRESS"] = "127.0.0.1"
            env["SWITCHBOARD_API_PORT"] = str(self.info["apiPort"])
        env.update(self.extra_env)
        return env

    def start_services(self):
        self.info["apiPort"] = free_port()
        data = os.path.join(self.dir, "data")
        os.makedirs(data, exist_ok=True)
        for name, svc in self.compose["services"].items():
            if name in INFRA:
                continue
            cmd = svc["command"]
            binary = os.path.join(self.build, "services", name, cmd[0])
            if not os.path.exists(binary):
                print(f"compose-up-local: {name}: {cmd[0]} is not in this build; skipped",
                      flush=True)
                continue
            self.info["services"][name] = {"log": f"{self.dir}/{name}.log"}
            self.spawn(name, [binary] + cmd[1:], env=self.service_env(name, svc), cwd=data)
        self.info["apiUrl"] = f"http://127.0.0.1:{self.info['apiPort']}"
        self.info["adminPasswordFile"] = os.path.join(data, "initial-admin-password")
        self.info["dataDir"] = data
        self.info["sqlitePath"] = os.path.join(data, "switchboard.db")

    def services(self):
        return list(self.info["services"])

    # ---- the whole --------------------------------------------------------------------------

    def start(self):
        """Starts everything and writes DIR/topology.json (self.info)."""
        if os.path.exists(self.dir) and not self.keep:
            shutil.rmtree(self.dir)
        os.makedirs(self.dir, exist_ok=True)
        self.start_broker()
        self.start_influxd()
        self.start_services()
        tmp = os.path.join(self.dir, "topology.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.info, f, indent=2)
        os.rename(tmp, os.path.join(self.dir, "topology.json"))
        return self.info

    def stop(self):
        for name, p in reversed(list(self.procs.items())):
            if p.poll() is None:
                p.terminate()
        for name, p in reversed(list(self.procs.items())):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def run(self):
        """Runs until SIGINT/SIGTERM or until a part exits, then stops everything."""
        stop = []
        signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
        signal.signal(signal.SIGINT, lambda *a: stop.append(1))
        try:
            try:
                self.start()
            except TopologyError as e:
                sys.exit(f"compose-up-local: {e}")
            print(f"compose-up-local: running; {self.dir}/topology.json", flush=True)
            while not stop:
                for name, p in self.procs.items():
                    if p.poll() is not None and not stop:
                        print(f"compose-up-local: {name} exited ({p.returncode})", flush=True)
                        stop.append(1)
                time.sleep(0.2)
        finally:
            self.stop()
