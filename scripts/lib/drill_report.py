"""The analysis behind scripts/fault-drills: one result row per drill, the table at the end.

    drill_report.py row DRILL REPORT STARTED ENDED PARKED STALL [KEY=VALUE...]
        One drill's row, as a JSON line, from the load test's report (common-client load-test
        --json REPORT): requests, 2xx, lost, stale, revived, duplicated, dead-lettered, the
        recovery after the fault (STARTED and ENDED in epoch seconds), the drain rate. PARKED is
        the count of parked outbox rows, STALL the longest publish stall in seconds ("" when not
        measured). The KEY=VALUE pairs describe a node-loss drill (cluster=true, nodes, downAt,
        upAt, held, firstConfirmTimeout, leadersBefore, leadersAfter, amqpUrlLists).
    drill_report.py failover RESULTS PARKED KILLED PROMOTING WRITABLE
        Completes the last row of RESULTS (JSON lines) for the database failover drill: parked
        rows counted on the failover pair, how long no write succeeded, how long after the
        promotion the services wrote again and caught up. Prints those figures to stderr.
    drill_report.py first-confirm-timeout SINCE LOG...
        Seconds from SINCE (epoch) to the first publish that a service log records as failed for
        want of a publisher confirm; prints nothing when there was none.
    drill_report.py summary RESULTS PREFIX DEADLINE
        The table of every row in RESULTS, printed and written to PREFIX.txt (the rows as JSON to
        PREFIX.json), then the verdict. Exits 1 when a drill lost, duplicated or dead-lettered
        anything, parked what it should not, or a node-loss drill did not show what it is for.
        DEADLINE is the services' publisher confirm deadline in seconds.

Standard library only: it runs with the system's python3.
"""

import json
import sys
from datetime import datetime


def at(text):
    """Epoch seconds of an ISO 8601 time as the load test writes it (with a Z)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def drill_row(drill, path, started, ended, parked, stall, extra):
    """The result row of one drill from its load test report at `path`.

    `started` and `ended` bound the fault (epoch seconds); `stall` is the longest publish stall
    or None; `extra` holds the node-loss drills' figures as strings (see the module's usage).
    """
    report = json.load(open(path))
    ok = sum(op["succeeded"] for op in report["operations"].values())
    directions = [report["customersToOrderService"], report["ordersToCustomerService"]]
    lost = sum(len(d["missing"]) for d in directions)
    # The load changes records too: a replica left at an older version, or holding a deleted record.
    stale = sum(len(d.get("stale", [])) for d in directions)
    revived = sum(len(d.get("revived", [])) for d in directions)
    duplicated = sum(max(0, d["replicaCount"] - d["sourceCount"]) + len(d["mismatched"]) for d in directions)
    dead = sum(d["deadLettered"] for d in directions)
    # The run's wall clock: its start, plus each record's replication time relative to it.
    t0 = at(report["startedAt"])
    records = [r for r in report.get("records", []) if r.get("replicatedAt")]
    replicated = [at(r["replicatedAt"]) for r in records]
    last = max(replicated) if replicated else t0
    # Recovery: how long after the fault ended the records it held up caught up (a record created
    # later counts from its creation, so the rest of the load does not inflate the figure).
    # A replica row's replicatedAt is that of the record's last change: a record changed after the
    # fault would count its later change as recovery, so only records not changed after creation count.
    converge = max([at(r["replicatedAt"]) - max(at(r["createdAt"]), ended) for r in records
                    if r.get("version") == 1 and not r.get("deleted")] or [0.0])
    converge = max(0.0, converge)
    # Drain rate: records replicated after the fault ended, per second until the last one.
    after = [t for t in replicated if t > ended]
    drain = len(after) / (last - ended) if len(after) > 1 and last > ended else 0.0
    row = {"drill": drill, "requests": report["count"], "ok": ok, "lost": lost, "stale": stale, "revived": revived,
           "duplicated": duplicated,
           "deadLettered": dead, "convergedSecondsAfterFault": round(converge, 2),
           "drainPerSecond": round(drain, 1), "faultSeconds": round(ended - started, 2),
           "parked": parked, "converged": report["converged"], "noPublishSeconds": stall, "report": path}
    if extra.get("cluster") == "true":
        row.update(node_loss_figures(report, started, ended, extra))
    return row


def node_loss_figures(report, started, ended, extra):
    """What a node-loss drill adds to its row: replication while the node(s) were down, the lag,
    what the outboxes held, the first confirm timeout, where the quorum queues' leaders were."""
    down = float(extra["downAt"]) if extra["downAt"] else started
    up = float(extra["upAt"]) if extra["upAt"] else ended
    # A replica row's replicatedAt is that of its last change: the lag of a record's creation is
    # read from the records the load did not change afterwards.
    unchanged = [r for r in report.get("records", []) if r.get("version") == 1 and not r.get("deleted")]
    # Records created while the node(s) were down (the last second left out: in flight) and
    # replicated before any node came back: replication went on through the fault.
    during = [r for r in unchanged if down <= at(r["createdAt"]) <= up - 1]
    on_time = [r for r in during if r.get("replicatedAt") and at(r["replicatedAt"]) < up]
    held = [int(x) if x.isdigit() else None for x in extra["held"].split()] if extra["held"] else []
    lags = [at(r["replicatedAt"]) - at(r["createdAt"]) for r in unchanged if r.get("replicatedAt")]
    return {"nodes": extra["nodes"], "downSeconds": round(up - down, 2),
            "createdWhileDown": len(during), "replicatedWhileDown": len(on_time),
            "maxLagSeconds": round(max(lags or [0.0]), 2),
            "heldInOutbox": held,
            "firstConfirmTimeoutSeconds": float(extra["firstConfirmTimeout"]) if extra["firstConfirmTimeout"] else None,
            "leadersBefore": extra["leadersBefore"], "leadersAfter": extra["leadersAfter"],
            "amqpUrlLists": extra["amqpUrlLists"] == "true"}


