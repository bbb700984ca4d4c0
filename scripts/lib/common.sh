# Shared helpers for the scripts in scripts/. Source it; it defines functions
# and the locations of local server state, and changes nothing by itself.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN_DIR=${REPLICATION_RUN_DIR:-$REPO_ROOT/.run}
LOG_DIR=$RUN_DIR/logs

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# run_logged LOGFILE DESCRIPTION COMMAND...: runs COMMAND with its stdout and
# stderr in LOGFILE (replaced; its directory is created) instead of the
# terminal, for steps as loud as `swift build`. Prints one line to stderr,
# "==> DESCRIPTION … log: LOGFILE", ended by the seconds taken. On failure
# prints the log's error lines and its last 200 lines, and returns COMMAND's
# status (under set -e the caller stops there). Stdout stays clean, so it
# works inside $(...).
run_logged() {
    local logfile=$1 what=$2; shift 2
    mkdir -p "$(dirname "$logfile")"
    printf '==> %s … log: %s' "$what" "${logfile#"$REPO_ROOT"/}" >&2
    local start=$SECONDS status=0
    "$@" >"$logfile" 2>&1 </dev/null || status=$?
    if [ "$status" -eq 0 ]; then
        printf ' (%ss)\n' "$((SECONDS - start))" >&2
        return 0
    fi
    printf ' FAILED (exit %s, %ss)\n' "$status" "$((SECONDS - start))" >&2
    local lines errors
    lines=$(wc -l <"$logfile")
    errors=$( (grep -E 'error:' "$logfile" || true) | awk '!seen[$0]++' | wc -l)
    if [ "$lines" -le 250 ]; then
        printf -- '--- %s (%s lines) ---\n' "${logfile#"$REPO_ROOT"/}" "$lines" >&2
        cat "$logfile" >&2
    else
        if [ "$errors" -gt 0 ]; then
            printf -- '--- lines with error: in %s (%s distinct; the first 100) ---\n' "${logfile#"$REPO_ROOT"/}" "$errors" >&2
            grep -E 'error:' "$logfile" | awk '!seen[$0]++ && n++ < 100' >&2 || true
        fi
        printf -- '--- last 200 of %s lines of %s ---\n' "$lines" "${logfile#"$REPO_ROOT"/}" >&2
        tail -n 200 "$logfile" >&2
    fi
    printf -- '--- %s failed (exit %s); full output: %s ---\n' "$what" "$status" "$logfile" >&2
    return "$status"
}

# ensure_apt_packages PKG...: installs the Debian packages that are missing.
ensure_apt_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# local_servers_running: true when the local PostgreSQL and RabbitMQ both run
# (scripts/local-servers status); a script that finds them down starts them and
# stops them again at its end.
local_servers_running() {
    local status
    status=$("$REPO_ROOT/scripts/local-servers" status)
    grep -q 'postgres: running' <<<"$status" && grep -q 'rabbitmq: running' <<<"$status"
}

# ensure_venv_package NAME SPEC: pip-installs SPEC (e.g. 'schemathesis>=4,<5') into
# .run/venv, created on first use, unless the package NAME is there already.
VENV=$RUN_DIR/venv
ensure_venv_package() {
    local name=$1 spec=$2
    [ -x "$VENV/bin/pip" ] && "$VENV/bin/pip" show -q "$name" >/dev/null 2>&1 && return 0
    ensure_apt_packages python3-venv
    run_logged "$LOG_DIR/$name-install.log" "installing $name into ${VENV#"$REPO_ROOT"/}" \
        bash -c "{ [ -x '$VENV/bin/pip' ] || python3 -m venv '$VENV'; } && '$VENV/bin/pip' install -q '$spec'"
}

# drill_report COMMAND ARGS...: the fault drills' analysis (scripts/lib/drill_report.py: a
# drill's result row, the failover figures, the first confirm timeout, the table).
drill_report() { python3 "$REPO_ROOT/scripts/lib/drill_report.py" "$@"; }

# port_is_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port PREFERRED: prints PREFERRED, or the next free port after it.
free_port() {
    local port=$1
    while ! port_is_free "$port"; do port=$((port + 1)); done
    echo "$port"
}

# wait_for SECONDS DESCRIPTION COMMAND...: retries COMMAND until it succeeds.
wait_for() {
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { log "timed out after ${seconds}s waiting for $what"; return 1; }
        sleep 0.3
    done
}
