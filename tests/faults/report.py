"""report.py - the end-to-end tally of the fault-injection suite and its report files.

devsim numbers its values 1, 2, 3 ... over all fields, so the values it sent are exactly
1..total, each belonging to one field: a value missing from InfluxDB or from the events is a
loss, a value seen twice is a duplicate, and each missing value can be placed in the fault
during which it was sent (by the highest value seen when that fault began).
"""
import json
import os


def fault_of(value, faults):
    """The fault during which value was sent: the last one whose start mark is below it."""
    name = "before the first fault"
    for f in faults:
        if f["mark"] < value:
            name = f["name"]
    return name


def place(missing, faults):
    out = {}
    for v in missing:
        k = fault_of(v, faults)
        out[k] = out.get(k, 0) + 1
    return out


def tally(sent, last, points, events, faults):
    total = sum(s["count"] for s in sent.values())
    expected = set(range(1, total + 1))
    fields = {}
    seen_influx, seen_events = set(), set()
    dup_points = ev_dups = ev_dups_other_ts = 0
    for fid, s in sorted(sent.items()):
        pts = points.get(fid, [])
        vals = [v for _, v in pts]
        ev = events.get(fid, [])
        ev_vals = {}
        for v, ts in ev:
            ev_vals.setdefault(v, set()).add(ts)
        n_ev_dups = len(ev) - len(ev_vals)
        n_ev_other = sum(len(ts) - 1 for ts in ev_vals.values())
        seen_influx.update(vals)
        seen_events.update(ev_vals)
        dup_points += len(vals) - len(set(vals))
        ev_dups += n_ev_dups
        ev_dups_other_ts += n_ev_other
        fields[fid] = {"sent": s["count"], "lastSent": s["last"], "storeLast": last.get(fid),
                       "influxPoints": len(vals), "influxValues": len(set(vals)),
                       "events": len(ev), "eventValues": len(ev_vals)}
    miss_influx = sorted(expected - seen_influx)
    miss_events = sorted(expected - seen_events)
    return {
        "sent": total,
        "fields": len(sent),
        "storeLastOk": sum(1 for f in fields.values() if f["storeLast"] == f["lastSent"]),
        "storeLastWrong": {k: [f["storeLast"], f["lastSent"]] for k, f in fields.items()
                           if f["storeLast"] != f["lastSent"]},
        "influxPoints": sum(f["influxPoints"] for f in fields.values()),
        "influxMissing": len(miss_influx),
        "influxMissingByFault": place(miss_influx, faults),
        "influxMissingFirst": miss_influx[:20],
        "influxDuplicatePoints": dup_points,
        "influxUnexpected": len(seen_influx - expected),
        "events": sum(f["events"] for f in fields.values()),
        "eventsMissing": len(miss_events),
        "eventsMissingByFault": place(miss_events, faults),
        "eventsMissingFirst": miss_events[:20],
        "eventDuplicates": ev_dups,
        "eventDuplicatesOtherTimestamp": ev_dups_other_ts,
        "perField": fields,
    }


# Losses the suite knows of and reports without failing, by the fault they happen in. None
# since the processor publishes a group's events, and waits for the broker's PUBACKs, before
# its commit (docs/processor.md "Events").
KNOWN = {"influx": (), "events": ()}  # nothing may be lost anywhere


def unexplained(by_fault, known):
    return {k: n for k, n in by_fault.items() if not any(w in k for w in known)}


