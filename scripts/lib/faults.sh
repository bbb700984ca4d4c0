# The faults of the fault drills (scripts/fault-drills) and of the chaos run (scripts/chaos).
# Each fault has a start and a stop, so that faults can overlap. Source after common.sh,
# system.sh and cluster.sh; it defines functions and changes nothing by itself.
#
#   kill_service NAME                       kill -9 of a service (the caller starts it again)
#   hold_replica_lock [DATABASE [TABLE]]    a replica table locked (ACCESS EXCLUSIVE) by a
#   release_replica_lock [DATABASE]         session of its own, until released
#   fault_node_down kill|stop I             a RabbitMQ cluster node killed (kill -9) or stopped
#   fault_node_up I                         ... and started again (it rejoins)
#   fault_broker_app_stop I / fault_broker_app_start I
#                                           rabbitmqctl stop_app / start_app on node I: the
#                                           Erlang node stays, the broker application goes
#   fault_memory_alarm_raise I / fault_memory_alarm_lift I
#                                           node I's memory high watermark set far below its use
#                                           (every publisher of the cluster is blocked) / back
#   fault_postgres_stop / fault_postgres_start
#   link_up NAME LISTEN TARGET / links_down a fault proxy (scripts/lib/faultproxy.py) between a
#                                           client and a server, on 127.0.0.1 ports
#   link_latency NAME MS, link_loss NAME FRACTION, link_cut NAME, link_partition NAME,
#   link_heal NAME                          what the link does until link_heal
#
# The servers are those the services use: the drill cluster's (cluster_servers) once SERVERS_DIR
# is its directory, else the local servers (scripts/local-servers).

LINKS_DIR=$RUN_DIR/fault-links
# The memory high watermark of a node without the alarm (RabbitMQ's default).
FAULT_MEMORY_WATERMARK=0.4

# fault_servers ARGS...: scripts/local-servers on the servers the services use.
fault_servers() {
    if [ "$SERVERS_DIR" = "${CLUSTER_DIR:-}" ]; then cluster_servers "$@"; else "$REPO_ROOT/scripts/local-servers" "$@"; fi
}

# kill_service NAME: kill -9 of NAME (reaped quietly when this shell started it).
kill_service() {
    local pid
    pid=$(cat "$PID_DIR/$1.pid")
    kill -KILL "$pid"
    rm -f "$PID_DIR/$1.pid"
    wait "$pid" 2>/dev/null || true
}

# hold_replica_lock [DATABASE [TABLE]]: TABLE of DATABASE (default: OrderService's replica
# table) locked (ACCESS EXCLUSIVE) by a session of its own in the background, application_name
# fault-lock-DATABASE, until release_replica_lock DATABASE. Sets REPLICA_LOCK to that psql's PID.
hold_replica_lock() {
    local database=${1:-order_service} table=${2:-replica_customers}
    PGAPPNAME=fault-lock-$database admin_psql -d "$database" \
        -c "BEGIN; LOCK TABLE $table IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3600); COMMIT;" >/dev/null 2>&1 &
    REPLICA_LOCK=$!
    wait_for 10 "the lock on $database's $table" replica_lock_granted "$database"
}
replica_lock_granted() {
    [ "$(admin_psql -tAc "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE a.application_name = 'fault-lock-${1:-order_service}' AND l.granted AND l.mode = 'AccessExclusiveLock'")" -gt 0 ]
}
# release_replica_lock [DATABASE]: ends the lock's session (its psql then exits).
release_replica_lock() {
    local database=${1:-order_service}
    admin_psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fault-lock-$database'" >/dev/null
    if [ -n "${REPLICA_LOCK:-}" ]; then wait "$REPLICA_LOCK" 2>/dev/null || true; fi
    REPLICA_LOCK=""
}

# fault_node_down kill|stop I: kill -9 (or a graceful stop) of cluster node I.
fault_node_down() { fault_servers "$1-rabbitmq-node" "$2" >/dev/null 2>&1; }
# fault_node_up I: cluster node I started again; returns once it answers (it rejoins the cluster).
fault_node_up() { fault_servers start-rabbitmq-node "$1" >/dev/null 2>&1; }

fault_broker_app_stop() { fault_servers rabbitmqctl --node "$1" stop_app >/dev/null 2>&1; }
fault_broker_app_start() { fault_servers rabbitmqctl --node "$1" start_app >/dev/null 2>&1; }

fault_memory_alarm_raise() { fault_servers rabbitmqctl --node "$1" set_vm_memory_high_watermark 0.000001 >/dev/null 2>&1; }
fault_memory_alarm_lift() {
    fault_servers rabbitmqctl --node "$1" set_vm_memory_high_watermark "$FAULT_MEMORY_WATERMARK" >/dev/null 2>&1
}

fault_postgres_stop() { fault_servers stop-postgres >/dev/null 2>&1; }
fault_postgres_start() { fault_servers start-postgres >/dev/null 2>&1; }

# link_up NAME LISTEN_PORT TARGET_PORT: a fault proxy from 127.0.0.1:LISTEN_PORT to
# 127.0.0.1:TARGET_PORT, passing everything on until told otherwise; its PID in
# LINKS_DIR/NAME.pid, its control file LINKS_DIR/NAME.json, its log LOG_DIR/link-NAME.log.
link_up() {
    local name=$1 listen=$2 target=$3
    mkdir -p "$LINKS_DIR" "$LOG_DIR"
    echo '{}' >"$LINKS_DIR/$name.json"
    python3 "$REPO_ROOT/scripts/lib/faultproxy.py" --listen "127.0.0.1:$listen" --target "127.0.0.1:$target" \
        --control "$LINKS_DIR/$name.json" --seed "${FAULT_SEED:-0}" >>"$LOG_DIR/link-$name.log" 2>&1 </dev/null &
    echo $! >"$LINKS_DIR/$name.pid"
    wait_for 10 "the link $name on port $listen" link_listening "$listen"
}
link_listening() { ! port_is_free "$1"; }

# link_set NAME JSON: the faults of link NAME (faultproxy.py's keys), written whole at once.
link_set() {
    echo "$2" >"$LINKS_DIR/$1.json.new"
    mv -f "$LINKS_DIR/$1.json.new" "$LINKS_DIR/$1.json"
}
link_pid() { cat "$LINKS_DIR/$1.pid"; }

# link_latency NAME MS: every chunk, both ways, passed on MS later (a round trip 2 x MS longer).
link_latency() { link_set "$1" "{\"delay_ms\": $2}"; }
# link_loss NAME FRACTION: that fraction of the chunks held back a retransmission's 200 ms.
link_loss() { link_set "$1" "{\"loss\": $2, \"rto_ms\": 200}"; }
# link_cut NAME: open connections reset, new ones refused (the path crashed).
link_cut() { link_set "$1" '{"cut": true}'; }
# link_partition NAME: a silent partition, both directions: the proxy is stopped (SIGSTOP), so
# every open connection and every new one (the kernel still completes its handshake) passes
# nothing either way and is never closed, until link_heal.
link_partition() { kill -STOP "$(link_pid "$1")"; }
# link_heal NAME: the link passes everything on again, at once.
link_heal() {
    kill -CONT "$(link_pid "$1")" 2>/dev/null || true
    link_set "$1" '{}'
}

# links_down: every link of LINKS_DIR healed and its proxy stopped (by its PID).
links_down() {
    local file pid
    for file in "$LINKS_DIR"/*.pid; do
        [ -f "$file" ] || continue
        pid=$(cat "$file")
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        wait_for 10 "the link $(basename "$file" .pid) to stop" bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$file"
    done
}