def amend_failover(path, parked, killed, promoting, writable):
    """Completes the last row of the JSON lines file at `path` for the database failover drill.

    `parked` is counted on the failover pair; `killed`, `promoting` and `writable` are the epoch
    seconds of the crash, of `pg_ctl promote`, and of the new primary accepting writes. Returns
    the row as written.
    """
    lines = open(path).read().splitlines()
    row = json.loads(lines[-1])
    report = json.load(open(row["report"]))
    t0 = at(report["startedAt"])
    # Every 2xx write (creates and changes), at the moment its answer came.
    answered = sorted(t0 + w["sentAt"] + w["latencyMs"] / 1000 for w in report.get("records", []) + report.get("changes", []))
    # The outage as the clients saw it: the longest silence between two 2xx writes that ends after
    # the crash (a write answered just after the kill had committed before it).
    gaps = [(b - a, b) for a, b in zip(answered, answered[1:]) if b > killed]
    gap, resumed = max(gaps) if gaps else (None, None)
    row["parked"] = parked
    row["promoteSeconds"] = round(writable - promoting, 2)
    row["noWriteSeconds"] = round(gap, 2) if gaps else None
    row["writesResumedAfterPromotionSeconds"] = round(resumed - promoting, 2) if gaps else None
    # Caught up: how long after the new primary was up the last 2xx write held up by the failover
    # showed at the peer (records created before it count from then). Exact per write: a create
    # not changed later by its replicatedAt, a change by its lag (the table's "recovered" column
    # counts a record changed late in the run from its creation instead).
    seen = [(t0 + w["sentAt"] + w["latencyMs"] / 1000, at(w["replicatedAt"]))
            for w in report.get("records", []) if w.get("lagMs") is not None and w.get("replicatedAt")]
    seen += [(t0 + c["sentAt"] + c["latencyMs"] / 1000, t0 + c["sentAt"] + (c["latencyMs"] + c["lagMs"]) / 1000)
             for c in report.get("changes", []) if c.get("lagMs") is not None]
    row["caughtUpSeconds"] = round(max([shown - max(answered_at, writable) for answered_at, shown in seen] or [0.0]), 2)
    lines[-1] = json.dumps(row)
    open(path, "w").write("\n".join(lines) + "\n")
    print(f"postgres-failover: {row['requests']} requests, {row['ok']} 2xx, lost {row['lost']}, duplicated {row['duplicated']}; "
          f"standby promoted {round(promoting - killed, 2)} s after the crash (writable {row['promoteSeconds']} s after pg_ctl promote); "
          f"no write succeeded for {row['noWriteSeconds']} s; the services wrote again "
          f"{row['writesResumedAfterPromotionSeconds']} s after pg_ctl promote; "
          f"every 2xx write at its peer {row['caughtUpSeconds']} s after the new primary was up", file=sys.stderr)
    return row


def first_confirm_timeout(since, paths):
    """Seconds from `since` (epoch) to the first "outbox publish failed" for want of a publisher
    confirm in the service logs at `paths`, to the log's whole second; None when there was none."""
    first = None
    for path in paths:
        try:
            lines = open(path, errors="replace")
        except OSError:
            continue
        for line in lines:
            if "outbox publish failed" not in line or "no publisher confirm" not in line:
                continue
            try:
                moment = datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S%z").timestamp()
            except ValueError:
                continue
            # The log has whole seconds: a failure in the fault's first second reads as before it.
            if moment >= int(since) and (first is None or moment < first):
                first = moment
    return None if first is None else round(max(0.0, first - since), 1)


