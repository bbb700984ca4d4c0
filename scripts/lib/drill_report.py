"""The analysis behind scripts/fault-drills: one result row per drill, the table at the end.

    drill_report.py row DRILL REPORT STARTED ENDED PARKED STALL [KEY=VALUE...]
        One drill's row, as a JSON line, from the load test's report (common-client load-test
        --json REPORT): requests, 2xx, lost, stale, revived, duplicated, dead-lettered, the
        recovery after the fault (STARTED and ENDED in epoch seconds), the drain rate. PARKED is
        the count of parked outbox rows, STALL the longest publish stall in seconds ("" when not
        measured). The KEY=VALUE pairs: the load test's exit status (loadExit), the growth of the
        dead-letter queues during the drill (deadLetterQueues: what the broker dead-lettered by
        itself counts too), whether both services still ran (servicesRunning), what shows that
        the fault did what it is for (consumerVictims, statementTimeouts, transientFailures,
        pgDeadlocks, drillVictims, kills, consumerTimeouts, outageSeconds), the broker outage's
        figures (startAppSeconds, outbox: "SERVICE:BACKLOG:FIRST:LAST ..." in epoch seconds), and
        a node-loss drill's (cluster=true, nodes, downAt, upAt, held, firstConfirmTimeout,
        leadersBefore, leadersAfter, amqpUrlLists), and a partition drill's (netns=true, downAt,
        upAt, connectionsLost and reconnects as "CUSTOMER+ORDER", duplicatesAbsorbed, and for the node
        partition partitionedNode, connectionsBefore, connectionsAfter, clusterAfter, wholeAt, nodeLog,
        csLog and csLogOffset).
    drill_report.py failover RESULTS PARKED KILLED PROMOTING WRITABLE
        Completes the last row of RESULTS (JSON lines) for the database failover drill: parked
        rows counted on the failover pair, how long no write succeeded, how long after the
        promotion the services wrote again and caught up. Prints those figures to stderr.
    drill_report.py first-confirm-timeout SINCE LOG...
        Seconds from SINCE (epoch) to the first publish that a service log records as failed for
        want of a publisher confirm; prints nothing when there was none.
    drill_report.py wait-amqp PORT SECONDS
        Waits until a broker on 127.0.0.1:PORT answers the AMQP protocol header with its
        connection.start, and prints that moment in epoch seconds; exits 1 after SECONDS.
    drill_report.py summary RESULTS PREFIX DEADLINE
        The table of every row in RESULTS, printed and written to PREFIX.txt (the rows as JSON to
        PREFIX.json), then the verdict. Exits 1 when a drill lost, duplicated or dead-lettered
        anything, parked what it should not, got an answer outside the allowed ones (see
        ALLOWED), when its load test ended abnormally, or when a drill did not show what it is
        for. DEADLINE is the services' publisher confirm deadline in seconds.

Standard library only: it runs with the system's python3.
"""

import json
import socket
import sys
import time
from datetime import datetime

# The only answers other than 2xx a drill may get: 503 (a dependency is down, retry), 422
# unknown-customer (the order's customer has not replicated yet), and, from a service the drill
# itself takes down, a refused, dropped or timed-out connection. A 500, another 4xx, or a request
# that timed out against a service that was running fails the drill.
ALLOWED = "503, 422 unknown-customer, refused (only from a service the drill kills)"

# The drills that kill a service during the load, and which: its requests may find no one there.
KILLED_SERVICE = {"kill-order-service": "order", "kill-customer-service": "customer",
                  "kill-loop-order-service": "order"}

# Which service each of the load test's operations goes to.
SERVICE_OF = {"createCustomer": "customer", "updateCustomer": "customer", "deleteCustomer": "customer",
              "createOrder": "order", "cancelOrder": "order"}

