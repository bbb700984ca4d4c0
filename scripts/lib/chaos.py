"""The randomized fault schedule of scripts/chaos, and its checks and report.

    chaos.py schedule SEED DURATION MODE
        The faults of a run, drawn from SEED (the same seed, duration and mode give the same
        schedule), as JSON on stdout: {"seed", "mode", "duration", "faults": [{"index", "start",
        "end", "kind", "target"}]}, start and end in seconds from the start of the load.
    chaos.py sample FILE CUSTOMER_ADMIN_URL ORDER_ADMIN_URL
        Every second until SIGTERM, one JSON line per reading to FILE: each service's
        /replication/status figures and its public answers by status (/metrics). Needs
        OPERATIONS_TOKEN in the environment.
    chaos.py check PG_PORT SEGMENT_REPORT...
        Every record the load tests created, checked by id and version in both databases (the
        source's table and the peer's replica, read directly), and the tables compared whole;
        JSON on stdout.
    chaos.py report PREFIX PLAN EVENTS SAMPLES CHECK VERIFY_EXIT VERIFY_OUTPUT SEGMENT_REPORT...
        The report: PREFIX.txt and PREFIX.json, the text also on stdout. Exits 1 when anything
        was lost, duplicated, stale, revived or dead-lettered, a row was parked, verify failed,
        a load test crashed or a service was not running at the end.

Standard library only: it runs with the system's python3.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

# Every kind of fault, with its targets. A link is a service's path to its database or to the
# broker (every node of it), through a fault proxy.
LINKS = ["customer-service:database", "customer-service:broker", "order-service:database", "order-service:broker"]
NODES = ["1", "2", "3"]
KINDS = {
    "kill-service": ["customer-service", "order-service"],
    "node-kill": NODES,
    "node-stop": NODES,
    "broker-app-stop": NODES,
    "memory-alarm": NODES,
    "postgres-stop": ["postgres"],
    "replica-lock": ["order_service", "customer_service"],
    "link-latency": LINKS,
    "link-loss": LINKS,
    "link-partition": LINKS,
    "link-cut": LINKS,
}
# A node that is down: never all three at once.
NODE_DOWN = {"node-kill", "node-stop", "broker-app-stop"}
# Seconds a fault's target takes to recover after its stop (a node boots in about 10 s): no
# other fault on the same target, nor one counted with it, starts before then.
RECOVERY = {"node-kill": 15, "node-stop": 15, "broker-app-stop": 8, "postgres-stop": 5, "kill-service": 5}
MODES = {
    # fault length, the gap between two starts, a quiet period, the quiet edges of the run
    "quick": {"length": (2, 20), "gap": (1, 6), "quiet": (5, 15), "warmup": 5, "cooldown": 10, "most": 3},
    "full": {"length": (2, 60), "gap": (3, 30), "quiet": (10, 60), "warmup": 15, "cooldown": 30, "most": 3},
}
# The chance that the next fault waits until every fault so far has ended (and a quiet period).
QUIET_CHANCE = 0.15


def is_database_outage(kind, target):
    """A fault that leaves a service without its database: at most one at a time."""
    return kind == "postgres-stop" or (kind in ("link-partition", "link-cut") and target.endswith(":database"))


def resources(kind, target):
    """What a fault holds: no two faults that hold the same thing overlap."""
    if kind in NODE_DOWN or kind == "memory-alarm":
        return {"node:" + target}
    if kind.startswith("link-"):
        return {"link:" + target}
    if kind == "replica-lock":
        return {"lock:" + target, "postgres-up"}
    if kind == "postgres-stop":
        return {"postgres-up"}
    return {kind + ":" + target}


def fits(fault, placed, most):
    """Whether `fault` can run beside the faults already `placed`: the rules that keep a run
    meaningful (never all three nodes down, at most one database outage, at most `most` faults
    at once, no two faults on one target)."""
    start, end = fault["start"], fault["end"] + RECOVERY.get(fault["kind"], 2)
    overlapping = [f for f in placed if f["start"] < end and start < f["end"] + RECOVERY.get(f["kind"], 2)]
    if len(overlapping) >= most:
        return False
    held = resources(fault["kind"], fault["target"])
    if any(held & resources(f["kind"], f["target"]) for f in overlapping):
        return False
    if fault["kind"] in NODE_DOWN and sum(f["kind"] in NODE_DOWN for f in overlapping) >= 2:
        return False
    if is_database_outage(fault["kind"], fault["target"]) and any(is_database_outage(f["kind"], f["target"]) for f in overlapping):
        return False
    return True


def schedule(seed, duration, mode):
    """The faults of a run: starts drawn at random gaps, kinds dealt from a shuffled deck (every
    kind once before any twice), targets and lengths drawn; a fault that breaks a rule is put
    back and the next kind tried. Sometimes the next fault waits for a quiet period."""
    settings = MODES[mode]
    rng = random.Random(f"{seed}:{duration}:{mode}")
    last_end = duration - settings["cooldown"]
    faults, deck = [], []
    t = float(settings["warmup"])
    while t < last_end - settings["length"][0]:
        if not deck:
            deck = sorted(KINDS)
            rng.shuffle(deck)
        placed = None
        for attempt in range(len(deck)):
            kind = deck[attempt]
            length = round(rng.uniform(*settings["length"]), 1)
            length = min(length, round(last_end - t, 1))
            targets = list(KINDS[kind])
            rng.shuffle(targets)
            for target in targets:
                fault = {"start": round(t, 1), "end": round(t + length, 1), "kind": kind, "target": target}
                if length >= settings["length"][0] and fits(fault, faults, settings["most"]):
                    placed = fault
                    break
            if placed:
                deck.pop(attempt)
                break
        if placed:
            faults.append(placed)
        if rng.random() < QUIET_CHANCE and faults:
            t = max(f["end"] + RECOVERY.get(f["kind"], 2) for f in faults) + rng.uniform(*settings["quiet"])
        else:
            t += rng.uniform(*settings["gap"])
    faults.sort(key=lambda f: f["start"])
    for index, fault in enumerate(faults):
        fault["index"] = index
    return {"seed": seed, "mode": mode, "duration": duration, "faults": faults}


# --- sampling ---------------------------------------------------------------------------------

def fetch(url, token=None, timeout=2):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode()


def public_answers(metrics):
    """The public listener's answers by status, from http_requests_total (the operations paths,
    health probes and replica reads left out: they are the sampler's, the scripts' and the load
    test's convergence check's own, and a replica read answers 404 until the record arrives)."""
    counts = {}
    for line in metrics.splitlines():
        if not line.startswith("http_requests_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        if any(f'route="{p}' in labels for p in ("/replication", "/metrics", "/health", "/trace", "/replica/")):
            continue
        status = labels.split('status="', 1)[1].split('"', 1)[0] if 'status="' in labels else "?"
        counts[status] = counts.get(status, 0) + int(float(value))
    return counts


def sample(path, urls):
    token = os.environ.get("OPERATIONS_TOKEN", "")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(path, "a") as out:
        while not stop:
            started = time.time()
            line = {"t": round(started, 3)}
            for name, url in urls.items():
                entry = {}
                try:
                    status = json.loads(fetch(url + "/replication/status", token))
                    entry.update(pending=status["outbox"]["pending"], parked=status["outbox"]["parked"],
                                 deadLettered=status["consumer"]["deadLettered"], processed=status["consumer"]["processed"],
                                 queueDepth=(status.get("queue") or {}).get("depth"),
                                 deadLetters=(status.get("queue") or {}).get("deadLetters"))
                except Exception:
                    entry["status"] = "unanswered"
                try:
                    entry["answers"] = public_answers(fetch(url + "/metrics"))
                except Exception:
                    pass
                line[name] = entry
            out.write(json.dumps(line) + "\n")
            out.flush()
            time.sleep(max(0.0, 1.0 - (time.time() - started)))


# --- the final check --------------------------------------------------------------------------

def psql_rows(port, database, sql):
    """Rows of `sql` in `database` of the cluster's PostgreSQL, as lists of strings."""
    env = dict(os.environ, PGPASSWORD="postgres")
    output = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                             "-d", database, "-c", sql], env=env, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in output.splitlines() if line]


