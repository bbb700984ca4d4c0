#!/usr/bin/env python3
"""Where the CPU goes while the system is under load: CPU seconds per component.

    cpu-split.py snapshot > a.json            CPU time so far of every process and kernel thread
    cpu-split.py diff a.json b.json RECORDS   the CPU spent between two snapshots, per component,
                                              in total and per record created in that window

Components: each service, PostgreSQL (all its backends), RabbitMQ (the Erlang VM), the load
generator (common-client), kernel threads (writeback, journal), everything else. Linux only
(/proc). Used by scripts/bench/benchmark.sh; also handy by hand around any load.
"""
import json
import os
import sys

GROUPS = [
    ("customer-servic", "CustomerService"),  # /proc comm is cut at 15 characters
    ("order-service", "OrderService"),
    ("common-client", "load generator (common-client)"),
    ("postgres", "PostgreSQL"),
    ("beam.smp", "RabbitMQ"),
    ("erl_child_setup", "RabbitMQ"),
    ("inet_gethost", "RabbitMQ"),
    ("epmd", "RabbitMQ"),
    ("kworker", "kernel threads"),
    ("jbd2", "kernel threads"),
    ("ksoftirqd", "kernel threads"),
]


def component(comm):
    for prefix, name in GROUPS:
        if comm.startswith(prefix):
            return name
    return "other"


def snapshot():
    ticks = os.sysconf("SC_CLK_TCK")
    processes = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as file:
                stat = file.read()
        except OSError:
            continue  # ended meanwhile
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # utime + stime of the process (all its threads), by pid: a kernel thread's name changes.
        processes[pid] = [component(comm), (int(fields[11]) + int(fields[12])) / ticks]
    return processes


def diff(before, after, records):
    spent = {}
    for pid, (name, cpu) in after.items():
        spent[name] = spent.get(name, 0.0) + cpu - before.get(pid, [name, 0.0])[1]
    spent = {name: seconds for name, seconds in spent.items() if seconds >= 0.01}
    total = sum(spent.values())
    print("| component | CPU s | µs per record | share |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"| {name} | {seconds:.2f} | {1e6 * seconds / records:,.0f} | {100 * seconds / total:.0f} % |")
    print(f"| **total** | **{total:.2f}** | **{1e6 * total / records:,.0f}** | |")


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "snapshot":
        json.dump(snapshot(), sys.stdout)
    elif len(sys.argv) == 5 and sys.argv[1] == "diff":
        with open(sys.argv[2]) as a, open(sys.argv[3]) as b:
            diff(json.load(a), json.load(b), max(1, int(sys.argv[4])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
