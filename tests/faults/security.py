"""security.py - the security checks of the fault-injection suite, against the running split
deployment: every API route without a token, a readonly user writing, the websocket without
authentication, an oversized body, and a flood of malformed device frames.

Each function takes the suite's context (ctx: api, topology, check()) and returns its figures
for the report.
"""
import json
import socket
import time
import urllib.parse

from faultlib import Api, Ws, WsClosed, publish_lines, read_retained, wait

# An id that exists for no kind: GET/POST on it must still answer 401 first.
ANY_ID = "faults-no-such-id"


def operations(api):
    """(method, path, least role) of every operation of /api/openapi.json, {kind} expanded."""
    status, doc = api.request("GET", "/api/openapi.json", token="")
    if status != 200:
        raise ValueError(f"GET /api/openapi.json answered {status}")
    kinds = doc["components"]["parameters"]["Kind"]["schema"]["enum"]
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            public = op.get("security") == []
            role = "none" if public else op.get("x-switchboard-role", "readonly")
            for kind in kinds if "{kind}" in path else [None]:
                p = path.replace("{kind}", kind or "").replace("{id}", ANY_ID)
                ops.append((method.upper(), p, role))
    return ops


def body_for(method, path):
    if method == "GET":
        return None
    if path.endswith(("/enable", "/disable")) or method == "DELETE":
        return [ANY_ID]
    if path == "/api/action":
        return [{"resource": "field:" + ANY_ID, "payload": "1"}]
    return {"id": ANY_ID}


def routes_need_token(ctx):
    """Every operation that is not public answers 401 without a token and with a forged one."""
    ops = operations(ctx.api)
    bad = []
    n = 0
    forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."  # alg none, no signature
    for method, path, role in ops:
        if role == "none":
            continue
        for token in ("", forged):
            n += 1
            status, _ = ctx.api.request(method, path, body_for(method, path), token=token)
            if status != 401:
                bad.append(f"{method} {path} ({'forged' if token else 'no'} token): {status}")
    ctx.check(f"every API route without a valid token answers 401 ({n} requests)", not bad,
              "; ".join(bad[:10]))
    return {"operations": len(ops), "requests": n, "not401": bad}


def readonly_cannot_write(ctx):
    """A readonly user gets 403 on every operation that needs readwrite or admin."""
    user, pw = "faults-ro", "readonly-password"
    status, _ = ctx.api.request("POST", "/api/user", {"username": user, "password": pw,
                                                     "role": "readonly"})
    ro = Api(ctx.api.url)
    ro.login(user, pw)
    bad, n = [], 0
    for method, path, role in operations(ctx.api):
        if role not in ("readwrite", "admin"):
            continue
        n += 1
        status, _ = ro.request(method, path, body_for(method, path))
        if status != 403:
            bad.append(f"{method} {path}: {status}")
    # users are the admin's: a readonly user may not promote itself either
    n += 1
    status, _ = ro.request("POST", "/api/user", {"username": user, "role": "admin"})
    if status != 403:
        bad.append(f"POST /api/user (promote itself): {status}")
    ctx.check(f"a readonly user writing gets 403 ({n} requests)", not bad, "; ".join(bad[:10]))
    return {"requests": n, "not403": bad}


def ws_refused(host, port, headers, first=None):
    """How the websocket answers: 'closed CODE reason', 'http STATUS' or 'open: ...'."""
    try:
        ws = Ws(host, port, headers=headers)
    except WsClosed as e:
        return f"http {e.code}"
    try:
        if first:
            ws.send(first)
        while True:
            msg = ws.recv(timeout=15)
            if '"entityType"' in msg or '"subscribed"' in msg:
                return f"open: {msg[:80]}"
    except WsClosed as e:
        return f"closed {e.code} {e.reason}"
    except (socket.timeout, OSError) as e:
        return f"open: no answer ({e})"
    finally:
        ws.close()


def websocket_needs_auth(ctx):
    u = urllib.parse.urlparse(ctx.api.url)
    sub = json.dumps({"type": "subscribe", "kinds": ["field"]})
    cases = {
        "no token, subscribe first": ({}, sub),
        "forged bearer token": ({"Authorization": "Bearer not.a.token"}, sub),
        "auth message with a forged token": ({}, json.dumps({"type": "auth", "token": "x.y.z"})),
    }
    out = {}
    for name, (headers, first) in cases.items():
        res = ws_refused(u.hostname, u.port, headers, first)
        out[name] = res
        ctx.check(f"the websocket refuses a client: {name}",
                  res.startswith("closed 1008") or res.startswith("http 401"), res)
    return out


