#!/usr/bin/env bash
# The benchmark behind docs/benchmarks.md, in one go:
#
#   scripts/bench/benchmark.sh
#
# 1. builds the release binaries (in .build-release unless SWIFT_SCRATCH_PATH says
#    otherwise; BUILD_CONFIGURATION=debug for a quick try of the script itself);
# 2. starts its own pair of services on free ports (from 18081), with fresh
#    databases bench_customer_service / bench_order_service and a fresh RabbitMQ
#    vhost "bench", so neither the demo (8081/8082) nor the tests are touched;
# 3. the ceiling: pgbench runs the exact transaction of a create (BEGIN; INSERT
#    customer; INSERT outbox; COMMIT) at the same concurrency, on a database with
#    the same schema (bench_ceiling) that no relay drains, with prepared statements
#    as the services use them (-M prepared), and for reference unprepared (-M extended);
# 4. load tests: customers only, unpaced (creates/s vs the ceiling, and where the
#    CPU goes meanwhile: scripts/bench/cpu-split.py over 10 s of it); mixed,
#    unpaced (max sustained rate R); mixed at 0.8 R (replication lag), and at the
#    rates in BENCH_LAG_SWEEP (default "100 300 500", 20 s each); a long
#    mixed run (BENCH_LONG_COUNT, default 100000) that must lose and duplicate nothing;
#    before each, VACUUM ANALYZE and CHECKPOINT (the previous phase's debt is not counted);
#    a resync of BENCH_RESYNC_COUNT (default 100000) customers new to OrderService while a
#    mixed load runs at 100 req/s (records/s, and the live lag during it);
# 5. each service's peak RSS (VmHWM) after all of it; then stops its services.
#
# Knobs: BENCH_CONCURRENCY (16), BENCH_COUNT (20000), BENCH_LONG_COUNT (100000), BENCH_LAG_SWEEP, BENCH_RESYNC_COUNT,
# BENCH_PGBENCH_SECONDS (20), BENCH_LAG_SECONDS (30), BENCH_BIN_DIR (use these
# binaries, do not build); DATABASE_POOL_SIZE etc. are passed to the services. Results: .run/bench/<time>/ (summary.md, *.json, *.txt).
# The machine should be otherwise idle: the summary records the load average.
set -euo pipefail
case ${1:-} in
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    '') ;;
    *) printf 'error: unknown argument %s (see --help)\n' "$1" >&2; exit 1 ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/system.sh"
export PATH="/opt/swift/usr/bin:$PATH"
cd "$REPO_ROOT"

concurrency=${BENCH_CONCURRENCY:-16}
count=${BENCH_COUNT:-20000}
long_count=${BENCH_LONG_COUNT:-100000}
pgbench_seconds=${BENCH_PGBENCH_SECONDS:-20}
lag_seconds=${BENCH_LAG_SECONDS:-30}
out=$RUN_DIR/bench/$(date +%Y%m%d-%H%M%S)
bench_pids=$RUN_DIR/bench/pids
bench_logs=$out/logs
mkdir -p "$out" "$bench_pids" "$bench_logs"
summary=$out/summary.md

ensure_apt_packages librabbitmq-dev libpq-dev rabbitmq-server postgresql postgresql-contrib curl
scripts/local-servers start >/dev/null
source "$RUN_DIR/ports.env"

export SWIFT_SCRATCH_PATH=${SWIFT_SCRATCH_PATH:-$REPO_ROOT/.build-release}
export BUILD_CONFIGURATION=${BUILD_CONFIGURATION:-release}
if [ -n "${BENCH_BIN_DIR:-}" ]; then
    BIN_DIR=$BENCH_BIN_DIR    # binaries built before: repeat a run on the same code
else
    BIN_DIR=$(build_binaries)
fi

note() { echo "$*" | tee -a "$summary"; }
load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# MARK: fresh databases and vhost

# The bench's services keep their pid files and logs apart from the demo's (PID_DIR, LOG_DIR of
# scripts/lib/system.sh), so that the demo's services are neither stopped nor reused.
bench_stop() {
    PID_DIR=$bench_pids stop_service order-service
    PID_DIR=$bench_pids stop_service customer-service
}
bench_stop
trap bench_stop EXIT