def load_reports(paths):
    reports = []
    for path in paths:
        try:
            reports.append((path, json.load(open(path))))
        except (OSError, ValueError):
            reports.append((path, None))
    return reports


def check(port, paths):
    """Each record of every load test against both databases; the tables compared whole."""
    customers = {i: int(v) for i, v in psql_rows(port, "customer_service", "SELECT id, version FROM customers")}
    tombstones = {i: int(v) for i, v in psql_rows(port, "customer_service", "SELECT id, version FROM deleted_customers")}
    orders = {i: int(v) for i, v in psql_rows(port, "order_service", "SELECT id, version FROM orders")}
    replica_customers = {i: (int(v), d == "t") for i, v, d in psql_rows(
        port, "order_service", "SELECT id, version, deleted_at IS NOT NULL FROM replica_customers")}
    replica_orders = {i: (int(v), d == "t") for i, v, d in psql_rows(
        port, "customer_service", "SELECT id, version, deleted_at IS NOT NULL FROM replica_orders")}
    parked = sum(int(psql_rows(port, db, "SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL")[0][0])
                 for db in ("customer_service", "order_service"))
    pending = sum(int(psql_rows(port, db, "SELECT count(*) FROM outbox WHERE published_at IS NULL AND parked_at IS NULL")[0][0])
                  for db in ("customer_service", "order_service"))
    found = {key: [] for key in ("lost", "stale", "revived", "different", "sourceLost", "sourceBehind")}
    checked = {"customers": 0, "orders": 0, "deleted": 0, "changedAfterAnswer": 0}
    for path, report in load_reports(paths):
        if report is None:
            continue
        for record in report["records"]:
            rid, version, deleted = record["id"], record["version"], record["deleted"]
            customer = record["operation"] == "createCustomer"
            checked["customers" if customer else "orders"] += 1
            source = (customers if customer else orders).get(rid)
            replica = (replica_customers if customer else replica_orders).get(rid)
            if customer and rid in tombstones:
                checked["deleted"] += 1
                if not deleted:
                    checked["changedAfterAnswer"] += 1  # a delete that timed out but happened
                if replica is not None and not replica[1]:
                    found["revived"].append(rid)
                continue
            if source is None:
                # A record answered 2xx (and not deleted by the run) that its own database lacks.
                found["sourceLost"].append(rid)
                continue
            if deleted:
                found["sourceLost"].append(rid)  # answered deleted, yet live at the source
                continue
            if source < version:
                found["sourceBehind"].append(rid)
            elif source > version:
                checked["changedAfterAnswer"] += 1  # a change that timed out but happened
            if replica is None:
                found["lost"].append(rid)
            elif replica[1]:
                found["different"].append(rid)
            elif replica[0] < source:
                found["stale"].append(rid)
            elif replica[0] > source:
                found["different"].append(rid)
    # The tables whole: a replica row its source does not have is a duplicate (or a record revived).
    live_customers = set(customers)
    extra_customers = [i for i, (v, d) in replica_customers.items() if not d and i not in live_customers]
    missing_customers = [i for i in live_customers if i not in replica_customers or replica_customers[i][1]]
    extra_orders = [i for i in replica_orders if i not in orders]
    missing_orders = [i for i in orders if i not in replica_orders]
    behind = [i for i, v in customers.items() if i in replica_customers and replica_customers[i][0] != v] + \
             [i for i, v in orders.items() if i in replica_orders and replica_orders[i][0] != v]
    return {"checked": checked, **{k: v for k, v in found.items()},
            "tables": {"customers": len(customers), "deletedCustomers": len(tombstones), "orders": len(orders),
                       "replicaCustomersLive": sum(1 for v, d in replica_customers.values() if not d),
                       "replicaOrders": len(replica_orders),
                       "extra": extra_customers + extra_orders, "missing": missing_customers + missing_orders,
                       "versionDiffers": behind},
            "parked": parked, "outboxPending": pending}


