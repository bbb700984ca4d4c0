#!/usr/bin/env bash
# What one request costs, per operation, and where the CPU goes: the cost benchmark.
#
#   BENCH_BIN_DIR=.build-release/release scripts/bench/cost.sh
#
# 1. starts its own pair of services (ports from 18381; fresh databases cost_customer_service,
#    cost_order_service and vhost cost), with pg_stat_statements loaded in the local PostgreSQL
#    (the first run adds it to shared_preload_libraries and restarts PostgreSQL once);
# 2. loads one operation at a time with wrk (COST_CONCURRENCY connections, 2 threads, unpaced):
#    create-customer, update-customer (PATCH with If-Match, on the customers just created),
#    create-order (for half of them), cancel-order and delete-customer (each record once, the other
#    half), and after each waits until replication has drained (outbox published, the peer's
#    inbox at the source's last event): each process's CPU, the services' context switches,
#    PostgreSQL statements, transactions and WAL bytes, per request (scripts/bench/cost.py);
# 3. the ceiling of each: pgbench runs the same transaction (scripts/bench/cost-sql/*.sql),
#    prepared, at the same concurrency, on copies of the schemas, with PostgreSQL's CPU per transaction;
# 4. flame graphs: perf record -F 499 --call-graph dwarf of each service under a create-customer load, folded by
#    perf's stackcollapse, names demangled by swift demangle, drawn by pyinferno (PyPI: the
#    inferno crate's flame graph); with each service's top symbols, kernel share and CPU per thread.
#
# Knobs: COST_SECONDS (10: each timed load), COST_CONCURRENCY (16), COST_PERF_SECONDS (10),
# COST_CALL_GRAPH (dwarf: unwinds through Debian's libc and libpq too, which have no frame pointers;
# fp: frame pointers only, as perf record -g, which the Swift code keeps),
# BENCH_BIN_DIR (these binaries; unset: build the release binaries). Results:
# .run/cost/<time>/ (summary.md, <operation>.json, <operation>-statements.txt, flame-*.svg, *.folded).
# About 5 minutes. The machine should be otherwise idle: the table records the load average.
set -euo pipefail
case ${1:-} in
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    '') ;;
    *) printf 'error: unknown argument %s (see --help)\n' "$1" >&2; exit 1 ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/system.sh"
export PATH="/opt/swift/usr/bin:$PATH"
cd "$REPO_ROOT"

seconds=${COST_SECONDS:-10}
concurrency=${COST_CONCURRENCY:-16}
perf_seconds=${COST_PERF_SECONDS:-10}
out=$RUN_DIR/cost/$(date +%Y%m%d-%H%M%S)
cost_pids=$RUN_DIR/cost/pids
mkdir -p "$out/logs" "$cost_pids"
summary=$out/summary.md
bench=scripts/bench