log "fresh databases bench_customer_service, bench_order_service, bench_ceiling and vhost bench"
for database in bench_customer_service bench_order_service bench_ceiling; do
    admin_psql -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
    create_service_database "$database"
done
scripts/local-servers rabbitmqctl delete_vhost bench >/dev/null 2>&1 || true
scripts/local-servers rabbitmqctl add_vhost bench >/dev/null
scripts/local-servers rabbitmqctl set_permissions -p bench guest '.*' '.*' '.*' >/dev/null

# bench_start NAME PORT DATABASE: starts a service (start_service) on the bench database and
# vhost, both services as guest (so the consumer expects guest as the publisher).
bench_start() {
    local name=$1 port=$2 database=$3
    PID_DIR=$bench_pids LOG_DIR=$bench_logs CONSUMER_PUBLISHER_USER=guest start_service "$name" "$port" "$BIN_DIR" \
        "postgres://$database:$database@127.0.0.1:$PG_PORT/$database" "amqp://guest:guest@127.0.0.1:$AMQP_PORT/bench"
}
customer_port=$(free_port 18081)
bench_start customer-service "$customer_port" bench_customer_service
order_port=$(free_port $((customer_port + 1)))
bench_start order-service "$order_port" bench_order_service
export CUSTOMER_SERVICE_URL=http://127.0.0.1:$customer_port ORDER_SERVICE_URL=http://127.0.0.1:$order_port
export CUSTOMER_SERVICE_ADMIN_URL=http://127.0.0.1:$((customer_port + 1000)) ORDER_SERVICE_ADMIN_URL=http://127.0.0.1:$((order_port + 1000))

# The ceiling database: CustomerService's schema, copied, with nobody draining its outbox.
PGPASSWORD=postgres pg_dump -h 127.0.0.1 -p "$PG_PORT" -U postgres --schema-only --no-owner bench_customer_service \
    | PGPASSWORD=bench_ceiling psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U bench_ceiling -d bench_ceiling >/dev/null

{
    echo "# Benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), everything on one host"
    echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo ' (with uncommitted changes in Sources)'); binaries: $BIN_DIR, built $(date -u -r "$BIN_DIR/customer-service" +%Y-%m-%dT%H:%M:%SZ)"
    echo "- services: $BUILD_CONFIGURATION build, $CUSTOMER_SERVICE_URL and $ORDER_SERVICE_URL, defaults unless set: DATABASE_POOL_SIZE=${DATABASE_POOL_SIZE:-10} CONSUMER_CONCURRENCY=${CONSUMER_CONCURRENCY:-4} CONSUMER_BATCH_SIZE=${CONSUMER_BATCH_SIZE:-50} OUTBOX_BATCH_SIZE=${OUTBOX_BATCH_SIZE:-100} OUTBOX_CONCURRENCY=${OUTBOX_CONCURRENCY:-1} LOG_LEVEL=${LOG_LEVEL:-info}"
    echo "- concurrency $concurrency; load average at start: $(load_average)"
    echo
} >"$summary"

client=$BIN_DIR/common-client
# settle: what the previous phase left behind (dead rows, dirty buffers) is cleaned up before
# the next one, as pgbench vacuums before its runs, so a phase is not measured paying for
# the one before (on this machine that debt raised the lag p50 at 0.8 R from ~9 to ~12 ms).
settle() {
    local database
    for database in bench_customer_service bench_order_service; do
        PGPASSWORD=postgres psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$database" -c "VACUUM ANALYZE"
    done
    admin_psql -c "CHECKPOINT"
}
# The throughput and lag phases create only, so their figures compare with the earlier ones in
# docs/benchmarks.md; the long run has the load test's default mix of changes (updates, deletes, cancels).
creates_only="--update-ratio 0 --delete-ratio 0 --cancel-ratio 0"

