#!/usr/bin/env bash
# Publisher-confirm throughput: the Swift AMQP layer (amqp-bench) against the same work done
# with rabbitmq-c directly (scripts/bench/amqp_raw.c), in one run against $TEST_AMQP_URL.
#
#   scripts/bench/amqp.sh                    # 20,000 x 1 KB persistent messages, window 128, 3 rounds
#   MESSAGES=50000 WINDOW=100 ROUNDS=5 scripts/bench/amqp.sh
#
# Each round runs C then Swift, alternating, so both see the same broker state; the figure
# reported for each is the median over the rounds. Target: Swift at most 10% below C.
# Both clients are usually waiting on the broker (quorum-queue fsyncs), so the client CPU time
# printed beside each run shows the layer's own cost more steadily than msg/s on a busy machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REPO_ROOT"

if [ -z "${TEST_AMQP_URL:-}" ] && [ -f .run/servers.env ]; then source .run/servers.env; fi
: "${TEST_AMQP_URL:?set TEST_AMQP_URL (scripts/local-servers start; source .run/servers.env)}"
MESSAGES=${MESSAGES:-20000}
SIZE=${SIZE:-1024}
WINDOW=${WINDOW:-128}
BATCH=${BATCH:-1000}
ROUNDS=${ROUNDS:-3}

run_logged "$LOG_DIR/build-amqp-bench.log" "building amqp-bench (release)" \
    swift build -c release --scratch-path .build-release --product amqp-bench
BIN=$(swift build -c release --scratch-path .build-release --show-bin-path)
log "building amqp_raw"
gcc -O2 -Wall -o "$BIN/amqp_raw" scripts/bench/amqp_raw.c -lrabbitmq

result() { awk '$1 == "RESULT" { print $3 }'; }
# timed OUTFILE CMD...: runs CMD with its stdout in OUTFILE and prints its CPU seconds (user + sys).
timed() {
    local out=$1; shift
    local TIMEFORMAT='%U %S'
    { time "$@" >"$out"; } 2>&1 | awk '{ printf "%.3f\n", $1 + $2 }'
}
c_rates=() swift_rates=() c_cpu=() swift_cpu=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq "$ROUNDS"); do
    cpu=$(timed "$out" "$BIN/amqp_raw" "$TEST_AMQP_URL" "$MESSAGES" "$SIZE" "$WINDOW")
    echo "round $round $(head -1 "$out") (client CPU ${cpu} s)"
    c_rates+=("$(result <"$out")") c_cpu+=("$cpu")
    cpu=$(timed "$out" "$BIN/amqp-bench" --url "$TEST_AMQP_URL" --messages "$MESSAGES" --size "$SIZE" --window "$WINDOW" --batch "$BATCH")
    echo "round $round $(head -1 "$out") (client CPU ${cpu} s)"
    swift_rates+=("$(result <"$out")") swift_cpu+=("$cpu")
done

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
c=$(median "${c_rates[@]}")
swift=$(median "${swift_rates[@]}")
echo "rabbitmq-c (C):    $c msg/s (median of $ROUNDS), client CPU $(printf '%s\n' "${c_cpu[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') s"
echo "AMQP (Swift):      $swift msg/s (median of $ROUNDS), client CPU $(printf '%s\n' "${swift_cpu[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') s"
awk -v s="$swift" -v c="$c" 'BEGIN { printf "Swift / C:         %.3f (Swift %.1f%% %s than C; target: at most 10%% slower)\n", s / c, (s > c ? s / c - 1 : 1 - s / c) * 100, (s > c ? "faster" : "slower") }'