# The endings of the load test's transport failures that mean nobody answered on the port, or
# that the process went away mid-request (errno 111 refused, 104 reset), or that no connection
# could be made before the request's deadline.
DROPPED = ("111)", "104)", "Connection refused", "remoteConnectionClosed", "I/O on closed channel",
           "stream ended at an unexpected time", "connectTimeout", "deadlineExceeded")


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
    # The dead-letter queues' growth counts what the broker dead-lettered by itself (a message over
    # the queue's delivery limit), which the consumer's own count does not see.
    queues = int(extra["deadLetterQueues"]) if extra.get("deadLetterQueues", "").lstrip("-").isdigit() else None
    row = {"drill": drill, "requests": report["count"], "ok": ok, "lost": lost, "stale": stale, "revived": revived,
           "duplicated": duplicated,
           "deadLettered": max(dead, queues or 0), "deadLetteredByConsumer": dead, "deadLetterQueueGrowth": queues,
           "convergedSecondsAfterFault": round(converge, 2),
           "drainPerSecond": round(drain, 1), "faultSeconds": round(ended - started, 2),
           "parked": parked, "converged": report["converged"], "noPublishSeconds": stall, "report": path,
           "passed": report["passed"], "loadExit": int(extra["loadExit"]) if extra.get("loadExit", "").isdigit() else None,
           "servicesRunning": extra.get("servicesRunning", "true") == "true",
           "answers": answer_classes(drill, report["errors"])}
    for key in ("consumerVictims", "statementTimeouts", "transientFailures", "pgDeadlocks", "drillVictims", "kills",
                "consumerTimeouts", "consumerPauses"):
        if extra.get(key, "").lstrip("-").isdigit():
            row[key] = int(extra[key])
    if extra.get("outageSeconds"):
        row["outageSeconds"] = float(extra["outageSeconds"])
    if extra.get("outbox"):
        row.update(broker_outage_figures(report, extra))
    if extra.get("cluster") == "true":
        row.update(node_loss_figures(report, started, ended, extra))
    if extra.get("netns") == "true":
        row.update(partition_figures(drill, report, started, ended, extra))
    if drill == "order-database-outage" and extra.get("downAt") and extra.get("upAt"):
        down, up = float(extra["downAt"]), float(extra["upAt"])
        row["createdDuringOutage"] = sum(1 for r in report.get("records", []) if down <= at(r["createdAt"]) <= up)
    return row


def answer_classes(drill, errors):
    """The load test's failed requests (`errors`: "operation: kind" to count) by class: "503",
    "422 unknown-customer", "refused" (from the service the drill kills), or the kind itself when
    it is none of those (a 500, a timeout against a running service, ...)."""
    classes = {}
    for key, count in errors.items():
        operation, _, kind = key.partition(": ")
        if kind.startswith("HTTP 503"):
            name = "503"
        elif kind.startswith("HTTP 422") and kind.endswith("unknown-customer"):
            name = "422 unknown-customer"
        elif (kind.startswith("transport: ") and kind.endswith(DROPPED)
              and SERVICE_OF.get(operation) == KILLED_SERVICE.get(drill, "")):
            name = "refused"
        else:
            name = f"{operation}: {kind}"
        classes[name] = classes.get(name, 0) + count
    return classes


def broker_outage_figures(report, extra):
    """What the broker outage adds to its row: per service, the events its outbox held at the
    broker's return, the seconds from that return (the broker answering AMQP) to its first
    publish, and how fast it drained the backlog; the same for both together, and the seconds to
    the first event replicated after the return."""
    up = float(extra["upAt"])
    services = {}
    for item in extra["outbox"].split():
        name, backlog, first, last = item.split(":")
        first = float(first) if first else None
        last = float(last) if last else None
        services[name] = {"backlog": int(backlog), "firstPublishSeconds": round(first - up, 2) if first else None,
                          "drainPerSecond": round(int(backlog) / (last - first), 1) if first and last and last > first else None,
                          "first": first, "last": last}
    firsts = [s["first"] for s in services.values() if s["first"]]
    lasts = [s["last"] for s in services.values() if s["last"]]
    backlog = sum(s["backlog"] for s in services.values())
    replicated = [at(r["replicatedAt"]) for r in report.get("records", []) if r.get("replicatedAt") and at(r["replicatedAt"]) >= up]
    for s in services.values():
        del s["first"], s["last"]
    return {"downSeconds": round(up - float(extra["downAt"]), 2), "startAppSeconds": float(extra["startAppSeconds"]),
            "backlog": backlog, "outboxes": services,
            # The slower relay is the figure: the system has caught up only when both have.
            "firstPublishSeconds": max((s["firstPublishSeconds"] for s in services.values()
                                        if s["firstPublishSeconds"] is not None), default=None),
            "firstReplicatedSeconds": round(min(replicated) - up, 2) if replicated else None,
            "backlogDrainPerSecond": round(backlog / (max(lasts) - min(firsts)), 1) if firsts and lasts and max(lasts) > min(firsts) else None}


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


