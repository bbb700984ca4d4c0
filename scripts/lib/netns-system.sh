# The whole system on test hosts in network namespaces (scripts/lib/netns.sh), for the partition
# drills of scripts/fault-drills. Source after common.sh, system.sh and netns.sh; needs root.
#
# Hosts, each a namespace with one address on the private bridge:
#   pg       PostgreSQL, on its bridge address (and its loopback), pg_hba open to the bridge's /24
#   mq1..3   a 3-node RabbitMQ cluster: node rabbit@mqN, one epmd per host, one shared cookie,
#            cluster_partition_handling = pause_minority, net_ticktime NSYS_TICKTIME seconds
#   cs, os   customer-service and order-service (HTTP_HOST 0.0.0.0, public port 8081/8082, admin
#            port 9081/9082), each reaching the broker through three fault proxies of its own
#   client   whatever talks to the system: the load test, the operations, verify, psql
# The root namespace has no route to any of them: everything runs through netns_exec.
#
# Each service's AMQP_URL lists the three nodes, in its own order (customer-service mq1, mq2,
# mq3; order-service mq2, mq3, mq1), by names its host resolves to its proxies: mqN-link is
# 127.0.1.N on the service's loopback, where scripts/lib/faultproxy.py passes on to mqN:5672. The
# proxies' connections to the nodes leave from the service's host, so a partition of that host
# applies to them; with no fault set they only pass bytes on. nsys_broker_faults sets latency and
# loss on all of them at once (their control files), with no restart of a service.
#
# Everything (processes, namespaces, /etc/netns entries, data directories) lives under
# NETNS_DIR and goes with nsys_down, which a caller sets as its EXIT trap; the service, broker
# and database logs are copied to .run/logs/netns-system first. nsys_up removes the leftovers of
# an earlier run that was killed (netns_cleanup_stale).

NSYS_HOSTS=(pg mq1 mq2 mq3 cs os client)
# net_ticktime of the nodes (and of rabbitmqctl): a node silent for about this long is down, so a
# partition is noticed within seconds (the default, 60, would take a minute).
NSYS_TICKTIME=${NSYS_TICKTIME:-5}
# The services' deadlines on the test hosts: the AMQP heartbeat (a broker silent for two is dead),
# and the database's TCP user timeout, connect timeout and pool wait. Short, so that a silent
# partition is noticed within seconds and a request it holds up is answered 503 within the load
# test's 5 s request deadline (with the defaults, 5 s, 5 s and 10 s, such a request waits past it).
NSYS_SERVICE_ENV=(AMQP_HEARTBEAT_MS=2000 DATABASE_TCP_USER_TIMEOUT_MS=2000 DATABASE_CONNECT_TIMEOUT_MS=2000
    DATABASE_ACQUIRE_TIMEOUT_MS=2000)
NSYS_PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
NSYS_MQ_BIN=/usr/lib/rabbitmq/bin

nsys_data() { echo "$NETNS_DIR/data"; }

# nsys_port NAME: the public port of customer-service or order-service (its admin port is + 1000).
nsys_port() { if [ "$1" = customer-service ]; then echo 8081; else echo 8082; fi; }
# nsys_host NAME: the host of customer-service (cs) or order-service (os).
nsys_host() { if [ "$1" = customer-service ]; then echo cs; else echo os; fi; }

# nsys_mq_env N: sets NSYS_MQ_ENV to the command prefix that runs a command as the rabbitmq user
# with node N's environment (inside the caller's namespace: put netns_exec HOST in front).
nsys_mq_env() {
    local n=$1 dir
    dir=$(nsys_data)/mq$n
    NSYS_MQ_ENV=(setpriv --reuid rabbitmq --regid rabbitmq --init-groups env HOME="$(nsys_data)/mq-home"
        RABBITMQ_NODENAME="rabbit@mq$n" RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25672
        RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_PID_FILE="$dir/rabbit.pid"
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel net_ticktime $NSYS_TICKTIME"
        RABBITMQ_CTL_ERL_ARGS="-kernel net_ticktime $NSYS_TICKTIME")
}

# nsys_mqctl N ARGS...: rabbitmqctl in host mqN against its own node.
nsys_mqctl() {
    local n=$1
    shift
    nsys_mq_env "$n"
    netns_exec "mq$n" "${NSYS_MQ_ENV[@]}" "$NSYS_MQ_BIN/rabbitmqctl" -n "rabbit@mq$n" "$@"
}

