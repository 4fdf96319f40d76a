"""faultlib.py - the clients the fault-injection suite uses to watch a running deployment.

Only the Python standard library and Debian's mosquitto-clients: an HTTP client for the REST
API, a minimal websocket client (RFC 6455) for /api/ws, an MQTT event recorder (mosquitto_sub
with a persistent session), retained status reads, and InfluxDB queries.
"""
import base64
import json
import os
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def wait(cond, timeout, step=0.2):
    """Polls cond() until it returns something true or timeout seconds pass (then None)."""
    end = time.time() + timeout
    while True:
        try:
            v = cond()
            if v:
                return v
        except (OSError, ValueError, KeyError, TypeError, urllib.error.URLError):
            pass
        if time.time() >= end:
            return None
        time.sleep(step)


class Api:
    """The REST API; call() raises urllib.error.HTTPError for an error status."""

    def __init__(self, url, token=None):
        self.url, self.token = url, token

    def request(self, method, path, body=None, token=None, raw=None, timeout=5):
        """(status, parsed body or None) without raising on an HTTP error status."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        tok = self.token if token is None else token
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text) if text else None
            except ValueError:
                return e.code, None

    def call(self, method, path, body=None):
        status, doc = self.request(method, path, body)
        if status >= 400:
            raise urllib.error.HTTPError(self.url + path, status, json.dumps(doc), None, None)
        return doc

    def login(self, username, password):
        doc = self.call("POST", "/api/user/login", {"username": username, "password": password})
        self.token = doc["token"]
        return self.token


# ---- websocket ------------------------------------------------------------------------------


class WsClosed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason}")
        self.code, self.reason = code, reason


class Ws:
    """One websocket connection: connect(), send(), recv(); text frames only."""

    def __init__(self, host, port, path="/api/ws", headers=None, timeout=5):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise WsClosed(None, "connection closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        if self.status != 101:
            self.sock.close()
            raise WsClosed(self.status, "handshake refused")

    def send(self, text, opcode=1):
        data = text.encode() if isinstance(text, str) else text
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x80 | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + body)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WsClosed(1006, "connection lost")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=5):
        """The next text message; answers pings; raises WsClosed on a close frame."""
        self.sock.settimeout(timeout)
        msg = b""
        while True:
            b0, b1 = self._need(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._need(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._need(8))[0]
            payload = self._need(n)
            op = b0 & 0x0F
            if op == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                raise WsClosed(code, payload[2:].decode(errors="replace"))
            if op == 9:
                self.send(payload, opcode=10)
                continue
            if op in (0, 1, 2):
                msg += payload
                if b0 & 0x80:
                    return msg.decode()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WsWatcher(threading.Thread):
    """A dashboard-like websocket client: subscribes to field events, reconnects when the
    connection drops (as the web dashboard does), counts connections and events."""

    def __init__(self, host, port, token):
        super().__init__(daemon=True)
        self.host, self.port, self.token = host, port, token
        self.connects = 0
        self.events = 0
        self.last_event = 0.0
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                ws = Ws(self.host, self.port, headers={"Authorization": "Bearer " + self.token})
                ws.send(json.dumps({"type": "subscribe", "kinds": ["field"]}))
                self.connects += 1
                while not self.stopping:
                    try:
                        doc = json.loads(ws.recv(timeout=1))
                    except socket.timeout:
                        continue
                    if doc.get("entityType") == "field":
                        self.events += 1
                        self.last_event = time.time()
            except (OSError, WsClosed, ValueError):
                time.sleep(0.3)


# ---- MQTT, through mosquitto_sub / mosquitto_pub -------------------------------------------


def mqtt_args(url, creds):
    host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
    args = ["-h", host, "-p", str(port)]
    if creds.get("SWITCHBOARD_BUS_USERNAME"):
        args += ["-u", creds["SWITCHBOARD_BUS_USERNAME"], "-P", creds["SWITCHBOARD_BUS_PASSWORD"]]
    return args


def read_retained(url, creds, topic, timeout=3):
    """The retained message on topic (parsed JSON), or None."""
    r = subprocess.run(["mosquitto_sub"] + mqtt_args(url, creds) +
                       ["-t", topic, "-C", "1", "-W", str(timeout), "--retained-only"],
                       capture_output=True, text=True, timeout=timeout + 5)
    try:
        return json.loads(r.stdout) if r.stdout.strip() else None
    except ValueError:
        return None


def publish_lines(url, creds, topic, lines, qos=1):
    """Publishes each line as one message (mosquitto_pub -l)."""
    subprocess.run(["mosquitto_pub"] + mqtt_args(url, creds) +
                   ["-t", topic, "-q", str(qos), "-l"], input="\n".join(lines) + "\n",
                   text=True, check=True, timeout=60)


class EventRecorder(threading.Thread):
    """Records every field event on the bus with a persistent MQTT session (QoS 1, clean
    session off, fixed client id), so events published while the recorder is cut off by a
    broker restart are delivered when it reconnects. Keeps, per field id, the list of
    (value, timestamp) seen; max_value is the highest devsim sequence number seen so far."""

    def __init__(self, url, creds, prefix, log_path):
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.values = {}
        self.max_value = 0
        self.messages = 0
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            ["mosquitto_sub"] + mqtt_args(url, creds) +
            ["-i", "sb-faults-events", "-c", "-q", "1", "-v", "-t", f"{prefix}/event/field/#",
             "-t", f"{prefix}/event/field"], stdout=subprocess.PIPE, stderr=self.log, text=True)

    def run(self):
        for line in self.proc.stdout:
            topic, _, payload = line.rstrip("\n").partition(" ")
            try:
                doc = json.loads(payload)
            except ValueError:
                continue
            with self.lock:
                self.messages += 1
                for ev in doc if isinstance(doc, list) else [doc]:
                    cur = (ev.get("entity") or {}).get("current") or {}
                    v = cur.get("value")
                    if ev.get("type") in ("created", "updated") and isinstance(v, (int, float)):
                        self.values.setdefault(ev["entityId"], []).append(
                            (v, cur.get("timestamp")))
                        self.max_value = max(self.max_value, v)

    def snapshot(self):
        with self.lock:
            return {k: list(v) for k, v in self.values.items()}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


# ---- InfluxDB -------------------------------------------------------------------------------


def influx_points(url, db, gateway):
    """{field id: [(ms, value), ...]} of every point of a gateway, read from InfluxDB itself."""
    q = (f"SELECT \"value\" FROM /.*/ WHERE \"gateway\" = '{gateway}' "
         "GROUP BY \"node\", \"source\", \"field\"")
    u = f"{url}/query?" + urllib.parse.urlencode({"db": db, "q": q, "epoch": "ms"})
    with urllib.request.urlopen(u, timeout=30) as r:
        doc = json.loads(r.read())
    out = {}
    for res in doc.get("results", []):
        if "error" in res:
            raise ValueError(res["error"])
        for s in res.get("series", []):
            t = s["tags"]
            fid = f"{gateway}.{t['node']}.{t['source']}.{t['field']}"
            out.setdefault(fid, []).extend((row[0], row[1]) for row in s["values"])
    return out
