# Functions that bring the two services up on top of the local servers, for
# scripts/demo and scripts/bench/load-test.sh. Source after common.sh.

PID_DIR=$RUN_DIR/pids
# The run directory of the local servers the services use (scripts/local-servers with
# REPLICATION_RUN_DIR): RUN_DIR's, unless a caller points it elsewhere (the cluster drills).
SERVERS_DIR=${SERVERS_DIR:-$RUN_DIR}
CUSTOMER_PORT=${CUSTOMER_SERVICE_PORT:-8081}
ORDER_PORT=${ORDER_SERVICE_PORT:-8082}
export CUSTOMER_SERVICE_URL=${CUSTOMER_SERVICE_URL:-http://127.0.0.1:$CUSTOMER_PORT}
export ORDER_SERVICE_URL=${ORDER_SERVICE_URL:-http://127.0.0.1:$ORDER_PORT}
# Each service's admin listener (the operations, /metrics) is on its port + 1000.
export CUSTOMER_SERVICE_ADMIN_URL=${CUSTOMER_SERVICE_ADMIN_URL:-http://127.0.0.1:$((CUSTOMER_PORT + 1000))}
export ORDER_SERVICE_ADMIN_URL=${ORDER_SERVICE_ADMIN_URL:-http://127.0.0.1:$((ORDER_PORT + 1000))}

# The operations token of the services started from here: made once under .run/ (readable by
# its owner only), given to the services as OPERATIONS_TOKEN_FILE and to common-client as
# OPERATIONS_TOKEN.
OPERATIONS_TOKEN_FILE=$RUN_DIR/operations-token
ensure_operations_token() {
    if [ ! -s "$OPERATIONS_TOKEN_FILE" ]; then
        mkdir -p "$RUN_DIR"
        (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$OPERATIONS_TOKEN_FILE")
    fi
    OPERATIONS_TOKEN=$(cat "$OPERATIONS_TOKEN_FILE")
    export OPERATIONS_TOKEN
}
ensure_operations_token

# admin_curl URL [CURL ARGS...]: curl with the operations token, for an admin listener.
admin_curl() {
    local url=$1
    shift
    curl -H "Authorization: Bearer $OPERATIONS_TOKEN" "$@" "$url"
}

# admin_psql SQL...: runs SQL as the local cluster's superuser.
admin_psql() {
    source "$SERVERS_DIR/ports.env"
    PGPASSWORD=postgres psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"
}

# create_service_database NAME: a role NAME (password NAME) owning database NAME,
# which only that role (and the superuser) may connect to. Idempotent.
create_service_database() {
    local name=$1
    admin_psql -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$name') THEN
            CREATE ROLE $name LOGIN PASSWORD '$name';
        END IF; END \$\$;"
    if ! admin_psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
        admin_psql -c "CREATE DATABASE $name OWNER $name"
        admin_psql -c "REVOKE CONNECT, TEMPORARY ON DATABASE $name FROM PUBLIC"
    fi
}

# build_executables SWIFT_BUILD_OPTION...: `swift build` of each executable in turn.
build_executables() {
    local product
    for product in customer-service order-service common-client; do
        swift build "$@" --product "$product" || return
    done
}

# build_binaries: builds the executables; prints their directory (nothing else
# on stdout: the compiler's output goes to .run/logs/build-CONFIGURATION.log,
# shown when the build fails). Fails when the build does.
# BUILD_CONFIGURATION (debug) and SWIFT_SCRATCH_PATH (SwiftPM's default .build) choose where.
build_binaries() {
    local configuration=${BUILD_CONFIGURATION:-debug}
    local scratch=()
    [ -z "${SWIFT_SCRATCH_PATH:-}" ] || scratch=(--scratch-path "$SWIFT_SCRATCH_PATH")
    local where=${SWIFT_SCRATCH_PATH:+ in ${SWIFT_SCRATCH_PATH#"$REPO_ROOT"/}}
    # Callers use $(build_binaries), where set -e does not apply: hence the explicit returns.
    (cd "$REPO_ROOT" && run_logged "$LOG_DIR/build-$configuration.log" "building the services and the client ($configuration$where)" \
        build_executables "${scratch[@]}" -c "$configuration") || return
    (cd "$REPO_ROOT" && swift build "${scratch[@]}" -c "$configuration" --show-bin-path)
}

service_running() { [ -f "$PID_DIR/$1.pid" ] && kill -0 "$(cat "$PID_DIR/$1.pid")" 2>/dev/null; }

# start_service NAME PORT BIN_DIR [DATABASE_URL [AMQP_URL]]: starts customer-service or
# order-service in the background, on its database in the local cluster and on the local
# broker's first node (as NAME) unless DATABASE_URL or AMQP_URL (empty: the default) name others.
# Its admin listener is on PORT + 1000, with the token of ensure_operations_token.
start_service() {
    local name=$1 port=$2 bin=$3
    local database=${name//-/_}
    service_running "$name" && return 0
    source "$SERVERS_DIR/ports.env"
    local database_url=${4:-postgres://$database:$database@127.0.0.1:$PG_PORT/$database}
    # Every node of a local cluster (scripts/local-servers start --rabbitmq-nodes 3), else the one.
    local node_port node_urls=()
    for node_port in ${MQ_NODE_PORTS:-$AMQP_PORT}; do node_urls+=("amqp://$name:$name@127.0.0.1:$node_port/%2F"); done
    local amqp_url
    amqp_url=${5:-$(IFS=,; echo "${node_urls[*]}")}
    mkdir -p "$PID_DIR" "$LOG_DIR"
    log "starting $name on 127.0.0.1:$port (log: ${LOG_DIR#"$REPO_ROOT"/}/$name.log)"
    DATABASE_URL=$database_url \
    AMQP_URL=$amqp_url \
    HTTP_HOST=127.0.0.1 HTTP_PORT=$port \
    ADMIN_ADDRESS=127.0.0.1:$((port + 1000)) OPERATIONS_TOKEN_FILE=$OPERATIONS_TOKEN_FILE \
        nohup "$bin/$name" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$PID_DIR/$name.pid"
    wait_for 60 "$name to be ready" curl -fsS "http://127.0.0.1:$port/health/ready" \
        || { tail -20 "$LOG_DIR/$name.log" >&2; die "$name did not become ready"; }
}

# stop_service NAME: SIGTERM, then waits for the graceful shutdown.
stop_service() {
    local name=$1
    if service_running "$name"; then
        local pid
        pid=$(cat "$PID_DIR/$name.pid")
        log "stopping $name"
        kill -TERM "$pid"
        wait_for 30 "$name to stop" bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_DIR/$name.pid"
}

# choose_binaries: sets BIN_DIR: REPLICATION_BIN_DIR when set (the binaries of an earlier build,
# say of another checkout; nothing is built), else build_binaries.
choose_binaries() {
    if [ -n "${REPLICATION_BIN_DIR:-}" ]; then
        BIN_DIR=$REPLICATION_BIN_DIR
        [ -x "$BIN_DIR/customer-service" ] && [ -x "$BIN_DIR/order-service" ] && [ -x "$BIN_DIR/common-client" ] \
            || die "REPLICATION_BIN_DIR=$BIN_DIR lacks customer-service, order-service or common-client"
    else
        BIN_DIR=$(build_binaries)
    fi
}

# system_up: servers, databases, both services. Sets BIN_DIR (choose_binaries).
system_up() {
    ensure_apt_packages librabbitmq-dev libpq-dev rabbitmq-server postgresql curl
    "$REPO_ROOT/scripts/local-servers" start
    create_service_database customer_service
    create_service_database order_service
    choose_binaries
    start_service customer-service "$CUSTOMER_PORT" "$BIN_DIR"
    start_service order-service "$ORDER_PORT" "$BIN_DIR"
}

# system_down: both services, then the servers.
system_down() {
    stop_service order-service
    stop_service customer-service
    "$REPO_ROOT/scripts/local-servers" stop
}