# nsys_psql ARGS...: psql in the client host as PostgreSQL's superuser (database postgres unless
# -d names another).
nsys_psql() {
    netns_exec client env PGPASSWORD=postgres PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -h pg -p 5432 -U postgres -d postgres "$@"
}

# nsys_client ARGS...: common-client in the client host, pointed at both services.
nsys_client() { netns_exec client "$BIN_DIR/common-client" "$@"; }

# nsys_curl ARGS...: curl in the client host.
nsys_curl() { netns_exec client curl "$@"; }

# nsys_use: from here on the caller's helpers (system.sh, scripts/fault-drills) reach the system
# in the namespaces: the services' URLs, admin_psql, admin_curl, service_running and LOG_DIR.
nsys_use() {
    export CUSTOMER_SERVICE_URL=http://cs:8081 ORDER_SERVICE_URL=http://os:8082
    export CUSTOMER_SERVICE_ADMIN_URL=http://cs:9081 ORDER_SERVICE_ADMIN_URL=http://os:9082
    LOG_DIR=$NETNS_DIR/logs
    admin_psql() { nsys_psql "$@"; }
    admin_curl() {
        local url=$1
        shift
        nsys_curl -H "Authorization: Bearer $OPERATIONS_TOKEN" "$@" "$url"
    }
    service_running() { [ -f "$NETNS_DIR/pids/$1.pid" ] && kill -0 "$(cat "$NETNS_DIR/pids/$1.pid")" 2>/dev/null; }
}

# nsys_start_postgres: initdb (once) and the server in host pg, in the background.
nsys_start_postgres() {
    local dir
    dir=$(nsys_data)/pg
    mkdir -p "$dir/sock"
    echo postgres >"$dir/pwfile"
    chown -R postgres:postgres "$dir"
    setpriv --reuid postgres --regid postgres --init-groups "$NSYS_PG_BIN/initdb" -D "$dir/data" -U postgres \
        --pwfile="$dir/pwfile" --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    echo "host all all $NETNS_SUBNET.0/24 scram-sha-256" >>"$dir/data/pg_hba.conf"
    # A throwaway server, as the test command's: nothing here needs to survive a crash of the machine.
    netns_spawn pg postgres setpriv --reuid postgres --regid postgres --init-groups "$NSYS_PG_BIN/postgres" -D "$dir/data" \
        -c listen_addresses='*' -p 5432 -c unix_socket_directories="$dir/sock" -c max_connections=300 \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off >/dev/null
}

# nsys_start_node N: RabbitMQ node rabbit@mqN in host mqN, in the background.
nsys_start_node() {
    local n=$1 dir
    dir=$(nsys_data)/mq$n
    mkdir -p "$dir/mnesia" "$dir/log"
    cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 5672
loopback_users = none
disk_free_limit.absolute = 50MB
log.file.level = info
max_message_size = 1048576
# A node cut off from the majority stops serving (its clients go to another node) instead of
# going on alone and diverging.
cluster_partition_handling = pause_minority
CONF
    echo '[].' >"$dir/enabled_plugins"
    chown -R rabbitmq:rabbitmq "$dir"
    nsys_mq_env "$n"
    netns_spawn "mq$n" "rabbit-mq$n" "${NSYS_MQ_ENV[@]}" "$NSYS_MQ_BIN/rabbitmq-server" >/dev/null
}

# nsys_node_running N: node N's broker application runs (a paused node's does not).
nsys_node_running() { nsys_mqctl "$1" eval 'rabbit:is_running().' 2>/dev/null | grep -qx true; }

# nsys_running_nodes N: the nodes node N sees running, comma-separated; "" when it does not answer.
nsys_running_nodes() {
    nsys_mqctl "$1" cluster_status --formatter json 2>/dev/null \
        | python3 -c 'import json, sys; print(",".join(sorted(json.load(sys.stdin)["running_nodes"])))' 2>/dev/null || true
}

# nsys_partitions N: the partitions node N reports (cluster_status), as JSON; "" when it does not answer.
nsys_partitions() {
    nsys_mqctl "$1" cluster_status --formatter json 2>/dev/null \
        | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin).get("partitions", {}), sort_keys=True))' 2>/dev/null || true
}

