#!/usr/bin/env bash
# Compares the Swift Postgres layer with pgbench on the same work: N single-statement autocommit
# INSERT transactions on one connection, in a fresh database on $TEST_POSTGRES_URL.
#
#   scripts/bench/postgres.sh [N] [ROUNDS]    N defaults to 20000, ROUNDS to 3
#   POSTGRES_BENCH_BIN=path/to/postgres-bench scripts/bench/postgres.sh    skips the build
#
# Each round runs postgres-bench (release build) and then pgbench, emptying the table before each,
# so both see the same table size and the same background load; the best round of each is
# compared. Also prints pgbench with -M extended, which uses the same wire protocol as the Swift
# layer (parse/bind/execute with bound parameters) for reference.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REPO_ROOT"

N=${1:-20000}
ROUNDS=${2:-3}
if [ -z "${TEST_POSTGRES_URL:-}" ] && [ -f .run/servers.env ]; then
    source .run/servers.env
fi
: "${TEST_POSTGRES_URL:?is not set: run scripts/local-servers start, then source .run/servers.env}"

# with_database URL NAME: the same server and credentials, another database.
with_database() {
    local url=$1 name=$2 query=""
    case "$url" in
        postgres://* | postgresql://*) ;;
        *) echo "$url dbname=$name"; return ;;
    esac
    if [[ $url == *\?* ]]; then query="?${url#*\?}"; url=${url%%\?*}; fi
    local rest=${url#*://}
    if [[ $rest == */* ]]; then url=${url%/*}; fi
    echo "$url/$name$query"
}

if [ -n "${POSTGRES_BENCH_BIN:-}" ]; then
    BIN=$POSTGRES_BENCH_BIN # an already built release binary, to skip the build
else
    run_logged "$LOG_DIR/build-postgres-bench.log" "building postgres-bench (release)" \
        swift build -c release --scratch-path .build-release --product postgres-bench
    BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/postgres-bench"
fi

DB=postgres_bench_$$
BENCH_URL=$(with_database "$TEST_POSTGRES_URL" "$DB")
WORK=$(mktemp -d)
cleanup() {
    psql "$TEST_POSTGRES_URL" -qX -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
psql "$TEST_POSTGRES_URL" -qX -c "CREATE DATABASE $DB" >/dev/null
psql "$BENCH_URL" -qX -c "CREATE TABLE bench (id uuid PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL)" >/dev/null

cat >"$WORK/insert.sql" <<'SQL'
\set n random(1, 1000000000)
INSERT INTO bench (id, name, created_at) VALUES (gen_random_uuid(), 'name-' || :n, now());
SQL

empty_table() { psql "$BENCH_URL" -qX -c "TRUNCATE bench" >/dev/null; psql "$BENCH_URL" -qX -c "CHECKPOINT" >/dev/null 2>&1 || true; }
pgbench_tps() { pgbench -n -c 1 -t "$N" "$@" -f "$WORK/insert.sql" "$BENCH_URL" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
best() { printf '%s\n' "$@" | sort -g | tail -1; }

swift_runs=() pgbench_runs=() extended_runs=()
for round in $(seq 1 "$ROUNDS"); do
    empty_table
    line=$("$BIN" --url "$BENCH_URL" --count "$N" --warmup 500)
    swift_runs+=("$(sed -n 's/.* tps=\([0-9.]*\).*/\1/p' <<<"$line")")
    empty_table
    pgbench_runs+=("$(pgbench_tps)")
    empty_table
    extended_runs+=("$(pgbench_tps -M extended)")
    echo "round $round: swift ${swift_runs[-1]} tx/s ($line), pgbench ${pgbench_runs[-1]} tx/s, pgbench -M extended ${extended_runs[-1]} tx/s" >&2
done

SWIFT=$(best "${swift_runs[@]}")
PGBENCH=$(best "${pgbench_runs[@]}")
EXTENDED=$(best "${extended_runs[@]}")
echo "N=$N rounds=$ROUNDS (best of each)"
echo "swift postgres-bench:        $SWIFT tx/s"
echo "pgbench (-M simple):         $PGBENCH tx/s"
echo "pgbench -M extended:         $EXTENDED tx/s"
awk -v s="$SWIFT" -v p="$PGBENCH" -v e="$EXTENDED" 'BEGIN {
    printf "ratio swift/pgbench:          %.3f (target >= 0.90)\n", s / p
    printf "ratio swift/pgbench extended: %.3f\n", s / e
}'