ensure_apt_packages librabbitmq-dev libpq-dev rabbitmq-server postgresql postgresql-contrib curl wrk linux-perf
ensure_venv_package pyinferno 'pyinferno==0.2.6'
scripts/local-servers start >/dev/null
source "$RUN_DIR/ports.env"
pg() { PGPASSWORD=postgres psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

if [ -n "${BENCH_BIN_DIR:-}" ]; then
    BIN_DIR=$BENCH_BIN_DIR
else
    export SWIFT_SCRATCH_PATH=${SWIFT_SCRATCH_PATH:-$REPO_ROOT/.build-release} BUILD_CONFIGURATION=release
    BIN_DIR=$(build_binaries)
fi

# MARK: pg_stat_statements, fresh databases and vhost

if ! pg -d postgres -tAc "SHOW shared_preload_libraries" | grep -q pg_stat_statements; then
    log "loading pg_stat_statements into the local PostgreSQL (once; it restarts)"
    pg -d postgres -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    scripts/local-servers stop-postgres && scripts/local-servers start-postgres
fi
pg -d postgres -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"

cost_stop() {
    PID_DIR=$cost_pids stop_service order-service
    PID_DIR=$cost_pids stop_service customer-service
}
cost_stop
trap cost_stop EXIT
log "fresh databases cost_customer_service, cost_order_service, cost_ceiling_customer, cost_ceiling_order and vhost cost"
for database in cost_customer_service cost_order_service cost_ceiling_customer cost_ceiling_order; do
    admin_psql -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
    create_service_database "$database"
done
scripts/local-servers rabbitmqctl delete_vhost cost >/dev/null 2>&1 || true
scripts/local-servers rabbitmqctl add_vhost cost >/dev/null
scripts/local-servers rabbitmqctl set_permissions -p cost guest '.*' '.*' '.*' >/dev/null

cost_start() {
    local name=$1 port=$2 database=$3
    PID_DIR=$cost_pids LOG_DIR=$out/logs CONSUMER_PUBLISHER_USER=guest start_service "$name" "$port" "$BIN_DIR" \
        "postgres://$database:$database@127.0.0.1:$PG_PORT/$database" "amqp://guest:guest@127.0.0.1:$AMQP_PORT/cost"
}
customer_port=$(free_port 18381)
cost_start customer-service "$customer_port" cost_customer_service
order_port=$(free_port $((customer_port + 1)))
cost_start order-service "$order_port" cost_order_service
customer_url=http://127.0.0.1:$customer_port order_url=http://127.0.0.1:$order_port

# The ceilings' databases: the services' schemas, copied, with nobody draining their outboxes.
for service in customer order; do
    PGPASSWORD=postgres pg_dump -h 127.0.0.1 -p "$PG_PORT" -U postgres --schema-only --no-owner "cost_${service}_service" \
        | PGPASSWORD=cost_ceiling_$service psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "cost_ceiling_$service" -d "cost_ceiling_$service" >/dev/null
done

config=$out/config.json
write_config() { # write_config [NAME=COUNT...]: the pids and settings cost.py reads; the counts of the each-once loads
    python3 - "$@" >"$config" <<EOF
import json, sys
print(json.dumps({
    "services": {"customer-service": $(cat "$cost_pids/customer-service.pid"), "order-service": $(cat "$cost_pids/order-service.pid")},
    "postmaster": $(head -1 "$RUN_DIR/postgres/data/postmaster.pid"),
    "beam": $(cat "$RUN_DIR/rabbitmq/rabbit.pid"),
    "pg_host": "127.0.0.1", "pg_port": $PG_PORT, "pg_password": "postgres",
    "databases": ["cost_customer_service", "cost_order_service"],
    "drain": [["cost_customer_service", "cost_order_service"], ["cost_order_service", "cost_customer_service"]],
    "threads": 2,
    "ids": {a.split("=")[0]: int(a.split("=")[1]) for a in sys.argv[1:]},
}))
EOF
}
write_config

{
    echo "# Cost per request $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "- machine: $(nproc) cores, everything on one host; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- binaries: $BIN_DIR, of commit $(git -C "$BIN_DIR" rev-parse --short HEAD 2>/dev/null || echo '(not in a checkout)'), built $(date -u -r "$BIN_DIR/customer-service" +%Y-%m-%dT%H:%M:%SZ); scripts: commit $(git rev-parse --short HEAD)"
    echo "- wrk -t 2 -c $concurrency, unpaced, ${seconds} s per timed load; pgbench -M prepared -c $concurrency -j 2"
    echo
} >"$summary"

nonce=$(date +%s)
# load NAME [IDS_FILE] [SECONDS]: one operation under wrk (at OrderService for the order
# operations), measured by cost.py.
load() {
    local name=$1 ids=${2:-} duration=${3:-$seconds} url=$customer_url
    case $name in *-order) url=$order_url ;; esac
    log "load: $name${ids:+ ($(wc -l <"$ids") ids)}"
    python3 $bench/cost.py load "$config" "$name" "$out" -- \
        wrk -t 2 -c "$concurrency" -d "${duration}s" --latency -s $bench/cost.lua "$url" -- "$name" 2 "$nonce" $ids ${ids:+"$out/$name.done-"}
}
column() { pg -d "$1" -tAc "$2"; }

# MARK: one operation at a time

load create-customer
# Half of the customers get orders, the other half is deleted at the end; all are updated.
column cost_customer_service "SELECT id FROM customers ORDER BY random()" >"$out/customers.ids"
half=$(($(wc -l <"$out/customers.ids") / 2))
head -n "$half" "$out/customers.ids" >"$out/order-customers.ids"
tail -n +"$((half + 1))" "$out/customers.ids" >"$out/delete-customers.ids"
load update-customer "$out/customers.ids"
load create-order "$out/order-customers.ids"
column cost_order_service "SELECT id FROM orders ORDER BY random()" >"$out/orders.ids"
write_config cancel-order="$(wc -l <"$out/orders.ids")" delete-customer="$(wc -l <"$out/delete-customers.ids")"
# Each id once: the load ends when the last is answered (the duration is only a bound).
load cancel-order "$out/orders.ids" 120
load delete-customer "$out/delete-customers.ids" 120

# MARK: the ceilings

# The ceilings' records: customers (with the replica of them at OrderService) and orders with
# ids md5(k) for k in 1..N, so that pgbench can name one by a number.
ceiling_records=$((16 * 8000))
PGPASSWORD=postgres psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d cost_ceiling_customer \
    -v n="$ceiling_records" -f $bench/cost-sql/setup-customer.sql >/dev/null