# nsys_cluster_whole: every node runs its broker and sees all three running, with no partition.
nsys_cluster_whole() {
    local n
    for n in 1 2 3; do
        [ "$(nsys_running_nodes "$n")" = "rabbit@mq1,rabbit@mq2,rabbit@mq3" ] || return 1
        [ "$(nsys_partitions "$n")" = "{}" ] || return 1
    done
}

# nsys_start_cluster: the three nodes booted at once, then mq2 and mq3 joined to mq1, then the
# contract's topology loaded through mq1.
nsys_start_cluster() {
    local n
    mkdir -p "$(nsys_data)/mq-home"
    (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(16).upper(), end="")' >"$(nsys_data)/mq-home/.erlang.cookie")
    chown -R rabbitmq:rabbitmq "$(nsys_data)/mq-home"
    chmod 400 "$(nsys_data)/mq-home/.erlang.cookie"
    for n in 1 2 3; do nsys_start_node "$n"; done
    for n in 1 2 3; do
        wait_for 120 "RabbitMQ rabbit@mq$n" nsys_mqctl "$n" await_startup --timeout 5 \
            || { tail -20 "$NETNS_DIR/logs/rabbit-mq$n.log" >&2; return 1; }
    done
    for n in 2 3; do
        { nsys_mqctl "$n" stop_app && nsys_mqctl "$n" join_cluster rabbit@mq1 && nsys_mqctl "$n" start_app; } \
            >>"$NETNS_DIR/logs/join.log" 2>&1 || { cat "$NETNS_DIR/logs/join.log" >&2; return 1; }
    done
    wait_for 60 "the three nodes to run as one cluster" nsys_cluster_whole || return 1
    cp "$REPO_ROOT/compose/rabbitmq/definitions.json" "$(nsys_data)/definitions.json"
    chown rabbitmq:rabbitmq "$(nsys_data)/definitions.json"
    nsys_mqctl 1 import_definitions "$(nsys_data)/definitions.json" >/dev/null
}

# nsys_proxy_name NAME N: the proxy through which service NAME reaches node N.
nsys_proxy_name() { echo "proxy-$(nsys_host "$1")-mq$2"; }

# nsys_start_proxies NAME: service NAME's three proxies, mqN-link (127.0.1.N:5672) to mqN:5672,
# with the names in its host's /etc/hosts.
nsys_start_proxies() {
    local name=$1 host n
    host=$(nsys_host "$name")
    for n in 1 2 3; do
        printf '127.0.1.%s\tmq%s-link\n' "$n" "$n" >>"/etc/netns/$(netns_name "$host")/hosts"
        netns_proxy "$host" "$(nsys_proxy_name "$name" "$n")" "127.0.1.$n:5672" "$(netns_addr "mq$n"):5672" >/dev/null
    done
}

# nsys_amqp_url NAME: every node through NAME's proxies, customer-service from mq1, order-service from mq2.
nsys_amqp_url() {
    local name=$1 order=(1 2 3) urls="" n
    [ "$name" = customer-service ] || order=(2 3 1)
    for n in "${order[@]}"; do urls+="${urls:+,}amqp://$name:$name@mq$n-link:5672/%2F"; done
    echo "$urls"
}