def oversized_body(ctx, size=10 * 1024 * 1024):
    """A 10 MB body gets 413 (read from the socket: the server answers before reading it)."""
    u = urllib.parse.urlparse(ctx.api.url)
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    head = (f"POST /api/gateway HTTP/1.1\r\nHost: {u.hostname}\r\n"
            f"Authorization: Bearer {ctx.api.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    answer = b""
    try:
        s.sendall(head)
        chunk = b"[" + b" " * 65535
        sent = 0
        s.settimeout(0.05)
        while sent < size and b"\r\n\r\n" not in answer:
            try:
                s.sendall(chunk[:min(len(chunk), size - sent)])
                sent += len(chunk)
            except socket.timeout:
                pass
            try:
                answer += s.recv(4096)
            except socket.timeout:
                pass
        s.settimeout(5)
        while b"\r\n\r\n" not in answer:
            data = s.recv(4096)
            if not data:
                break
            answer += data
    except (BrokenPipeError, ConnectionResetError):
        try:
            answer += s.recv(4096)
        except OSError:
            pass
    finally:
        s.close()
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "none"
    ctx.check("a 10 MB body gets 413", status == "413", answer[:200].decode(errors="replace"))
    return {"status": status}


def gateway_malformed(ctx):
    doc = read_retained(ctx.topo.info["busUrl"], ctx.api_creds, ctx.status_topic("gateway"))
    prov = (doc or {}).get("stats", {}).get("gateways", {}).get(ctx.gateway, {}).get("provider")
    return (prov or {}).get("malformed")


def processor_bad(ctx):
    doc = read_retained(ctx.topo.info["busUrl"], ctx.api_creds, ctx.status_topic("processor"))
    return (doc or {}).get("stats", {}).get("processor", {}).get("badFrames")


def malformed_frames(ctx, n=1000):
    """n malformed device frames on the device broker (bad topics, over-long payloads, an
    unknown command) are all dropped and counted by the gateway; n/10 malformed frames on the
    bus (a misbehaving gateway, with the gateway's bus user) are counted by the processor; every
    service stays online and values keep flowing."""
    before_gw, before_proc = gateway_malformed(ctx), processor_bad(ctx)
    per = [n - 2 * (n // 3), n // 3, n // 3]
    dev = ctx.dev_url
    publish_lines(dev, {}, f"{ctx.dev_prefix}-out/not/a/mysensors/topic",
                  ["not a mysensors line"] * per[0])
    publish_lines(dev, {}, f"{ctx.dev_prefix}-out/1/1/1/0/0", ["x" * 399] * per[1])
    publish_lines(dev, {}, f"{ctx.dev_prefix}-out/1/1/9/0/0", ["1"] * per[2])
    gw_creds = ctx.topo.bus_env("gateway")
    n_bus = n // 10
    publish_lines(ctx.topo.info["busUrl"], gw_creds, f"{ctx.prefix}/msg/in/{ctx.gateway}",
                  ["{not json"] * n_bus)
    got_gw = wait(lambda: (gateway_malformed(ctx) or 0) - (before_gw or 0) >= n and
                  gateway_malformed(ctx), 20, 0.5)
    got_proc = wait(lambda: (processor_bad(ctx) or 0) - (before_proc or 0) >= n_bus and
                    processor_bad(ctx), 20, 0.5)
    gw_delta = (got_gw or gateway_malformed(ctx) or 0) - (before_gw or 0)
    proc_delta = (got_proc or processor_bad(ctx) or 0) - (before_proc or 0)
    ctx.check(f"{n} malformed device frames are dropped and counted by the gateway",
              gw_delta == n, f"gateway counted {gw_delta} (before {before_gw})")
    ctx.check(f"{n_bus} malformed bus frames are dropped and counted by the processor",
              proc_delta == n_bus, f"processor counted {proc_delta} (before {before_proc})")
    mark = ctx.events.max_value
    flowing = wait(lambda: ctx.events.max_value > mark + 5, 20, 0.3)
    ctx.check("after the malformed frames values still flow", bool(flowing))
    time.sleep(0.5)
    return {"deviceFrames": n, "gatewayCounted": gw_delta, "busFrames": n_bus,
            "processorCounted": proc_delta}


def run_all(ctx):
    return {
        "routesWithoutToken": routes_need_token(ctx),
        "readonlyWrites": readonly_cannot_write(ctx),
        "websocket": websocket_needs_auth(ctx),
        "oversizedBody": oversized_body(ctx),
        "malformedFrames": malformed_frames(ctx),
    }