# load_test NAME ARGS...: one load test; its JSON and text go to $out/NAME.*
load_test() {
    local name=$1; shift
    log "load test: $name ($*)"
    local status=0
    "$client" load-test --concurrency "$concurrency" --timeout 120 --json "$out/$name.json" "$@" >"$out/$name.txt" || status=$?
    cat "$out/$name.txt"
    note "- $name: $(head -2 "$out/$name.txt" | tail -1 | sed 's/^ *//'), result $(grep -o 'result: .*' "$out/$name.txt" | cut -d' ' -f2), load average after: $(load_average)"
    return $status
}
json_field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {'r': r}))" "$@"; }

# MARK: 1. the ceiling and creates/s

cat >"$out/create-customer.sql" <<'SQL'
BEGIN;
INSERT INTO customers (id, name, email, credit_limit, request_id, created_at, updated_at)
SELECT gen_random_uuid(), 'pgbench', 'pgbench-' || gen_random_uuid() || '@load.example', 0, 'pgbench', now.at, now.at
FROM (SELECT date_trunc('milliseconds', clock_timestamp()) AS at) AS now
RETURNING created_at;
INSERT INTO outbox (event_id, event_type, exchange, payload, request_id, headers)
VALUES (gen_random_uuid(), 'customer.created', 'customer.events',
        '{"createdAt":"2026-11-21T18:00:00.123Z","creditLimit":0,"email":"pgbench@load.example","id":"00000000-0000-0000-0000-000000000000","name":"pgbench","version":1,"updatedAt":"2026-11-21T18:00:00.123Z"}',
        'pgbench', '{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'::jsonb)
RETURNING sequence;
COMMIT;
SQL
# pgbench_ceiling MODE: the create transaction under pgbench -M MODE; prints its tps.
pgbench_ceiling() {
    local mode=$1
    log "pgbench: the create transaction, -M $mode, $concurrency clients, ${pgbench_seconds}s"
    PGPASSWORD=bench_ceiling pgbench -h 127.0.0.1 -p "$PG_PORT" -U bench_ceiling -n -M "$mode" \
        -c "$concurrency" -j 2 -T "$pgbench_seconds" -f "$out/create-customer.sql" bench_ceiling >"$out/pgbench-$mode.txt" 2>&1
    cat "$out/pgbench-$mode.txt" >&2
    note "- pgbench -M $mode: $(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out/pgbench-$mode.txt" | head -1) tps ($(grep 'latency average' "$out/pgbench-$mode.txt")), load average after: $(load_average)" >&2
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out/pgbench-$mode.txt" | head -1
}
# The services prepare their statements (see PreparedStatements), so the same transaction
# with prepared statements is the ceiling they are held to.
ceiling=$(pgbench_ceiling prepared)
ceiling_unprepared=$(pgbench_ceiling extended)