def partition_figures(drill, report, started, ended, extra):
    """What a partition drill adds to its row: the records created during the fault and how many
    of them replicated before it ended, the replication lag of creations before and during it, the
    connections lost and made again, the duplicates the consumers absorbed; for the node partition,
    whether the node paused, where the services went and whether the cluster came back whole."""
    down = float(extra["downAt"]) if extra.get("downAt") else started
    up = float(extra["upAt"]) if extra.get("upAt") else ended
    unchanged = [r for r in report.get("records", []) if r.get("version") == 1 and not r.get("deleted")]
    during = [r for r in unchanged if down <= at(r["createdAt"]) <= up - 0.5]
    before = [r for r in unchanged if at(r["createdAt"]) < down]

    def lags(records):
        return sorted(at(r["replicatedAt"]) - at(r["createdAt"]) for r in records if r.get("replicatedAt"))

    def median(values):
        return round(values[len(values) // 2], 3) if values else None

    def pair(key):
        parts = extra.get(key, "").split("+")
        return [int(p) for p in parts] if len(parts) == 2 and all(p.isdigit() for p in parts) else None

    figures = {"downSeconds": round(up - down, 2),
               "createdDuringFault": {op: sum(1 for r in during if r["operation"] == op) for op in ("createCustomer", "createOrder")},
               "replicatedDuringFault": {op: sum(1 for r in during if r["operation"] == op and r.get("replicatedAt")
                                                 and at(r["replicatedAt"]) < up) for op in ("createCustomer", "createOrder")},
               "lagBefore": {"p50": median(lags(before)), "max": round(max(lags(before) or [0.0]), 3)},
               "lagDuring": {"p50": median(lags(during)), "max": round(max(lags(during) or [0.0]), 3)},
               "connectionsLost": pair("connectionsLost"), "reconnects": pair("reconnects"),
               "duplicatesAbsorbed": int(extra["duplicatesAbsorbed"]) if extra.get("duplicatesAbsorbed", "").isdigit() else None}
    if drill == "partition-rabbitmq-node":
        figures.update(node_partition_figures(extra, down, up))
    return figures


def node_partition_figures(extra, down, up):
    """The node partition's evidence: the partitioned node's log (nodeLog: the moment it found
    itself in the minority and paused), customer-service's log from csLogOffset (the nodes it
    connected to meanwhile) and the cluster's status after the heal."""
    node = extra.get("partitionedNode", "")
    paused_at, moved_to = None, set()
    try:
        with open(extra.get("nodeLog", ""), errors="replace") as f:
            for line in f:
                if "minority/secondary status detected" not in line:
                    continue
                try:
                    moment = datetime.fromisoformat(" ".join(line.split()[:2])).timestamp()
                except ValueError:
                    continue
                if moment >= down and paused_at is None:
                    paused_at = moment
    except OSError:
        pass
    try:
        with open(extra.get("csLog", ""), errors="replace") as f:
            f.seek(int(extra.get("csLogOffset", "0") or 0))
            for line in f:
                if "AMQP publisher connected" in line or "AMQP consumer connected" in line:
                    for word in line.split():
                        if word.startswith("amqp.endpoint=mq") and "-link" in word:
                            where = "rabbit@" + word[len("amqp.endpoint="):].split("-link")[0]
                            if where != node:
                                moved_to.add(where)
    except (OSError, ValueError):
        pass
    after = extra.get("clusterAfter", "")
    return {"partitionedNode": node, "pausedAfterSeconds": round(paused_at - down, 2) if paused_at else None,
            "customerServiceMovedTo": sorted(moved_to),
            "connectionsBefore": extra.get("connectionsBefore", "").strip(),
            "connectionsAfter": extra.get("connectionsAfter", "").strip(), "clusterAfter": after,
            "leadersBefore": extra.get("leadersBefore", ""),
            "rejoined": after == "running rabbit@mq1,rabbit@mq2,rabbit@mq3 partitions {}",
            "wholeSecondsAfterHeal": round(float(extra["wholeAt"]) - up, 2) if extra.get("wholeAt") else None}


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
              f"{'fault s':>9}{'recovered s':>13}{'drain/s':>9}{'no-publish s':>14}  non-2xx")
    lines = [header, "-" * len(header)]
    for r in rows:
        stall = '-' if r.get('noPublishSeconds') is None else r['noPublishSeconds']
        answers = ", ".join(f"{name} {count}" for name, count in sorted(r.get("answers", {}).items())) or "-"
        lines.append(f"{r['drill']:<30}{r['requests']:>9}{r['ok']:>7}{r['lost']:>6}{r['stale']:>7}{r['revived']:>9}{r['duplicated']:>5}"
                     f"{r['deadLettered']:>6}{r['parked']:>8}"
                     f"{r['faultSeconds']:>9}{r['convergedSecondsAfterFault']:>13}{r['drainPerSecond']:>9}{stall:>14}  {answers}")
    return lines


def evidence_lines(rows):
    """What each drill that must show its fault did shows, one line each; and the broker
    outage's figures."""
    lines = []
    for r in rows:
        drill = r["drill"]
        if drill == "lock-replica-table":
            lines.append(f"  {drill}: the consumer's statements cancelled by the statement timeout (57014): "
                         f"{r.get('statementTimeouts', '?')}; transient failures counted: {r.get('transientFailures', '?')}")
        elif drill == "deadlock-replica":
            lines.append(f"  {drill}: deadlocks in order_service {r.get('pgDeadlocks', '?')}, of which the consumer was the victim "
                         f"{r.get('consumerVictims', '?')} (its log), the drill's own session {r.get('drillVictims', '?')}; "
                         f"transient failures counted: {r.get('transientFailures', '?')}")
        elif drill == "order-database-outage":
            lines.append(f"  {drill}: order_service refused connections {r.get('outageSeconds', '?')} s while "
                         f"{r.get('createdDuringOutage', '?')} records were created; the broker closed the consumer's channel "
                         f"{r.get('consumerTimeouts', '?')} times (consumer_timeout); dead-lettered {r['deadLettered']}")
        elif drill == "kill-loop-order-service":
            lines.append(f"  {drill}: order-service killed {r.get('kills', '?')} times in a row, its consumer holding its prefetch; "
                         f"dead-lettered {r['deadLettered']} (by the broker: {r.get('deadLetterQueueGrowth', '?')})")
        elif drill == "broker-outage-backlog":
            outboxes = "; ".join(f"{name}: {o['backlog']} held, first publish {o['firstPublishSeconds']} s, "
                                 f"drained at {o['drainPerSecond']}/s" for name, o in sorted(r.get("outboxes", {}).items()))
            lines.append(f"  {drill}: the broker down {r.get('downSeconds', '?')} s, back {r.get('startAppSeconds', '?')} s after "
                         f"start_app; from its return to the first event published {r.get('firstPublishSeconds')} s (goal <= 2 s), "
                         f"to the first replicated {r.get('firstReplicatedSeconds')} s; {r.get('backlog', '?')} events held, "
                         f"drained at {r.get('backlogDrainPerSecond')} events/s ({outboxes})")
        elif r.get("createdDuringFault") is not None:
            created = r["createdDuringFault"]
            replicated = r["replicatedDuringFault"]
            text = (f"  {drill}: fault {r['downSeconds']} s; created meanwhile {created['createCustomer']} customers and "
                    f"{created['createOrder']} orders, of which {replicated['createCustomer']} and {replicated['createOrder']} "
                    f"replicated before it ended; "
                    f"creation lag p50/max {r['lagBefore']['p50']}/{r['lagBefore']['max']} s before, "
                    f"{r['lagDuring']['p50']}/{r['lagDuring']['max']} s during; broker connections lost "
                    f"{r['connectionsLost'] or '-'} and made {r['reconnects'] or '-'} (customer-service, order-service); "
                    f"duplicates absorbed by the inboxes {r['duplicatesAbsorbed']}")
            if drill == "partition-order-database":
                text += (f"; order-service's consumer paused {r.get('consumerPauses', '?')} times, "
                         f"its transient failures {r.get('transientFailures', '?')}")
            lines.append(text)
            if drill == "partition-rabbitmq-node":
                lines.append(f"    {r['partitionedNode']} paused {r['pausedAfterSeconds']} s after the cut (its log); "
                             f"customer-service moved to {', '.join(r['customerServiceMovedTo']) or 'no other node'}; "
                             f"connections before: {r['connectionsBefore']}; after: {r['connectionsAfter']}")
                lines.append(f"    leaders before: {r['leadersBefore'] or '?'}")
                lines.append(f"    cluster {r['wholeSecondsAfterHeal']} s after the heal: {r['clusterAfter']}")
    return ([""] + ["what the drills' faults did:"] + lines) if lines else []


def failures(r):
    """Why drill row `r` failed; empty when it passed."""
    reasons = []
    for key, name in (("lost", "lost"), ("stale", "stale"), ("revived", "revived"), ("duplicated", "duplicated"),
                      ("deadLettered", "dead-lettered")):
        if r[key]:
            reasons.append(f"{name} {r[key]}")
    if not r["converged"]:
        reasons.append("did not converge")
    expected = 1 if r["drill"] == "oversize-event" else 0
    if r["parked"] != expected:
        reasons.append(f"parked {r['parked']} (expected {expected})")
    exit_status = r.get("loadExit")
    # The load test exits 0 when it passed, 1 when its report says why not; anything else is a crash.
    if exit_status is not None and (exit_status not in (0, 1) or (exit_status == 0) != r.get("passed", exit_status == 0)):
        reasons.append(f"the load test exited {exit_status} with a report that {'passed' if r.get('passed') else 'failed'}")
    other = {name: count for name, count in r.get("answers", {}).items() if name not in ("503", "422 unknown-customer", "refused")}
    if other:
        reasons.append("answers outside {" + ALLOWED + "}: " + ", ".join(f"{n} ({c})" for n, c in sorted(other.items())))
    if not r.get("servicesRunning", True):
        reasons.append("a service was not running after the drill")
    drill = r["drill"]
    if drill == "lock-replica-table" and not (r.get("statementTimeouts", 0) > 0 and r.get("transientFailures", 0) > 0):
        reasons.append("the consumer never hit the statement timeout")
    if drill == "deadlock-replica" and not (r.get("consumerVictims", 0) > 0 and r.get("transientFailures", 0) > 0):
        reasons.append("the consumer was never the deadlock's victim")
    if drill == "order-database-outage" and not r.get("createdDuringOutage"):
        reasons.append("no event arrived during the outage")
    # A consumer that stops consuming while its database is down holds nothing: a channel closed by
    # the consumer_timeout means it held deliveries through the outage, each closing one delivery
    # counted against the queue's limit (with a high limit, before any is dead-lettered).
    if drill == "order-database-outage" and r.get("consumerTimeouts", 0) > 0:
        reasons.append(f"the broker closed the consumer's channel {r['consumerTimeouts']} times: it held deliveries through the outage")
    reasons += partition_failures(r)
    return reasons


def partition_failures(r):
    """Why a partition drill did not show what it is for; empty when it did."""
    drill, reasons = r["drill"], []
    created = r.get("createdDuringFault")
    if created is None:
        return reasons
    lost = r.get("connectionsLost") or [0, 0]
    if not created["createCustomer"] + created["createOrder"]:
        reasons.append("nothing was created during the fault (the load had ended, or never got through)")
    if drill in ("partition-customer-broker", "partition-customer-broker-one-way"):
        if not created["createCustomer"]:
            reasons.append("no customer was created during the cut")
        if not lost[0]:
            reasons.append("customer-service never lost its broker connection")
    if drill == "partition-order-database":
        if not created["createCustomer"]:
            reasons.append("no customer was created during the cut")
        if not (r.get("consumerPauses", 0) > 0 or r.get("transientFailures", 0) > 0):
            reasons.append("order-service's consumer never noticed the cut (no pause, no transient failure)")
    if drill == "partition-rabbitmq-node":
        if r.get("pausedAfterSeconds") is None:
            reasons.append(f"{r.get('partitionedNode')} never paused")
        if not r.get("customerServiceMovedTo"):
            reasons.append("customer-service never moved to another node")
        if not r.get("rejoined"):
            reasons.append(f"the cluster did not come back whole ({r.get('clusterAfter')})")
    if drill == "slow-broker-links":
        p50, before = r["lagDuring"]["p50"], r["lagBefore"]["p50"] or 0.0
        # 200 ms to the broker and 200 ms from it to the consumer: no event replicates sooner.
        if p50 is None or p50 < 0.4 or p50 <= before:
            reasons.append(f"the latency never showed in the replication lag (p50 {p50} s during the fault, {before} s before)")
    return reasons


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
    lines += evidence_lines(rows)
    table = "\n".join(lines)
    print(table)
    open(prefix + ".txt", "w").write(table + "\n")
    json.dump(rows, open(prefix + ".json", "w"), indent=2)
    for r in rows:
        reasons = failures(r)
        if reasons:
            bad.append(f"{r['drill']} ({'; '.join(reasons)})")
    if bad:
        print("FAILED: " + ", ".join(bad))
        return 1
    print(f"all {len(rows)} drills: lost 0, stale 0, revived 0, duplicated 0, dead-lettered 0, no answer outside {{{ALLOWED}}}"
          " (the oversize event parked, as it should be)")
    return 0


def wait_amqp(port, seconds):
    """Epoch seconds at which a broker on 127.0.0.1:`port` first answered the AMQP 0-9-1 protocol
    header with a method frame (its connection.start), polled every 50 ms; None after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
                connection.sendall(b"AMQP\x00\x00\x09\x01")
                connection.settimeout(2)
                if connection.recv(1) == b"\x01":
                    return time.time()
        except OSError:
            pass
        time.sleep(0.05)
    return None


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
    if command == "wait-amqp" and len(args) == 2:
        moment = wait_amqp(int(args[0]), float(args[1]))
        if moment is None:
            return 1
        print(f"{moment:.3f}")
        return 0
    if command == "summary" and len(args) == 3:
        return summary(args[0], args[1], float(args[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
