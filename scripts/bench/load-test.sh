#!/usr/bin/env bash
# Runs the load test against the local system and says where the report is.
#
#   scripts/bench/load-test.sh [common-client load-test options...]
#
# Starts the system first (servers, databases, both services, as scripts/demo
# does) unless both services already answer at $CUSTOMER_SERVICE_URL and
# $ORDER_SERVICE_URL. Defaults: 1000 requests, concurrency 16, half of them
# orders; any option given here overrides them (e.g. --count 5000 --rate 500).
# The report goes to stdout and, with every record's timestamps, to
# .run/reports/load-test-<time>.json (LOAD_TEST_REPORT_DIR to change it);
# scripts/bench/plot-report.py draws latency and lag from that file.
#
# BUILD_CONFIGURATION=release builds optimised binaries (use it for figures;
# a system already running keeps the binaries it was started with).
# Exits non-zero when the load test failed (errors, missing or extra records).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/system.sh"
export PATH="/opt/swift/usr/bin:$PATH"

ready() { curl -fsS "$1/health/ready" >/dev/null 2>&1; }

if ready "$CUSTOMER_SERVICE_URL" && ready "$ORDER_SERVICE_URL"; then
    log "using the services already running at $CUSTOMER_SERVICE_URL and $ORDER_SERVICE_URL"
    BIN_DIR=$(build_binaries)
else
    system_up
fi

report_dir=${LOAD_TEST_REPORT_DIR:-$RUN_DIR/reports}
mkdir -p "$report_dir"
report="$report_dir/load-test-$(date +%Y%m%d-%H%M%S).json"

status=0
"$BIN_DIR/common-client" load-test --count 1000 --concurrency 16 --order-ratio 0.5 --json "$report" "$@" \
    | tee "${report%.json}.txt" || status=$?
echo
log "report: ${report#"$REPO_ROOT"/} (text: ${report%.json}.txt)"
log "picture: scripts/bench/plot-report.py ${report#"$REPO_ROOT"/}"
exit "$status"