def table_lines(rows):
    """The table of every drill, one line a drill under a header."""
    header = (f"{'drill':<30}{'requests':>9}{'2xx':>7}{'lost':>6}{'stale':>7}{'revived':>9}{'dup':>5}{'dead':>6}{'parked':>8}"
              f"{'fault s':>9}{'recovered s':>13}{'drain/s':>9}{'no-publish s':>14}")
    lines = [header, "-" * len(header)]
    for r in rows:
        stall = '-' if r.get('noPublishSeconds') is None else r['noPublishSeconds']
        lines.append(f"{r['drill']:<30}{r['requests']:>9}{r['ok']:>7}{r['lost']:>6}{r['stale']:>7}{r['revived']:>9}{r['duplicated']:>5}"
                     f"{r['deadLettered']:>6}{r['parked']:>8}"
                     f"{r['faultSeconds']:>9}{r['convergedSecondsAfterFault']:>13}{r['drainPerSecond']:>9}{stall:>14}")
    return lines


def node_loss_lines(cluster, deadline):
    """The node-loss drills' paragraph, and the drills among them that did not show what they are
    for: a minority changes nothing for replication; without a majority, publishes fail by the
    confirm deadline and the outboxes hold the events."""
    lines, bad = [""], []
    lines.append("node-loss drills on the 3-node cluster (" + ("services with AMQP_URL lists" if cluster[0]["amqpUrlLists"]
                 else "services with one AMQP URL each: customer-service node 1, order-service node 2") + "):")
    for r in cluster:
        text = (f"  {r['drill']}: node {r['nodes']}, down {r['downSeconds']} s; {r['replicatedWhileDown']} of "
                f"{r['createdWhileDown']} records created meanwhile (and not changed later) replicated before it came back;"
                f" largest creation lag {r['maxLagSeconds']} s")
        if r["heldInOutbox"]:
            text += f"; outboxes held {' + '.join(str(h) for h in r['heldInOutbox'])} (customer-service + order-service) at the majority's return"
        if r["drill"] == "rabbitmq-majority-loss":
            failure = r["firstConfirmTimeoutSeconds"]
            text += (f"; first publish failed for want of a confirm {failure if failure is not None else 'never'} s after"
                     f" the majority went (confirm deadline {deadline:g} s)")
        lines.append(text)
        lines.append(f"    leaders before: {r['leadersBefore']}")
        lines.append(f"    leaders after:  {r['leadersAfter']}")
        if r["drill"] == "rabbitmq-minority" and (r["createdWhileDown"] == 0 or r["replicatedWhileDown"] < r["createdWhileDown"]):
            bad.append(r["drill"] + " (replication stopped while a minority was down, or the load had ended before)")
        if r["drill"] == "rabbitmq-majority-loss":
            held = sum(h or 0 for h in r["heldInOutbox"])
            failure = r["firstConfirmTimeoutSeconds"]
            # The log has whole seconds, and a failed publish is logged after the connection is dropped.
            if held == 0 or failure is None or failure > deadline + 2:
                bad.append(r["drill"] + " (no publish failure within the confirm deadline, or nothing held)")
    return lines, bad


def summary(results, prefix, deadline):
    """Prints the table of the rows in `results`, writes it to PREFIX.txt and the rows to
    PREFIX.json, prints the verdict; returns the exit status (1 when a drill failed)."""
    rows = [json.loads(line) for line in open(results) if line.strip()]
    lines = table_lines(rows)
    cluster = [r for r in rows if "nodes" in r]
    bad = []
    if cluster:
        more, bad = node_loss_lines(cluster, deadline)
        lines += more
    table = "\n".join(lines)
    print(table)
    open(prefix + ".txt", "w").write(table + "\n")
    json.dump(rows, open(prefix + ".json", "w"), indent=2)
    # Only the deliberate poison may be parked, and exactly it.
    bad += [r["drill"] for r in rows if r["lost"] or r["stale"] or r["revived"] or r["duplicated"] or r["deadLettered"] or not r["converged"]
            or r["parked"] != (1 if r["drill"] == "oversize-event" else 0)]
    if bad:
        print("FAILED: " + ", ".join(bad))
        return 1
    print(f"all {len(rows)} drills: lost 0, stale 0, revived 0, duplicated 0, dead-lettered 0 (the oversize event parked, as it should be)")
    return 0


def main(argv):
    """The command line (see the module's usage)."""
    command, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    if command == "row" and len(args) >= 6:
        drill, path, started, ended, parked, stall = args[:6]
        extra = dict(pair.split("=", 1) for pair in args[6:])
        row = drill_row(drill, path, float(started), float(ended), int(parked), float(stall) if stall else None, extra)
        print(json.dumps(row))
        return 0
    if command == "failover" and len(args) == 5:
        amend_failover(args[0], int(args[1]), *(float(t) for t in args[2:5]))
        return 0
    if command == "first-confirm-timeout" and len(args) >= 1:
        seconds = first_confirm_timeout(float(args[0]), args[1:])
        print("" if seconds is None else seconds)
        return 0
    if command == "summary" and len(args) == 3:
        return summary(args[0], args[1], float(args[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
