# The three-node RabbitMQ cluster of the node-loss drills (scripts/fault-drills):
# local servers of their own (PostgreSQL and the cluster) under .run/cluster-drills,
# on ports of their own, so the default single node, its data and whatever uses it
# stay as they are. Source after common.sh and system.sh.
#
# customer-service is given the nodes in the order 1,2,3 and order-service 2,3,1
# (AMQP_URL as a comma-separated list), so each is connected to a node of its own
# and node 3 has no client. A binary whose AMQP_URL takes one URL gets only its
# first node, and waits for that node when it goes.

CLUSTER_DIR=$RUN_DIR/cluster-drills
CLUSTER_NODES=3
CLUSTER_STARTED=false
# Whether the services' AMQP_URL takes a list (amqp_url_lists_supported sets it).
AMQP_URL_LISTS=false

# cluster_servers ARGS...: scripts/local-servers on the cluster's run directory. Its ports are
# looked for from 54429 and 26829, away from where the default servers (of every worktree on
# the machine) look: two scripts choosing free ports at once may otherwise choose the same.
# The broker's ports are below the kernel's ephemeral range (32768-60999 here): a port picked
# free in that range was taken by an outgoing connection before a node could bind it.
cluster_servers() {
    REPLICATION_RUN_DIR=$CLUSTER_DIR REPLICATION_PG_PORT=${CLUSTER_PG_PORT:-54429} \
        REPLICATION_AMQP_PORT=${CLUSTER_AMQP_PORT:-26829} "$REPO_ROOT/scripts/local-servers" "$@"
}

# cluster_ctl [--node I] ARGS...: rabbitmqctl on the cluster (default: its first running node), quietly.
cluster_ctl() { cluster_servers rabbitmqctl "$@" 2>/dev/null; }

node_name_of() { echo "rabbit-$1@localhost"; }

# cluster_up: the cluster's servers, fresh (data from an earlier run removed) unless they already
# run; its databases. From here on the services' servers are the cluster's (SERVERS_DIR).
cluster_up() {
    local status
    status=$(cluster_servers status 2>/dev/null || true)
    if grep -q 'postgres: running' <<<"$status" && grep -q "rabbitmq: running, a cluster of $CLUSTER_NODES" <<<"$status"; then
        log "the drill cluster already runs (${CLUSTER_DIR#"$REPO_ROOT"/}): using it"
    else
        cluster_servers stop >/dev/null 2>&1 || true
        rm -rf "$CLUSTER_DIR"
        CLUSTER_STARTED=true
        run_logged "$LOG_DIR/cluster-drills-servers.log" "starting PostgreSQL and a $CLUSTER_NODES-node RabbitMQ cluster for the node-loss drills" \
            cluster_servers start --rabbitmq-nodes "$CLUSTER_NODES"
    fi
    SERVERS_DIR=$CLUSTER_DIR
    create_service_database customer_service
    create_service_database order_service
}

# cluster_down: stops the cluster's servers if cluster_up started them.
cluster_down() {
    if $CLUSTER_STARTED; then cluster_servers stop >/dev/null 2>&1 || true; fi
    SERVERS_DIR=$RUN_DIR
}

# amqp_url_lists_supported BIN_DIR: sets AMQP_URL_LISTS to whether the built customer-service
# takes a comma-separated AMQP_URL (a build that does not stops at once naming AMQP_URL).
amqp_url_lists_supported() {
    local out
    out=$(AMQP_URL="amqp://probe:probe@127.0.0.1:1/%2F,amqp://probe:probe@127.0.0.1:2/%2F" \
        DATABASE_URL="postgres://probe:probe@127.0.0.1:1/probe" HTTP_PORT="$(free_port 18999)" \
        timeout -k 2 5 "$1/customer-service" 2>&1 </dev/null || true)
    if grep -q 'invalid AMQP_URL' <<<"$out"; then AMQP_URL_LISTS=false; else AMQP_URL_LISTS=true; fi
}

