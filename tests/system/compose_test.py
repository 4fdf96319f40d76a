#!/usr/bin/python3
"""compose_test.py - the deployment files checked against what the code really has.

No Docker engine runs on the build machines, so this proves statically what `docker compose up`
relies on: docker-compose.yml runs every service Switchboard has with its own binary, bus user
(present in the generated ACL and password file) and health check; the config it mounts is
valid and its host names and ports match the compose services and the broker config; every
SWITCHBOARD_* variable names a real config key; the Dockerfile's runtime packages hold every
library the binaries link; a systemd unit exists per service. tools/compose-up-local (and
compose_local_test.py) then runs the same topology for real.

usage: compose_test.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import subprocess
import sys
import urllib.parse

import yaml

SRC, BUILD = sys.argv[1], sys.argv[2]
SB = os.path.join(BUILD, "services", "switchboard", "switchboard")
KNOWN = ["gateway", "processor", "forward", "task", "scheduler", "handler", "api"]
INFRA = {"mosquitto", "mongodb", "influxdb", "init"}
# Libraries every Debian image has (Essential packages and what apt itself needs).
BASE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} - {name}{(': ' + str(detail)) if detail and not ok else ''}")
    failures += 0 if ok else 1


def sb(*args, env=None):
    return subprocess.run([SB, *args], capture_output=True, text=True, env=env)


def config_keys():
    """Every key of the config as SWITCHBOARD_<SECTION>_<KEY> names."""
    default = yaml.safe_load(sb("config", "default").stdout)
    names = set()

    def walk(prefix, node):
        for k, v in node.items():
            path = f"{prefix}_{k}" if prefix else k
            names.add("SWITCHBOARD_" + path.upper())
            if isinstance(v, dict) and v:
                walk(path, v)

    walk("", default)
    return names


def built_services():
    line = [l for l in sb("version").stdout.splitlines() if l.startswith("services:")][0]
    return line.split()[1:]


def needed_packages(binary):
    """Debian packages of the libraries the binary links directly (DT_NEEDED)."""
    needed = re.findall(r"NEEDED\s+(\S+)", subprocess.run(
        ["objdump", "-p", binary], capture_output=True, text=True).stdout)
    ldd = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
        ["ldd", binary], capture_output=True, text=True).stdout, re.M))
    pkgs = set()
    for lib in needed:
        path = ldd.get(lib)
        if not path:
            continue
        for p in (path, os.path.realpath(path)):
            out = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True).stdout
            if out:
                pkgs.add(out.split(":")[0])
                break
    return pkgs


def main():
    compose = yaml.safe_load(open(os.path.join(SRC, "docker-compose.yml")))
    svcs = compose["services"]
    built = built_services()
    acl = sb("bus", "acl").stdout
    env_names = config_keys()

    for name in KNOWN:
        check(f"compose runs the {name} service", name in svcs)
    for name in built:
        check(f"built service {name} is in the compose file", name in svcs)
    for name in [n for n in svcs if n not in INFRA]:
        s = svcs[name]
        check(f"{name}: unknown service name", name in KNOWN, name)
        check(f"{name}: command is its own binary", s.get("command") == [f"switchboard-{name}"],
              s.get("command"))
        if name in built:
            check(f"{name}: the binary exists in the build",
                  os.path.exists(os.path.join(BUILD, "services", name, f"switchboard-{name}")))
        check(f"{name}: bus credentials from deploy/broker/{name}.env",
              s.get("env_file") == f"deploy/broker/{name}.env", s.get("env_file"))
        check(f"{name}: is a user in the generated ACL", f"\nuser {name}\n" in acl)
        env = s.get("environment", {})
        check(f"{name}: SWITCHBOARD_SERVICE names it (the health check)",
              env.get("SWITCHBOARD_SERVICE") == name)
        check(f"{name}: a fixed instance id (persistent bus session across restarts)",
              bool(env.get("SWITCHBOARD_INSTANCE")))
        mounts = s.get("volumes", [])
        check(f"{name}: mounts the config", any(
            m.startswith("./deploy/switchboard.yaml:/etc/switchboard/switchboard.yaml")
            for m in mounts), mounts)
        for k in env:
            check(f"{name}: {k} is a config key", k in env_names or k in (
                "SWITCHBOARD_SERVICE", "SWITCHBOARD_CONFIG"), k)

    # the mounted config: valid, and its hosts and ports are the compose services'
    cfg_path = os.path.join(SRC, "deploy", "switchboard.yaml")
    r = sb("config", "check", cfg_path)
    check("deploy/switchboard.yaml is a valid config", r.returncode == 0, r.stdout + r.stderr)
    cfg = yaml.safe_load(open(cfg_path))
    bus = urllib.parse.urlparse(cfg["bus"]["url"])
    check("bus.url names the mosquitto service", bus.hostname in svcs, bus.hostname)
    conf = open(os.path.join(SRC, "deploy", "mosquitto.conf")).read()
    check("the broker listens on bus.url's port", re.search(rf"^listener {bus.port}\b", conf, re.M))
    check("the broker refuses anonymous clients", "allow_anonymous false" in conf)
    for key in ("password_file", "acl_file"):
        path = re.search(rf"^{key} (\S+)", conf, re.M).group(1)
        check(f"the broker's {key} is in the mounted auth dir",
              any(m.startswith("./deploy/broker:" + os.path.dirname(path))
                  for m in svcs["mosquitto"]["volumes"]), path)
    check("the init service writes the auth dir the broker mounts",
          "./deploy/broker:/auth" in svcs["init"]["volumes"] and
          svcs["init"]["command"][-2:] == ["--dir", "/auth"])
    mongo = urllib.parse.urlparse(cfg["storage"]["mongodb"]["uri"])
    check("storage.mongodb.uri names the mongodb service", mongo.hostname in svcs)
    influx = urllib.parse.urlparse(cfg["metrics"]["url"])
    check("metrics.url names the influxdb service on InfluxDB's port",
          influx.hostname in svcs and influx.port == 8086)
    ports = svcs["api"].get("ports", [])
    check("the api's published port is api.port",
          any(p.split(":")[-1] == str(cfg["api"]["port"]) for p in ports), ports)
    check("the api listens on all interfaces in the container", cfg["api"]["address"] == "0.0.0.0")

    # the all-in-one example
    for line in open(os.path.join(SRC, "deploy", "allinone.env")):
        k = line.split("=", 1)[0].strip()
        if k and not k.startswith("#"):
            check(f"allinone.env: {k} is a config key", k in env_names, k)

    # the image: runtime packages cover the binaries' libraries; a health check that asks the bus
    docker = open(os.path.join(SRC, "Dockerfile")).read()
    runtime = docker.split("\nFROM ")[-1]
    listed = set(re.findall(r"\b(lib[\w.+-]+)", runtime))
    bins = [SB] + [os.path.join(BUILD, "services", n, f"switchboard-{n}") for n in built]
    for b in bins:
        missing = needed_packages(b) - listed - BASE
        check(f"image has every library {os.path.basename(b)} links", not missing, missing)
    for k in re.findall(r"\b(SWITCHBOARD_[A-Z_]+)=", runtime):
        check(f"image ENV {k} is a config key", k in env_names or k == "SWITCHBOARD_CONFIG", k)
    web_root = re.search(r"SWITCHBOARD_API_WEB_ROOT=(\S+)", runtime)
    check("image serves the dashboard it builds",
          web_root and re.search(rf"COPY --from=web /web/dist {re.escape(web_root.group(1))}\n",
                                 runtime))
    check("image runs as a non-root user", re.search(r"^USER (?!root)\w+", runtime, re.M))
    check("image health check uses switchboard status",
          re.search(r"HEALTHCHECK[^\n]*\\?\n?\s*CMD switchboard status", runtime))

    # systemd
    unit_dir = os.path.join(SRC, "deploy", "systemd")
    target = open(os.path.join(unit_dir, "switchboard.target")).read()
    for name in KNOWN:
        path = os.path.join(unit_dir, f"switchboard-{name}.service")
        unit = open(path).read() if os.path.exists(path) else ""
        check(f"systemd unit for {name}", f"ExecStart=/usr/local/bin/switchboard-{name}" in unit)
        check(f"systemd unit for {name} reads its bus credentials",
              f"EnvironmentFile=-/etc/switchboard/broker/{name}.env" in unit)
        check(f"switchboard.target wants {name}", f"switchboard-{name}.service" in target)
    r = sb("config", "check", os.path.join(unit_dir, "switchboard.yaml"))
    check("deploy/systemd/switchboard.yaml is a valid config", r.returncode == 0, r.stderr)


main()
print(f"{failures} failure(s)")
sys.exit(1 if failures else 0)