# --- the report -------------------------------------------------------------------------------

def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_events(path):
    """Each fault's actual times, from the executor's lines "INDEX PHASE EPOCH [STATUS]"."""
    events = {}
    for line in open(path):
        parts = line.split()
        if len(parts) >= 3:
            entry = events.setdefault(int(parts[0]), {})
            entry[parts[1]] = float(parts[2])
            if len(parts) > 3:
                entry[parts[1] + "Status"] = int(parts[3])
    return events


def answers_between(samples, start, end):
    """Public answers other than 2xx between two moments, per status, both services: the growth
    of http_requests_total (a service restarted counts from 0 again)."""
    totals = {}
    for name in ("customer-service", "order-service"):
        previous = None
        for s in samples:
            answers = s.get(name, {}).get("answers")
            if answers is None:
                continue
            if previous is not None and start <= s["t"] <= end:
                for status, count in answers.items():
                    before = previous.get(status, 0)
                    grown = count - before if count >= before else count
                    if grown > 0 and not status.startswith("2"):
                        totals[status] = totals.get(status, 0) + grown
            previous = answers
    return totals


def backlog(samples, start, end):
    """The outboxes' largest backlog (both together) between start and end + 10 s, and the
    seconds after end until it was back to what it was before start (or to 20)."""
    def pending(s):
        values = [s.get(n, {}).get("pending") for n in ("customer-service", "order-service")]
        return sum(v for v in values if isinstance(v, int))
    before = [pending(s) for s in samples if start - 5 <= s["t"] < start]
    base = max(20, max(before, default=0))
    peak = max([pending(s) for s in samples if start <= s["t"] <= end + 10] or [0])
    drained = None
    for s in samples:
        if s["t"] >= end and pending(s) <= base and all(isinstance(s.get(n, {}).get("pending"), int)
                                                         for n in ("customer-service", "order-service")):
            drained = round(s["t"] - end, 1)
            break
    return peak, drained