# cluster_amqp_url NAME FIRST: NAME's AMQP_URL: every node as NAME, from node FIRST round to the
# one before it; only node FIRST when the services take one URL.
cluster_amqp_url() {
    local name=$1 first=$2 urls="" k i
    local -a ports
    read -ra ports <<<"$(source "$CLUSTER_DIR/ports.env" && echo "$MQ_NODE_PORTS")"
    for ((k = 0; k < ${#ports[@]}; k++)); do
        i=$(((first - 1 + k) % ${#ports[@]}))
        urls+="${urls:+,}amqp://$name:$name@127.0.0.1:${ports[i]}/%2F"
        $AMQP_URL_LISTS || break
    done
    echo "$urls"
}

# cluster_complete: the first node that answers sees every node running.
cluster_complete() {
    [ "$(cluster_ctl cluster_status --formatter json \
        | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["running_nodes"]))')" = "$CLUSTER_NODES" ]
}

# cluster_all_up: starts any node that is down (it rejoins) and waits until all run together.
cluster_all_up() {
    local i
    cluster_complete && return 0
    for i in $(seq 1 "$CLUSTER_NODES"); do
        cluster_servers start-rabbitmq-node "$i" >/dev/null 2>&1 || die "could not start $(node_name_of "$i") again"
    done
    wait_for 60 "the $CLUSTER_NODES nodes to run as one cluster" cluster_complete || die "the drill cluster did not come back whole"
}

# quorum_leaders: "queue=leader" for each quorum queue, space-separated.
quorum_leaders() {
    cluster_ctl -q list_queues name type leader --formatter json \
        | python3 -c 'import json, sys
queues = sorted(json.load(sys.stdin), key=lambda q: q["name"])
print(" ".join(q["name"] + "=" + q["leader"] for q in queues if q["type"] == "quorum"))'
}

# quorum_leaders_to I: moves the leader of every quorum queue to node I (a Raft leadership
# transfer, as maintenance mode does), so a drill knows which node holds them. A transfer can be
# refused while a member catches up after a restart: asked again each second, for up to 30 s.
# Fails when some leader is elsewhere after that.
quorum_leaders_to() {
    local node deadline=$((SECONDS + 30))
    node=$(node_name_of "$1")
    until quorum_leaders_all_on "$node"; do
        [ $SECONDS -lt $deadline ] || { log "the quorum queues' leaders did not all move to $node: $(quorum_leaders)"; return 1; }
        cluster_ctl eval "[rabbit_quorum_queue:transfer_leadership(Q, '$node') || Q <- rabbit_amqqueue:list(<<\"/\">>), amqqueue:get_type(Q) =:= rabbit_quorum_queue]." >/dev/null || true
        sleep 1
    done
}
quorum_leaders_all_on() {
    local leaders
    leaders=$(quorum_leaders) && [ -n "$leaders" ] && ! tr ' ' '\n' <<<"$leaders" | grep -v "=$1\$" | grep -q .
}

# quorum_members_report: each quorum queue's type, leader and members, as rabbitmqctl lists them.
quorum_members_report() { cluster_ctl -q list_queues name type leader members; }

# publish_stall SINCE: the longest time, in seconds, that either service's outbox held a row
# without publishing anything, over rows created since SINCE (epoch seconds). Each publish ends
# a gap that began at the later of the previous publish and the oldest row still waiting.
publish_stall() {
    local since=$1 db worst=0 gap
    for db in customer_service order_service; do
        gap=$(admin_psql -d "$db" -tAc "
            WITH published AS (
                SELECT published_at,
                       lag(published_at) OVER (ORDER BY published_at, sequence) AS previous,
                       min(created_at) OVER (ORDER BY published_at DESC, sequence DESC) AS oldest_waiting
                FROM outbox
                WHERE created_at >= to_timestamp($since) AND published_at IS NOT NULL)
            SELECT coalesce(round(max(extract(epoch FROM published_at - greatest(previous, oldest_waiting)))::numeric, 2), 0)
            FROM published")
        worst=$(python3 -c "print(max($worst, $gap))")
    done
    echo "$worst"
}

# outbox_pending ADMIN_URL: the outbox backlog /replication/status reports at the admin listener ADMIN_URL.
outbox_pending() {
    admin_curl "$1/replication/status" -fsS --max-time 3 | python3 -c 'import json, sys; print(json.load(sys.stdin)["outbox"]["pending"])' \
        2>/dev/null || echo "?"
}

# first_confirm_timeout SINCE: seconds from SINCE (epoch) to the first publish that either
# service logged as failed for want of a confirm (the AMQP layer's "no publisher confirm arrived
# within …", as opposed to a connection that went with its node), to the second (the log's
# resolution); "" when there was none.
first_confirm_timeout() {
    drill_report first-confirm-timeout "$1" "$LOG_DIR/customer-service.log" "$LOG_DIR/order-service.log"
}