# nsys_start_service NAME [VARIABLE=VALUE...]: NAME in its host, with the variables given added to
# its environment; waits until it is ready (asked from the client host).
nsys_start_service() {
    local name=$1 host port database
    shift
    host=$(nsys_host "$name") port=$(nsys_port "$name") database=${name//-/_}
    netns_spawn "$host" "$name" env DATABASE_URL="postgres://$database:$database@pg:5432/$database" \
        AMQP_URL="$(nsys_amqp_url "$name")" "${NSYS_SERVICE_ENV[@]}" \
        HTTP_HOST=0.0.0.0 HTTP_PORT="$port" ADMIN_ADDRESS="0.0.0.0:$((port + 1000))" \
        OPERATIONS_TOKEN_FILE="$OPERATIONS_TOKEN_FILE" "$@" "$BIN_DIR/$name" >/dev/null
    wait_for 60 "$name to be ready" nsys_curl -fsS -m 2 "http://$host:$port/health/ready" \
        || { tail -20 "$NETNS_DIR/logs/$name.log" >&2; return 1; }
}

# nsys_up: the whole system, fresh: hosts, PostgreSQL and its two databases, the cluster, the
# proxies, both services. Sets BIN_DIR before (choose_binaries). Fails (after logging why) when
# a part does not come up; the caller's nsys_down trap removes what was made.
nsys_up() {
    [ "$(id -u)" -eq 0 ] || { log "the partition drills need root (they make network namespaces)"; return 1; }
    netns_cleanup_stale
    netns_up "${NSYS_HOSTS[@]}" || return 1
    mkdir -p "$(nsys_data)"
    log "test hosts up: $(netns_hosts | while read -r h; do printf '%s=%s ' "$h" "$(netns_addr "$h")"; done)"
    nsys_start_postgres || { log "PostgreSQL did not start in host pg"; return 1; }
    nsys_start_cluster || { log "the RabbitMQ cluster did not form in hosts mq1..mq3"; return 1; }
    wait_for 60 "PostgreSQL in host pg" nsys_psql -c "SELECT 1" || { tail -20 "$NETNS_DIR/logs/postgres.log" >&2; return 1; }
    local database
    for database in customer_service order_service; do
        nsys_psql -c "CREATE ROLE $database LOGIN PASSWORD '$database'" -c "CREATE DATABASE $database OWNER $database" \
            -c "REVOKE CONNECT, TEMPORARY ON DATABASE $database FROM PUBLIC" >/dev/null || return 1
    done
    nsys_start_proxies customer-service
    nsys_start_proxies order-service
    nsys_start_service customer-service || return 1
    nsys_start_service order-service || return 1
}

# nsys_down: everything nsys_up made goes (for a trap: it never fails); the logs are kept in
# .run/logs/netns-system.
nsys_down() {
    local keep=$RUN_DIR/logs/netns-system n
    if [ -d "$NETNS_DIR/logs" ]; then
        rm -rf "$keep" && mkdir -p "$keep"
        cp -r "$NETNS_DIR/logs/." "$keep/" 2>/dev/null || true
        for n in 1 2 3; do cp -r "$(nsys_data)/mq$n/log" "$keep/mq$n" 2>/dev/null || true; done
    fi
    netns_down
}

# nsys_cut_broker NAME [--one-way]: NAME's host cut from the three nodes: both ways, or with
# --one-way only what the nodes send to it (its publishes arrive, the confirms and deliveries do not).
nsys_cut_broker() {
    local host n
    host=$(nsys_host "$1")
    for n in 1 2 3; do
        if [ "${2:-}" = --one-way ]; then netns_partition --one-way "mq$n" "$host"; else netns_partition "$host" "mq$n"; fi || return
    done
}

# nsys_heal_broker NAME: undoes nsys_cut_broker NAME.
nsys_heal_broker() {
    local host n
    host=$(nsys_host "$1")
    for n in 1 2 3; do netns_heal_pair "$host" "mq$n" || return; done
}

# nsys_partition_node N: node N cut from the other two nodes (both ways); the services still reach it.
nsys_partition_node() {
    local n=$1 other
    for other in 1 2 3; do [ "$other" = "$n" ] || netns_partition "mq$n" "mq$other" || return; done
}

# nsys_heal_node N: undoes nsys_partition_node N.
nsys_heal_node() {
    local n=$1 other
    for other in 1 2 3; do [ "$other" = "$n" ] || netns_heal_pair "mq$n" "mq$other" || return; done
}

# nsys_broker_faults JSON: the faults of every service's proxies to the broker (faultproxy.py's
# control keys; '{}': none).
nsys_broker_faults() {
    local name n
    for name in customer-service order-service; do
        for n in 1 2 3; do netns_proxy_faults "$(nsys_proxy_name "$name" "$n")" "$1"; done
    done
}

# nsys_connected_node NAME: the node NAME's publisher is connected to now, from the last
# "AMQP publisher connected" of its log (mqN); "" when it never connected.
nsys_connected_node() {
    grep -F "AMQP publisher connected" "$NETNS_DIR/logs/$1.log" 2>/dev/null | tail -1 | grep -o 'mq[0-9]-link' | cut -d- -f1
}

# nsys_connection_nodes: the nodes that hold AMQP client connections now, one "USER NODE" a line
# (from the connections' Erlang pids, as every node of the cluster lists them).
nsys_connection_nodes() {
    local n
    for n in 1 2 3; do
        nsys_node_running "$n" || continue
        nsys_mqctl "$n" -q list_connections user pid 2>/dev/null | sed -n 's/^\([^ \t]*\)[ \t]*<\(rabbit@mq[0-9]\)\..*/\1 \2/p' | sort
        return
    done
}