PGPASSWORD=postgres psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d cost_ceiling_order \
    -v n="$ceiling_records" -f $bench/cost-sql/setup-order.sql >/dev/null
ceiling() { # ceiling OPERATION DATABASE [pgbench options]
    local name=$1 database=$2; shift 2
    log "pgbench: $name"
    PGPASSWORD=$database python3 $bench/cost.py ceiling "$config" "$name-pgbench" "$out" -- \
        pgbench -h 127.0.0.1 -p "$PG_PORT" -U "$database" -n -M prepared -c "$concurrency" -j 2 "$@" \
        -D records="$ceiling_records" -D i=0 -D per_client=$((ceiling_records / concurrency)) \
        -f "$bench/cost-sql/$name.sql" "$database"
}
for database in cost_ceiling_customer cost_ceiling_order; do pg -d "$database" -c "VACUUM ANALYZE" -c "CHECKPOINT"; done
ceiling create-customer cost_ceiling_customer -T "$seconds"
ceiling update-customer cost_ceiling_customer -T "$seconds"
ceiling create-order cost_ceiling_order -T "$seconds"
# Each client cancels and deletes its own records, one after the other (more than it gets through).
ceiling cancel-order cost_ceiling_order -T "$seconds"
# As at the service, the customers' earlier events are published when they are deleted.
pg -d cost_ceiling_customer -c "UPDATE outbox SET published_at = now() WHERE published_at IS NULL" -c "VACUUM ANALYZE"
ceiling delete-customer cost_ceiling_customer -T "$seconds"

operations="create-customer update-customer delete-customer create-order cancel-order"
{
    echo "| columns | |"
    echo "| --- | --- |"
    echo "| CS, OS, PG, MQ µs | CPU µs per request of CustomerService, OrderService, all PostgreSQL processes, RabbitMQ's beam, from the load's start until replication drained |"
    echo "| wrk µs, others µs | the load generator's CPU; everything else on the machine (other work disturbs the figures) |"
    echo "| CS sw, OS sw | context switches per request, all threads of the service |"
    echo "| statements, transactions | per request, in each service's database (pg_stat_statements of the service's role: every statement, BEGIN and COMMIT included; COMMITs) |"
    echo "| WAL B | WAL bytes per request (pg_current_wal_lsn before and after) |"
    echo "| pgbench | the same transaction, prepared, same concurrency: tps, CPU µs per transaction of PostgreSQL and of pgbench, WAL bytes per transaction |"
    echo "| sum ÷ pgbench PG µs | the four processes' CPU per request against PostgreSQL's per bare transaction |"
    echo "| load | load average (1 min) before the load |"
    echo
    python3 $bench/cost.py table "$out" $operations
    echo
} >>"$summary"

# MARK: flame graphs

log "flame graphs: perf record of both services under create-customer"
wrk -t 2 -c "$concurrency" -d "$((perf_seconds + 4))s" -s $bench/cost.lua "$customer_url" -- create-customer 2 "flame-$nonce" >"$out/flame-load.txt" &
wrk_pid=$!
sleep 2
perf_pids=()
for name in customer-service order-service; do
    perf record -F 499 --call-graph "${COST_CALL_GRAPH:-dwarf}" -p "$(cat "$cost_pids/$name.pid")" -o "$out/perf-$name.data" -- sleep "$perf_seconds" 2>"$out/logs/perf-$name.log" &
    perf_pids+=($!)
done
wait "${perf_pids[@]}"
wait "$wrk_pid"
for name in customer-service order-service; do
    log "folding and drawing $name"
    perf script -i "$out/perf-$name.data" -s "$(ls -d /usr/lib/perf-core /usr/libexec/perf-core 2>/dev/null | head -1)/scripts/python/stackcollapse.py" -- --kernel \
        | swift demangle --simplified >"$out/$name.folded"
    "$VENV/bin/python" $bench/cost.py flamegraph "$out/$name.folded" "$name under create-customer, perf record -F 499 --call-graph ${COST_CALL_GRAPH:-dwarf}" >"$out/flame-$name.svg"
    perf report -i "$out/perf-$name.data" --no-children -g none --sort dso,sym --stdio --percent-limit 0 2>/dev/null \
        | swift demangle --simplified >"$out/perf-$name-symbols.txt"
    {
        echo "### $name under create-customer ($(grep -c . "$out/$name.folded") distinct stacks; flame graph: flame-$name.svg)"
        echo
        python3 $bench/cost.py profile "$out/perf-$name-symbols.txt" "$out/$name.folded"
        echo
    } >>"$summary"
done

echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$summary"
log "summary: ${summary#"$REPO_ROOT"/}"
cat "$summary"
