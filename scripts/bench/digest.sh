#!/usr/bin/env bash
# The cost of a verify digest (GET /replication/digest, 16 buckets) of 10,000 customers (9,000 rows and
# 1,000 tombstones) and of their replica, with and without the records' content hash, against
# $TEST_POSTGRES_URL in a scratch database that it drops at the end.
#
#   scripts/bench/digest.sh            # 7 runs of each query; prints each query's times, fastest first
#   RUNS=15 scripts/bench/digest.sh
#
# The SQL is what RecordVersions runs (content as RecordVersions.content(of: CustomerRecord.self)).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REPO_ROOT"

if [ -z "${TEST_POSTGRES_URL:-}" ] && [ -f .run/servers.env ]; then source .run/servers.env; fi
: "${TEST_POSTGRES_URL:?set TEST_POSTGRES_URL (scripts/local-servers start; source .run/servers.env)}"
RUNS=${RUNS:-7}
DATABASE=digest_bench_$$
URL="${TEST_POSTGRES_URL%/*}/$DATABASE"
psql -q "$TEST_POSTGRES_URL" -c "CREATE DATABASE $DATABASE"
trap 'psql -q "$TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)"' EXIT

psql -q "$URL" <<'SQL'
CREATE TABLE customers (id uuid PRIMARY KEY, name text NOT NULL, email text NOT NULL, credit_limit bigint NOT NULL,
  created_at timestamptz NOT NULL, version bigint NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE deleted_customers (id uuid PRIMARY KEY, version bigint NOT NULL, deleted_at timestamptz NOT NULL);
INSERT INTO customers SELECT gen_random_uuid(), 'Customer ' || i, 'c' || i || '@example.com', i * 100,
  date_trunc('milliseconds', clock_timestamp()), 1 + i % 5, date_trunc('milliseconds', clock_timestamp())
FROM generate_series(1, 9000) AS i;
INSERT INTO deleted_customers SELECT gen_random_uuid(), 2, date_trunc('milliseconds', clock_timestamp()) FROM generate_series(1, 1000);
CREATE TABLE replica_customers AS SELECT *, NULL::timestamptz AS deleted_at FROM customers;
ALTER TABLE replica_customers ADD PRIMARY KEY (id);
INSERT INTO replica_customers (id, version, updated_at, deleted_at) SELECT id, version, deleted_at, deleted_at FROM deleted_customers;
VACUUM ANALYZE;
SQL

content="left(md5(row(id, name, email, credit_limit, (extract(epoch FROM created_at) * 1000)::bigint, version, (extract(epoch FROM updated_at) * 1000)::bigint)::text), 16)"
tombstone="'0000000000000000'"
digest() { # $1: the term's text, $2: the records
    echo "SELECT ('x' || left(id::text, 3))::bit(12)::int >> 8 AS bucket, count(*),
        coalesce(sum(('x' || left(md5($1), 16))::bit(64)::bigint::numeric), 0)::text FROM ($2) AS records GROUP BY 1 ORDER BY 1;"
}
old_term="id::text || ':' || version || ':' || deleted"
new_term="$old_term || ':' || content"
declare -A queries=(
    ["own, without content"]="$(digest "$old_term" "SELECT id, version, false AS deleted FROM customers UNION ALL SELECT id, version, true FROM deleted_customers")"
    ["own, with content"]="$(digest "$new_term" "SELECT id, version, false AS deleted, $content AS content FROM customers UNION ALL SELECT id, version, true, $tombstone FROM deleted_customers")"
    ["replica, without content"]="$(digest "$old_term" "SELECT id, version, deleted_at IS NOT NULL AS deleted FROM replica_customers")"
    ["replica, with content"]="$(digest "$new_term" "SELECT id, version, deleted_at IS NOT NULL AS deleted, CASE WHEN deleted_at IS NULL THEN $content ELSE $tombstone END AS content FROM replica_customers")"
)
for name in "own, without content" "own, with content" "replica, without content" "replica, with content"; do
    times=$(for _ in $(seq "$RUNS"); do echo "${queries[$name]}"; done \
        | psql -q "$URL" -o /dev/null -c '\timing on' -f - | awk '/^Time:/ { print $2 }' | sort -n | tr '\n' ' ')
    printf '%-26s ms: %s\n' "$name" "$times"
done
if [ "$(psql -qAt "$URL" -c "${queries["own, with content"]}")" = "$(psql -qAt "$URL" -c "${queries["replica, with content"]}")" ]; then
    echo "own and replica digests with content: equal"
else
    echo "own and replica digests with content: DIFFERENT" >&2
    exit 1
fi