# records: customers plus orders created so far in the bench databases.
records() {
    local total=0 table database
    for table in customers:bench_customer_service orders:bench_order_service; do
        database=${table#*:}
        total=$((total + $(PGPASSWORD=postgres psql -X -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$database" -c "SELECT count(*) FROM ${table%%:*}")))
    done
    echo "$total"
}
# cpu_window: CPU per component over 10 s, starting 3 s into a load test.
cpu_window() {
    sleep 3
    local first last
    first=$(records)
    python3 scripts/bench/cpu-split.py snapshot >"$out/cpu-before.json"
    sleep 10
    python3 scripts/bench/cpu-split.py snapshot >"$out/cpu-after.json"
    last=$(records)
    {
        echo "CPU per component over 10 s of customers-unpaced ($((last - first)) customers created and replicated meanwhile):"
        echo
        python3 scripts/bench/cpu-split.py diff "$out/cpu-before.json" "$out/cpu-after.json" $((last - first))
    } >"$out/cpu-split.md"
}

settle
cpu_window &
cpu_window_pid=$!
load_test customers-unpaced --count "$count" --order-ratio 0 $creates_only || true
wait "$cpu_window_pid" || true
creates=$(json_field "$out/customers-unpaced.json" "round(r['operations']['createCustomer']['requestsPerSecond'], 1)")
replicated=$(json_field "$out/customers-unpaced.json" "round(r['replicatedPerSecond'], 1)")
note "- end-to-end customer creates/s: $creates = $(python3 -c "print(round(100*$creates/$ceiling, 1))")% of the pgbench ceiling with prepared statements ($(python3 -c "print(round(100*$creates/$ceiling_unprepared, 1))")% of the unprepared one); replicated to OrderService as well: $replicated/s = $(python3 -c "print(round(100*$replicated/$ceiling, 1))")%"
if [ -f "$out/cpu-split.md" ]; then
    { echo; cat "$out/cpu-split.md"; echo; } | tee -a "$summary"
fi

# MARK: 2. max sustained mixed rate, and lag at 80% of it

settle
load_test mixed-unpaced --count "$count" --order-ratio 0.5 $creates_only || true
# Sustained: what replication kept up with too (records until the last replica row), not just what HTTP accepted.
max_rate=$(json_field "$out/mixed-unpaced.json" "round(min(r['requestsPerSecond'], r['replicatedPerSecond']), 1)")
lag_rate=$(python3 -c "print(round(0.8*$max_rate))")
note "- max sustained mixed create rate R = $max_rate records/s (accepted and replicated); lag run at 0.8 R = $lag_rate req/s"
settle
load_test mixed-80pct --count $((lag_rate * lag_seconds)) --rate "$lag_rate" --order-ratio 0.5 $creates_only || true
for direction in customersToOrderService ordersToCustomerService; do
    note "  - lag $direction: $(json_field "$out/mixed-80pct.json" "'p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms over %d records' % tuple(r['$direction']['lagMs'][k] for k in ['p50','p90','p99','max','count'])")"
done

# The lag below 0.8 R: where it starts to grow.
for rate in ${BENCH_LAG_SWEEP-100 300 500}; do
    settle
    load_test "lag-at-$rate" --count $((rate * 20)) --rate "$rate" --order-ratio 0.5 $creates_only || true
    note "  - lag at $rate req/s: $(json_field "$out/lag-at-$rate.json" "'; '.join('%s p50 %.1f ms, p99 %.1f ms' % (d, r[d]['lagMs']['p50'], r[d]['lagMs']['p99']) for d in ['customersToOrderService', 'ordersToCustomerService'])")"
done

# MARK: 3. the long run

# table_sizes: the rows of the tables that only grow without retention, in both bench databases.
table_sizes() {
    local database sizes=()
    for database in bench_customer_service bench_order_service; do
        sizes+=("$database: $(PGPASSWORD=postgres psql -X -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$database" -c \
            "SELECT 'outbox ' || (SELECT count(*) FROM outbox) || ', inbox ' || (SELECT count(*) FROM inbox) || ', idempotency keys ' || (SELECT count(*) FROM idempotency_keys)")")
    done
    local IFS=';'
    echo "${sizes[*]}"
}
settle
note "  - table sizes before the long run (retention: OUTBOX_RETENTION=${OUTBOX_RETENTION:-7d}, INBOX_RETENTION=${INBOX_RETENTION:-7d}): $(table_sizes)"
load_test long-run --count "$long_count" --order-ratio 0.5 || true
note "  - table sizes after it: $(table_sizes)"
note "  - long run: $(json_field "$out/long-run.json" "'%d customers and %d orders created, %d/%d changed; missing %d/%d; stale %d/%d; revived %d/%d; replica = source: %s/%s; failed requests %d; passed %s' % (r['customersToOrderService']['created'], r['ordersToCustomerService']['created'], r['customersToOrderService']['changed'], r['ordersToCustomerService']['changed'], len(r['customersToOrderService']['missing']), len(r['ordersToCustomerService']['missing']), len(r['customersToOrderService']['stale']), len(r['ordersToCustomerService']['stale']), len(r['customersToOrderService']['revived']), len(r['ordersToCustomerService']['revived']), r['customersToOrderService']['replicaDigest']==r['customersToOrderService']['sourceDigest'], r['ordersToCustomerService']['replicaDigest']==r['ordersToCustomerService']['sourceDigest'], sum(r['errors'].values()), r['passed'])")"
note "  - long run, replication lag p50/p99 ms: customer creates $(json_field "$out/long-run.json" "'%s/%s' % ((r['customersToOrderService']['lagMs'] or {}).get('p50'), (r['customersToOrderService']['lagMs'] or {}).get('p99'))"), customer changes $(json_field "$out/long-run.json" "'%s/%s' % ((r['customersToOrderService']['changeLagMs'] or {}).get('p50'), (r['customersToOrderService']['changeLagMs'] or {}).get('p99'))"), order creates $(json_field "$out/long-run.json" "'%s/%s' % ((r['ordersToCustomerService']['lagMs'] or {}).get('p50'), (r['ordersToCustomerService']['lagMs'] or {}).get('p99'))"), order changes $(json_field "$out/long-run.json" "'%s/%s' % ((r['ordersToCustomerService']['changeLagMs'] or {}).get('p50'), (r['ordersToCustomerService']['changeLagMs'] or {}).get('p99'))")"

# MARK: 4. a resync under live load

# BENCH_RESYNC_COUNT customers that OrderService never heard of (inserted by SQL, with no
# event: a new subscriber's situation) are resynced to it while a paced mixed load runs;
# the load's lag is the live replication's lag during the resync, beside lag-at-100 without.
resync_count=${BENCH_RESYNC_COUNT:-100000}
if [ "$resync_count" -gt 0 ]; then
    settle
    log "resync: $resync_count customers inserted by SQL, unknown to OrderService"
    PGPASSWORD=postgres psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench_customer_service -c \
        "INSERT INTO customers (id, name, email, credit_limit, request_id, created_at, updated_at)
         SELECT gen_random_uuid(), 'resync ' || n, 'resync-' || n || '-' || gen_random_uuid() || '@load.example', n, 'bench-resync',
                date_trunc('milliseconds', clock_timestamp()), date_trunc('milliseconds', clock_timestamp())
         FROM generate_series(1, $resync_count) AS n" >/dev/null
    settle
    live() { PGPASSWORD=postgres psql -X -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" -c "$2"; }
    load_test resync-live-load --count 6000 --rate 100 --order-ratio 0.5 >/dev/null &
    load_pid=$!
    sleep 3
    started=$(date +%s.%N)
    "$client" resync --to order-service --json >"$out/resync.json"
    sent_at=$(date +%s.%N)
    # Applied: every inserted customer is in OrderService's replica.
    wait_for 600 "OrderService's replica to hold the resynced customers" bash -c \
        "[ \$(PGPASSWORD=postgres psql -X -qAt -h 127.0.0.1 -p $PG_PORT -U postgres -d bench_order_service -c \"SELECT count(*) FROM replica_customers WHERE name LIKE 'resync %'\") -ge $resync_count ]"
    applied_at=$(date +%s.%N)
    wait "$load_pid" || true
    total=$(json_field "$out/resync.json" "r['total']")
    note "- resync of $total customers to order-service (all of bench_customer_service; $resync_count of them new to it) during a mixed load at 100 req/s: sent in $(python3 -c "print(round($sent_at - $started, 1))") s ($(python3 -c "print(round($total / ($sent_at - $started)))") records/s), applied in $(python3 -c "print(round($applied_at - $started, 1))") s ($(python3 -c "print(round($total / ($applied_at - $started)))") records/s)"
    note "  - live lag during it: $(json_field "$out/resync-live-load.json" "'; '.join('%s p50 %.1f ms, p99 %.1f ms, max %.1f ms' % (d, r[d]['lagMs']['p50'], r[d]['lagMs']['p99'], r[d]['lagMs']['max']) for d in ['customersToOrderService', 'ordersToCustomerService'])"); missing $(json_field "$out/resync-live-load.json" "len(r['customersToOrderService']['missing']) + len(r['ordersToCustomerService']['missing'])"), passed $(json_field "$out/resync-live-load.json" "r['passed']")"
fi

# MARK: 5. memory

for name in customer-service order-service; do
    pid=$(cat "$bench_pids/$name.pid")
    note "- $name peak RSS (VmHWM): $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status"), now (VmRSS): $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")"
done

python3 "$REPO_ROOT/scripts/bench/plot-report.py" "$out/mixed-80pct.json" -o "$out/mixed-80pct.svg" >/dev/null && note "- picture: $out/mixed-80pct.svg"
log "summary: ${summary#"$REPO_ROOT"/}"
cat "$summary"
