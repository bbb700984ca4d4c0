#!/usr/bin/env python3
"""The measuring half of scripts/bench/cost.sh: what one load costs each process, per request.

    cost.py load CONFIG NAME OUT_DIR -- COMMAND...
        runs COMMAND (wrk: one operation of the services), waits until replication has drained,
        and writes OUT_DIR/NAME.json: requests, rate, CPU µs per request of each service, of all
        PostgreSQL processes and of RabbitMQ's Erlang VM, the services' context switches per
        request, PostgreSQL statements (pg_stat_statements of the services' roles, BEGIN and COMMIT
        included), transactions and WAL bytes per request
    cost.py ceiling CONFIG NAME OUT_DIR -- COMMAND...
        runs COMMAND (pgbench) and writes OUT_DIR/NAME.json: transactions, tps, CPU µs per
        transaction of PostgreSQL and of pgbench itself, WAL bytes per transaction
    cost.py table OUT_DIR OPERATION...
        the markdown table of the OPERATION.json and OPERATION-pgbench.json files
    cost.py profile SYMBOLS FOLDED
        of a perf profile: the kernel's share, the samples per thread name (with the kernel's and
        finish_task_switch's part) and the 15 hottest symbols, as markdown (SYMBOLS: perf report
        --no-children -g none --sort dso,sym --stdio, demangled; FOLDED: its folded stacks)
    cost.py flamegraph FOLDED TITLE > SVG
        draws folded stacks (one "frame;frame;... count" a line) with pyinferno (PyPI: the
        inferno crate's flame graph); run it with the Python that has pyinferno

CONFIG is a JSON file written by cost.sh: the pids of the services, the postmaster and the
broker's beam.smp, the psql connection settings, the services' database roles, and the two
databases that the drain check compares (a source's outbox against its peer's inbox).

CPU comes from /proc/PID/stat (utime + stime: every thread of the process, ended ones too). For
PostgreSQL it is the postmaster with the children it reaped (cutime + cstime) plus every live child,
so backends that start or end inside the window are counted. Context switches are the sum of
voluntary and non-voluntary switches over /proc/PID/task/*/status (live threads). Only the
processes named in CONFIG are counted: other PostgreSQL servers and brokers on the machine are not.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as file:
        text = file.read()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid, children=False):
    fields = stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def switches(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as file:
                for line in file:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass  # the thread ended meanwhile
    return total


def postgres_seconds(postmaster):
    total = cpu_seconds(postmaster, children=True)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = stat_fields(pid)
        except OSError:
            continue
        if fields[1] == str(postmaster):
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def machine_busy_seconds():
    with open("/proc/stat") as file:
        fields = [int(value) for value in file.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


def snapshot(config):
    return {
        "time": time.monotonic(),
        "cpu": {
            **{name: cpu_seconds(pid) for name, pid in config["services"].items()},
            "PostgreSQL": postgres_seconds(config["postmaster"]),
            "RabbitMQ": cpu_seconds(config["beam"]),
        },
        "switches": {name: switches(pid) for name, pid in config["services"].items()},
        "machine": machine_busy_seconds(),
    }


def psql(config, database, sql):
    result = subprocess.run(
        ["psql", "-X", "-qAt", "-F", "\t", "-h", config["pg_host"], "-p", str(config["pg_port"]), "-U", "postgres", "-d", database, "-c", sql],
        env={**os.environ, "PGPASSWORD": config["pg_password"]},
        check=True,
        capture_output=True,
        text=True,
    )
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def wal_lsn(config):
    return psql(config, "postgres", "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")[0][0]


def statements(config):
    """pg_stat_statements of the services' roles: (database, calls, query), most called first."""
    roles = ",".join(f"'{role}'" for role in config["databases"])
    return psql(
        config,
        "postgres",
        "SELECT d.datname, s.calls, regexp_replace(s.query, '\\s+', ' ', 'g') FROM pg_stat_statements s "
        "JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid "
        f"WHERE r.rolname IN ({roles}) ORDER BY s.calls DESC",
    )