def judge(check, c):
    check(f"the store holds devsim's last value of every field ({c['storeLastOk']}/"
          f"{c['fields']})", c["storeLastOk"] == c["fields"] and c["fields"] > 0,
          json.dumps(c["storeLastWrong"])[:400])
    bad = unexplained(c["influxMissingByFault"], KNOWN["influx"])
    check(f"InfluxDB holds every value devsim sent ({c['sent']} values, "
          f"{c['influxMissing']} missing, known losses {KNOWN['influx']})", not bad,
          f"by fault {c['influxMissingByFault']}, first {c['influxMissingFirst']}")
    check("InfluxDB holds no value twice (a resent value keeps its timestamp)",
          c["influxDuplicatePoints"] == 0 and c["influxUnexpected"] == 0,
          f"{c['influxDuplicatePoints']} duplicate points, {c['influxUnexpected']} unexpected")
    bad = unexplained(c["eventsMissingByFault"], KNOWN["events"])
    check(f"a field event was seen for every value ({c['eventsMissing']} missing, known losses "
          f"{KNOWN['events']})", not bad,
          f"by fault {c['eventsMissingByFault']}, first {c['eventsMissingFirst']}")
    check("events seen twice carry the same value and timestamp (harmless)",
          c["eventDuplicatesOtherTimestamp"] == 0,
          f"{c['eventDuplicatesOtherTimestamp']} with another timestamp")


def text(rep):
    c = rep.get("counts", {})
    lines = [f"fault-injection suite, {rep.get('startedAt')}: {rep.get('failures')} failure(s) "
             f"in {rep.get('durationS')} s",
             f"load: devsim {rep['config']['rate']:g} values/s over {rep['config']['nodes']} "
             f"nodes (MySensors over MQTT, qos 1)", "", "faults (down = time the part was away, "
             "recover = until back online and values flowing):"]
    for f in rep.get("faults", []):
        lines.append(f"  {f['name']:<52} at {f['atS']:6.1f}s  fault {f['faultS']:5.1f}s  "
                     f"recover {f['recoverS']:5.1f}s")
    if c:
        lines += ["", f"sent by devsim:       {c['sent']} values, {c['fields']} fields",
                  f"store last values:    {c['storeLastOk']}/{c['fields']} right",
                  f"InfluxDB points:      {c['influxPoints']} ({c['influxMissing']} values "
                  f"missing {c['influxMissingByFault']}, {c['influxDuplicatePoints']} "
                  "duplicates)",
                  f"field events seen:    {c['events']} ({c['eventsMissing']} values missing "
                  f"{c['eventsMissingByFault']}, {c['eventDuplicates']} duplicates, "
                  f"{c['eventDuplicatesOtherTimestamp']} with another timestamp)"]
    ws = rep.get("websocket")
    if ws:
        lines.append(f"websocket client:     {ws['connects']} connections, {ws['events']} "
                     "events")
    sec = rep.get("security")
    if sec:
        lines += ["", "security:",
                  f"  no/forged token:    {sec['routesWithoutToken']['requests']} requests, "
                  f"{len(sec['routesWithoutToken']['not401'])} not 401",
                  f"  readonly writing:   {sec['readonlyWrites']['requests']} requests, "
                  f"{len(sec['readonlyWrites']['not403'])} not 403",
                  f"  websocket no auth:  {'; '.join(sec['websocket'].values())}",
                  f"  10 MB body:         {sec['oversizedBody']['status']}",
                  f"  malformed frames:   device {sec['malformedFrames']['deviceFrames']} -> "
                  f"gateway counted {sec['malformedFrames']['gatewayCounted']}; bus "
                  f"{sec['malformedFrames']['busFrames']} -> processor counted "
                  f"{sec['malformedFrames']['processorCounted']}"]
    failed = [c for c in rep.get("checks", []) if not c["ok"]]
    lines += ["", f"checks: {len(rep.get('checks', [])) - len(failed)} passed, "
              f"{len(failed)} failed"]
    lines += [f"  FAIL {c['name']}: {c['detail']}" for c in failed]
    return "\n".join(lines) + "\n"


def write(prefix, rep):
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    with open(prefix + ".json", "w") as f:
        json.dump(rep, f, indent=2)
    with open(prefix + ".txt", "w") as f:
        f.write(text(rep))
    print(text(rep), flush=True)