def writes(reports):
    """Every 2xx write of the load tests: (answered at, replicated at or None, created) in epoch seconds."""
    out = []
    for _, report in reports:
        if report is None:
            continue
        t0 = at(report["startedAt"])
        for r in report["records"]:
            answered = t0 + r["sentAt"] + r["latencyMs"] / 1000
            shown = at(r["replicatedAt"]) if r.get("replicatedAt") and r["version"] == 1 and not r["deleted"] else None
            out.append((answered, shown, True))
        for c in report["changes"]:
            answered = t0 + c["sentAt"] + c["latencyMs"] / 1000
            shown = answered + c["lagMs"] / 1000 if c.get("lagMs") is not None else None
            out.append((answered, shown, False))
    return out


def fault_cost(fault, event, samples, all_writes, rate):
    start = event.get("begin", fault["plannedAt"])
    end = event.get("ended", event.get("end", start))
    during = [w for w in all_writes if start <= w[0] <= end]
    length = max(end - start, 0.1)
    held = [w for w in during if w[1] is not None]
    caught_up = max([w[1] - end for w in held] or [0.0])
    lag = max([w[1] - w[0] for w in held] or [0.0])
    peak, drained = backlog(samples, start, end)
    answers = answers_between(samples, start, end + 2)
    return {"writes2xxPerSecond": round(len(during) / length, 1), "loadRate": rate,
            # 422 unknown-customer: an order whose customer has not replicated yet, which the load
            # test sends again (each try counted here); the rest are the failures.
            "retried422": answers.pop("422", 0), "non2xx": answers,
            "maxLagSeconds": round(lag, 2), "caughtUpSecondsAfter": round(max(0.0, caught_up), 2),
            "outboxPeak": peak, "outboxDrainedSecondsAfter": drained}