def drained(config):
    """True when every outbox row is published and each peer's inbox has the source's last event."""
    for source, peer in config["drain"]:
        # An erased row (its record deleted before it was published) is never delivered: the peer
        # is compared with the last published row.
        pending, last_published = psql(
            config, source,
            "SELECT count(*) FILTER (WHERE published_at IS NULL), coalesce(max(sequence) FILTER (WHERE published_at IS NOT NULL), 0) FROM outbox",
        )[0]
        applied = psql(config, peer, "SELECT coalesce(max(source_sequence), 0) FROM inbox")[0][0]
        if int(pending) > 0 or int(applied) < int(last_published):
            return False
    return True


def run(command, done_files=()):
    """Runs COMMAND; returns its stdout, its wall time and the CPU seconds it used. With
    done_files, interrupts it (SIGINT: wrk then reports) once they all exist."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    if done_files:
        while process.poll() is None and not all(os.path.exists(path) for path in done_files):
            time.sleep(0.05)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if process.returncode != 0:
        sys.stderr.write(output)
        sys.exit(f"{command[0]} failed with {process.returncode}")
    return output, wall, usage.ru_utime + usage.ru_stime


def wrk_counts(output):
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return requests, int(failed.group(1)) if failed else 0, errors.group(1) if errors else ""


def delta(before, after):
    return {key: after[key] - before[key] for key in after}


def load(config, name, out, command):
    subprocess.run(
        ["psql", "-X", "-qAt", "-h", config["pg_host"], "-p", str(config["pg_port"]), "-U", "postgres", "-d", "postgres",
         "-c", "SELECT pg_stat_statements_reset()"],
        env={**os.environ, "PGPASSWORD": config["pg_password"]}, check=True, capture_output=True)
    lsn_before = wal_lsn(config)
    load_before = os.getloadavg()
    before = snapshot(config)
    # A load of each id once ends when wrk's threads have written their done files (cost.lua).
    done_files = [os.path.join(out, f"{name}.done-{i}") for i in range(config["threads"])] if name in config["ids"] else []
    output, wall, client_cpu = run(command, done_files)
    load_end = time.monotonic()
    deadline = load_end + 120
    while not drained(config):
        if time.monotonic() > deadline:
            sys.exit("replication did not drain within 120 s of the load's end")
        time.sleep(0.2)
    drain_seconds = time.monotonic() - load_end
    after = snapshot(config)
    lsn_after = wal_lsn(config)
    listed = statements(config)
    requests, failed, socket_errors = wrk_counts(output)
    if name in ("cancel-order", "delete-customer"):
        requests = config["ids"][name]  # each id once; the few /health/live requests after a share is used up are not counted
    report = {
        "name": name,
        "requests": requests,
        "failed": failed,
        "socket_errors": socket_errors,
        "seconds": wall,
        "rate": requests / wall,
        "drain_seconds": drain_seconds,
        "cpu_us": {key: 1e6 * value / requests for key, value in delta(before["cpu"], after["cpu"]).items()},
        "client_cpu_us": 1e6 * client_cpu / requests,
        "others_cpu_us": 1e6 * (after["machine"] - before["machine"] - sum(delta(before["cpu"], after["cpu"]).values()) - client_cpu) / requests,
        "switches": {key: value / requests for key, value in delta(before["switches"], after["switches"]).items()},
        "statements": {
            database: sum(int(row[1]) for row in listed if row[0] == database) / requests for database in config["databases"]
        },
        # Transactions: the COMMITs (and ROLLBACKs) that pg_stat_statements counted. (pg_stat_database's
        # counters are flushed by each backend up to seconds later, too late for a window this short.)
        "transactions": {
            database: sum(int(row[1]) for row in listed if row[0] == database and row[2] in ("COMMIT", "ROLLBACK")) / requests
            for database in config["databases"]
        },
        "wal_bytes": (int(lsn_after) - int(lsn_before)) / requests,
        "load_average": [load_before, os.getloadavg()],
        "output": output,
    }
    with open(os.path.join(out, f"{name}.json"), "w") as file:
        json.dump(report, file, indent=1)
    with open(os.path.join(out, f"{name}-statements.txt"), "w") as file:
        file.write(f"pg_stat_statements of the services' roles during {name}: calls per request, database, statement\n\n")
        for database, calls, query in listed:
            file.write(f"{int(calls) / requests:8.3f}  {database}  {query}\n")


def ceiling(config, name, out, command):
    lsn_before = wal_lsn(config)
    load_before = os.getloadavg()
    postgres_before, machine_before = postgres_seconds(config["postmaster"]), machine_busy_seconds()
    output, wall, client_cpu = run(command)
    # pgbench's backends end after it: once reaped, their CPU is in the postmaster's cutime.
    time.sleep(1)
    postgres_cpu = postgres_seconds(config["postmaster"]) - postgres_before
    machine = machine_busy_seconds() - machine_before
    lsn_after = wal_lsn(config)
    transactions = int(re.search(r"number of transactions actually processed: (\d+)", output).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", output)
    report = {
        "name": name,
        "transactions": transactions,
        "failed": int(failed.group(1)) if failed else 0,
        "tps": float(re.search(r"tps = ([0-9.]+)", output).group(1)),
        "postgres_cpu_us": 1e6 * postgres_cpu / transactions,
        "client_cpu_us": 1e6 * client_cpu / transactions,
        "others_cpu_us": 1e6 * (machine - postgres_cpu - client_cpu) / transactions,
        "wal_bytes": (int(lsn_after) - int(lsn_before)) / transactions,
        "seconds": wall,
        "load_average": [load_before, os.getloadavg()],
        "output": output,
    }
    with open(os.path.join(out, f"{name}.json"), "w") as file:
        json.dump(report, file, indent=1)


def table(out, operations):
    rows = []
    for operation in operations:
        with open(os.path.join(out, f"{operation}.json")) as file:
            load = json.load(file)
        path = os.path.join(out, f"{operation}-pgbench.json")
        pgbench = json.load(open(path)) if os.path.exists(path) else None
        cpu = load["cpu_us"]
        ours = cpu["customer-service"] + cpu["order-service"] + cpu["PostgreSQL"] + cpu["RabbitMQ"]
        databases = sorted(load["statements"])
        rows.append(
            [
                operation,
                f"{load['requests']:,}" + (f" ({load['failed']} failed)" if load["failed"] else ""),
                f"{load['rate']:,.0f}",
                f"{cpu['customer-service']:,.0f}",
                f"{cpu['order-service']:,.0f}",
                f"{cpu['PostgreSQL']:,.0f}",
                f"{cpu['RabbitMQ']:,.0f}",
                f"**{ours:,.0f}**",
                f"{load['client_cpu_us']:,.0f}",
                f"{max(0, load['others_cpu_us']):,.0f}",
                f"{load['switches']['customer-service']:.1f}",
                f"{load['switches']['order-service']:.1f}",
                " + ".join(f"{load['statements'][database]:.1f}" for database in databases),
                " + ".join(f"{load['transactions'][database]:.2f}" for database in databases),
                f"{load['wal_bytes']:,.0f}",
                f"{pgbench['tps']:,.0f}" if pgbench else "",
                f"{pgbench['postgres_cpu_us']:,.0f} + {pgbench['client_cpu_us']:,.0f}" if pgbench else "",
                f"{100 * load['rate'] / pgbench['tps']:.1f} %" if pgbench else "",
                f"{pgbench['wal_bytes']:,.0f}" if pgbench else "",
                f"{ours / pgbench['postgres_cpu_us']:.1f}×" if pgbench else "",
                f"{load['load_average'][0][0]:.2f}",
            ]
        )
    header = [
        "operation", "requests", "req/s", "CS µs", "OS µs", "PG µs", "MQ µs", "sum µs", "wrk µs", "others µs",
        "CS sw", "OS sw", "statements (CS + OS db)", "transactions (CS + OS db)", "WAL B", "pgbench tps",
        "pgbench µs (PG + client)", "req/s ÷ tps", "pgbench WAL B", "sum ÷ pgbench PG µs", "load",
    ]
    print("| " + " | ".join(header) + " |")
    print("| --- " + "| ---: " * (len(header) - 1) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def profile(symbols_path, folded_path):
    line = re.compile(r"^\s+([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$")
    symbols = []
    with open(symbols_path) as file:
        for text in file:
            match = line.match(text)
            if match:
                symbols.append((float(match.group(1)), match.group(2), match.group(3) == "k", match.group(4)))
    kernel = sum(share for share, _, in_kernel, _ in symbols if in_kernel)
    switching = sum(share for share, _, in_kernel, name in symbols if in_kernel and name.startswith("finish_task_switch"))
    print(f"- samples in the kernel: {kernel:.1f} %; in `finish_task_switch` (a thread switched in): {switching:.1f} %")
    # By thread (the folded stacks' first frame): its share, and the kernel's and finish_task_switch's in it.
    threads, kernel_by_thread, switching_by_thread, unknown, total = {}, {}, {}, 0, 0
    with open(folded_path) as file:
        for text in file:
            stack, _, count = text.rstrip("\n").rpartition(" ")
            frames, count = stack.split(";"), int(count)
            total += count
            threads[frames[0]] = threads.get(frames[0], 0) + count
            if frames[-1].endswith("_[k]"):
                kernel_by_thread[frames[0]] = kernel_by_thread.get(frames[0], 0) + count
            if frames[-1].startswith("finish_task_switch"):
                switching_by_thread[frames[0]] = switching_by_thread.get(frames[0], 0) + count
            if "[unknown]" in frames:
                unknown += count
    shares = [
        f"{name} {100 * count / total:.1f} % (kernel {100 * kernel_by_thread.get(name, 0) / total:.1f}, "
        f"switching in {100 * switching_by_thread.get(name, 0) / total:.1f})"
        for name, count in sorted(threads.items(), key=lambda item: -item[1])
    ]
    print(f"- {total:,} samples; by thread name: {', '.join(shares)}")
    print(f"- stacks with a frame perf could not name (`[unknown]`): {100 * unknown / total:.1f} %")
    print()
    print("| self % | where | symbol |")
    print("| ---: | --- | --- |")
    for share, dso, _, name in sorted(symbols, reverse=True)[:15]:
        short = name if len(name) <= 140 else name[:137] + "..."
        short = short.replace("|", "\\|")
        print(f"| {share:.1f} | {dso} | `{short}` |")


def flamegraph(folded_path, title):
    import pyinferno

    with open(folded_path) as file:
        lines = [line.rstrip("\n") for line in file if line.strip()]
    sys.stdout.write(pyinferno.flamegraph_from_lines(lines, title=title))


def main():
    arguments = sys.argv[1:]
    if len(arguments) >= 5 and arguments[0] in ("load", "ceiling") and arguments[4] == "--":
        with open(arguments[1]) as file:
            config = json.load(file)
        (load if arguments[0] == "load" else ceiling)(config, arguments[2], arguments[3], arguments[5:])
    elif len(arguments) >= 3 and arguments[0] == "table":
        table(arguments[1], arguments[2:])
    elif len(arguments) == 3 and arguments[0] == "profile":
        profile(arguments[1], arguments[2])
    elif len(arguments) == 3 and arguments[0] == "flamegraph":
        flamegraph(arguments[1], arguments[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