def report(prefix, plan_path, events_path, samples_path, check_path, verify_exit, verify_path, paths):
    plan = json.load(open(plan_path))
    events = read_events(events_path) if os.path.exists(events_path) else {}
    samples = [json.loads(line) for line in open(samples_path) if line.strip()] if os.path.exists(samples_path) else []
    final = json.load(open(check_path))
    reports = load_reports(paths)
    all_writes = writes(reports)
    t0 = plan.get("startedAt", 0)
    rate = plan.get("rate")
    faults = []
    for fault in plan["faults"]:
        event = events.get(fault["index"], {})
        fault = dict(fault, plannedAt=t0 + fault["start"])
        row = {"index": fault["index"], "kind": fault["kind"], "target": fault["target"],
               "plannedStart": fault["start"], "plannedEnd": fault["end"],
               "start": round(event["begin"] - t0, 1) if "begin" in event else None,
               "end": round(event["ended"] - t0, 1) if "ended" in event else None,
               "startFailed": event.get("begunStatus", 0) != 0, "stopFailed": event.get("endedStatus", 0) != 0,
               "skipped": "skipped" in event}
        if "begin" in event:
            row.update(fault_cost(fault, event, samples, all_writes, rate))
        faults.append(row)
    segments, crashed = [], []
    requests = ok = 0
    errors = {}
    for path, r in reports:
        if r is None:
            crashed.append(path)
            continue
        seg_ok = sum(op["succeeded"] for op in r["operations"].values())
        requests += r["count"]
        ok += seg_ok
        for key, count in r["errors"].items():
            errors[key] = errors.get(key, 0) + count
        directions = [r["customersToOrderService"], r["ordersToCustomerService"]]
        segments.append({"report": path, "requests": r["count"], "ok": seg_ok, "converged": r["converged"],
                         "convergenceSeconds": round(r["convergenceSeconds"], 1),
                         "missing": sum(len(d["missing"]) for d in directions),
                         "stale": sum(len(d["stale"]) for d in directions),
                         "revived": sum(len(d["revived"]) for d in directions),
                         "mismatched": sum(len(d["mismatched"]) for d in directions),
                         "deadLettered": sum(d["deadLettered"] for d in directions),
                         "duplicateDeliveries": sum(d["duplicateDeliveries"] for d in directions)})
    verify_text = open(verify_path).read() if os.path.exists(verify_path) else ""
    first = next((s for s in samples if "customer-service" in s), {})
    last = samples[-1] if samples else {}

    def dead(s):
        values = [s.get(n, {}).get("deadLetters") for n in ("customer-service", "order-service")]
        return sum(v for v in values if isinstance(v, int))

    dead_growth = dead(last) - dead(first) if samples else None
    consumer_dead = sum(s["deadLettered"] for s in segments)
    lags = [w[1] - w[0] for w in all_writes if w[1] is not None]
    ran = [f for f in faults if f["start"] is not None]
    totals = {"requests": requests, "ok": ok, "non2xx": errors, "faults": len(ran),
              "skipped": sum(f["skipped"] for f in faults), "kinds": sorted({f["kind"] for f in ran}),
              "records": final["checked"]["customers"] + final["checked"]["orders"],
              "lost": len(final["lost"]) + len(final["sourceLost"]) + len(final["sourceBehind"]),
              "duplicated": len(final["tables"]["extra"]) + len(final["different"]),
              "stale": len(final["stale"]), "revived": len(final["revived"]),
              "deadLettered": max(consumer_dead, dead_growth or 0), "deadLetterQueueGrowth": dead_growth,
              "parked": final["parked"], "verifyExit": verify_exit,
              "maxLagSeconds": round(max(lags or [0.0]), 2),
              "lateAtSegmentEnd": sum(s["missing"] + s["stale"] + s["revived"] for s in segments),
              "mismatchedAtSegmentEnd": sum(s["mismatched"] for s in segments),
              "changedAfterFailedAnswer": final["checked"]["changedAfterAnswer"],
              "crashedLoadTests": crashed}
    problems = []
    for key in ("lost", "duplicated", "stale", "revived", "deadLettered", "parked"):
        if totals[key]:
            problems.append(f"{key} {totals[key]}")
    if final["tables"]["missing"] or final["tables"]["versionDiffers"]:
        problems.append(f"the tables differ: {len(final['tables']['missing'])} missing, "
                        f"{len(final['tables']['versionDiffers'])} at another version")
    if verify_exit != 0:
        problems.append(f"common-client verify exited {verify_exit}")
    if crashed:
        problems.append(f"{len(crashed)} load tests wrote no report")
    unexpected = {k: v for k, v in errors.items() if "HTTP 5" in k and "HTTP 503" not in k}
    result = {"loadAverage": open("/proc/loadavg").read().split()[:3], "seed": plan["seed"], "mode": plan["mode"],
              "duration": plan["duration"], "rate": rate,
              "startedAt": t0, "load": plan.get("load"), "faults": faults, "segments": segments,
              "check": final, "verify": verify_text, "totals": totals, "unexpectedAnswers": unexpected,
              "passed": not problems, "problems": problems}
    lines = [f"chaos run: seed {plan['seed']}, {plan['mode']} mode, {plan['duration']} s, load {plan.get('load', '?')}",
             "",
             f"{'#':>3} {'start':>7} {'end':>7}  {'fault':<16}{'target':<26}{'2xx w/s':>8}{'max lag s':>10}"
             f"{'caught up s':>12}{'outbox peak':>12}{'drained s':>10}{'422 retried':>12}  other non-2xx (server)"]
    for f in faults:
        non2xx = ", ".join(f"{k} {v}" for k, v in sorted(f.get("non2xx", {}).items())) or "-"
        mark = (" (skipped: the rules did not allow it before its end)" if f["skipped"] else " (start failed)" if f["startFailed"]
                else " (stop failed)" if f["stopFailed"] else "")
        lines.append(f"{f['index']:>3} {f['start'] if f['start'] is not None else '-':>7} {f['end'] if f['end'] is not None else '-':>7}"
                     f"  {f['kind']:<16}{f['target']:<26}{f.get('writes2xxPerSecond', '-'):>8}{f.get('maxLagSeconds', '-'):>10}"
                     f"{f.get('caughtUpSecondsAfter', '-'):>12}{f.get('outboxPeak', '-'):>12}"
                     f"{f.get('outboxDrainedSecondsAfter') if f.get('outboxDrainedSecondsAfter') is not None else '-':>10}"
                     f"{f.get('retried422', '-'):>12}  {non2xx}{mark}")
    lines += ["", "load tests (segments):"]
    for s in segments:
        lines.append(f"  {os.path.basename(s['report'])}: {s['requests']} requests, {s['ok']} 2xx, converged {s['converged']} "
                     f"after {s['convergenceSeconds']} s; at its end missing {s['missing']}, stale {s['stale']}, "
                     f"revived {s['revived']}, mismatched {s['mismatched']}; dead-lettered {s['deadLettered']}, "
                     f"redeliveries {s['duplicateDeliveries']}")
    c = final["checked"]
    lines += ["",
              f"requests {requests}, 2xx {ok}; answers other than 2xx (client side): "
              + (", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "none"),
              f"faults {totals['faults']} of {len(totals['kinds'])} kinds: {', '.join(totals['kinds'])}"
              + (f"; {totals['skipped']} skipped (a node's stop or start ran long, and the rules held)" if totals["skipped"] else ""),
              f"every record checked by id and version in both databases: {c['customers']} customers "
              f"({c['deleted']} deleted), {c['orders']} orders; lost {totals['lost']}, duplicated {totals['duplicated']}, "
              f"stale {totals['stale']}, revived {totals['revived']}",
              f"changes answered with a failure that happened all the same (the source's version is newer than the load test "
              f"knew): {totals['changedAfterFailedAnswer']}; at the load tests' own ends, records still on their way "
              f"{totals['lateAtSegmentEnd']}, at a version the load test did not know {totals['mismatchedAtSegmentEnd']}",
              f"dead-lettered {totals['deadLettered']} (dead-letter queues grew by {dead_growth}), parked {final['parked']}; "
              f"common-client verify exit {verify_exit}; largest replication lag {totals['maxLagSeconds']} s",
              f"load average at the end: {' '.join(open('/proc/loadavg').read().split()[:3])}",
              "PASSED" if not problems else "FAILED: " + "; ".join(problems)]
    if unexpected:
        lines.insert(-1, "answers outside 2xx, 503 and the load test's transport failures: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(unexpected.items())))
    text = "\n".join(lines)
    print(text)
    open(prefix + ".txt", "w").write(text + "\n")
    json.dump(result, open(prefix + ".json", "w"), indent=2)
    return 0 if not problems else 1


def main(argv):
    command, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    if command == "schedule" and len(args) == 3:
        print(json.dumps(schedule(int(args[0]), int(args[1]), args[2]), indent=1))
        return 0
    if command == "sample" and len(args) == 3:
        sample(args[0], {"customer-service": args[1], "order-service": args[2]})
        return 0
    if command == "check" and len(args) >= 1:
        print(json.dumps(check(int(args[0]), args[1:])))
        return 0
    if command == "report" and len(args) >= 7:
        return report(args[0], args[1], args[2], args[3], args[4], int(args[5]), args[6], args[7:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
