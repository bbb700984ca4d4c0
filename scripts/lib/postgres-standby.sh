# A PostgreSQL primary with a synchronous streaming standby, on loopback, for
# the database failover drill of scripts/fault-drills (postgres-failover).
# Source it after common.sh and system.sh; it defines functions and paths and
# changes nothing by itself.
#
# Both clusters live under .run/pg-failover (primary/, standby/), apart from
# the local cluster of scripts/local-servers, which the drill never touches:
#
#   pg_pair_up                  a fresh primary (initdb) with the services'
#                               roles and databases, and a standby made from
#                               it with pg_basebackup -R, streaming and
#                               synchronous (synchronous_standby_names names
#                               it, synchronous_commit = on): a commit
#                               returns only once the standby has flushed it
#   pg_pair_database_url NAME   the multi-host URL of database NAME: both
#                               servers, target_session_attrs=read-write
#   pg_pair_fail_over SECONDS   kill -9 of the primary's postmaster, SECONDS
#                               of "detection", pg_ctl promote of the standby
#   pg_pair_psql DATABASE SQL...  psql as the superuser on the writable server
#   pg_pair_down                stops both (by their postmaster PIDs) and
#                               removes them
#
# Why synchronous: with asynchronous streaming, the primary answers a commit
# before the standby has the WAL, so a failover can lose the last commits
# that a client (and so the load test) already saw as 2xx. Synchronous
# replication costs one loopback round trip per commit and makes a commit
# wait while no standby is connected; it is what lets the drill demand
# "every 2xx is on the new primary". The promoted standby runs without a
# synchronous standby of its own (nothing is left to wait for): until a new
# standby is attached, a second failure would lose data.

PG_PAIR_DIR=$RUN_DIR/pg-failover
PG_PAIR_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_PAIR_PASSWORD=postgres
# Each cluster's cluster_name is failover_<node>; the walreceiver reports the
# standby's as its application_name, the name synchronous_standby_names waits for.
PG_PAIR_STANDBY_NAME=failover_standby

# pg_pair_as_postgres COMMAND...: COMMAND as the postgres user (we are root) or as ourselves.
pg_pair_as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_pair_ctl NODE ARGS...: pg_ctl on .run/pg-failover/NODE/data.
pg_pair_ctl() {
    local node=$1; shift
    pg_pair_as_postgres "$PG_PAIR_BIN/pg_ctl" -D "$PG_PAIR_DIR/$node/data" "$@"
}

# pg_pair_port NODE: the port NODE (primary or standby) listens on.
pg_pair_port() { cat "$PG_PAIR_DIR/$1/port"; }

# pg_pair_node_psql NODE SQL...: psql as the superuser on NODE, over TCP.
pg_pair_node_psql() {
    local node=$1; shift
    PGPASSWORD=$PG_PAIR_PASSWORD PGCONNECT_TIMEOUT=3 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
        -p "$(pg_pair_port "$node")" -U postgres -d postgres "$@"
}

# pg_pair_psql DATABASE SQL...: psql as the superuser on whichever of the two accepts writes.
pg_pair_psql() {
    local database=$1; shift
    PGPASSWORD=$PG_PAIR_PASSWORD PGCONNECT_TIMEOUT=3 psql -X -q -v ON_ERROR_STOP=1 \
        -d "host=127.0.0.1,127.0.0.1 port=$(pg_pair_port primary),$(pg_pair_port standby) user=postgres dbname=$database target_session_attrs=read-write" \
        "$@"
}

# pg_pair_database_url NAME: database NAME as role NAME (password NAME) on both
# servers; libpq takes the first that accepts writes.
pg_pair_database_url() {
    local name=$1
    echo "postgres://$name:$name@127.0.0.1:$(pg_pair_port primary),127.0.0.1:$(pg_pair_port standby)/$name?target_session_attrs=read-write"
}

# pg_pair_start NODE SETTING...: starts NODE's cluster with the given -c settings.
pg_pair_start() {
    local node=$1; shift
    local options
    options="-c listen_addresses=127.0.0.1 -p $(pg_pair_port "$node") -c unix_socket_directories=$PG_PAIR_DIR/$node"
    options+=" -c max_connections=200 -c cluster_name=failover_$node $*"
    pg_pair_ctl "$node" -l "$PG_PAIR_DIR/$node/server.log" -w -t 60 start -o "$options" >/dev/null \
        || { tail -20 "$PG_PAIR_DIR/$node/server.log" >&2; die "PostgreSQL $node did not start"; }
}

# pg_pair_postmaster NODE: the postmaster's PID of NODE, empty when it does not run.
pg_pair_postmaster() {
    local pid
    pid=$(head -1 "$PG_PAIR_DIR/$1/data/postmaster.pid" 2>/dev/null) || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

# pg_pair_up: the primary and its synchronous standby, both running, the
# services' databases created. Replaces what an earlier run left.
pg_pair_up() {
    pg_pair_down
    mkdir -p "$PG_PAIR_DIR/primary" "$PG_PAIR_DIR/standby"
    free_port 54360 >"$PG_PAIR_DIR/primary/port"
    free_port $(($(pg_pair_port primary) + 1)) >"$PG_PAIR_DIR/standby/port"
    echo "$PG_PAIR_PASSWORD" >"$PG_PAIR_DIR/pwfile"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$PG_PAIR_DIR"; fi
    pg_pair_as_postgres "$PG_PAIR_BIN/initdb" -D "$PG_PAIR_DIR/primary/data" -U postgres --pwfile="$PG_PAIR_DIR/pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$PG_PAIR_DIR/primary/initdb.log" \
        || { cat "$PG_PAIR_DIR/primary/initdb.log" >&2; die "initdb of the failover primary failed"; }
    rm -f "$PG_PAIR_DIR/pwfile"
    # On the command line, not in postgresql.auto.conf, so that the base backup (and so the
    # standby, once promoted) does not inherit it. initdb's pg_hba.conf already admits
    # replication connections from 127.0.0.1 with a password.
    pg_pair_start primary -c synchronous_standby_names="$PG_PAIR_STANDBY_NAME" -c synchronous_commit=on
    # Until the standby exists, a commit would wait for it: these commit locally.
    local name
    for name in customer_service order_service; do
        PGOPTIONS="-c synchronous_commit=local" pg_pair_node_psql primary -c "CREATE ROLE $name LOGIN PASSWORD '$name'" \
            -c "CREATE DATABASE $name OWNER $name" -c "REVOKE CONNECT, TEMPORARY ON DATABASE $name FROM PUBLIC" >/dev/null
    done
    # -R writes primary_conninfo (with the password) and standby.signal; -X stream copies the
    # WAL written meanwhile.
    pg_pair_as_postgres env PGPASSWORD=$PG_PAIR_PASSWORD "$PG_PAIR_BIN/pg_basebackup" \
        -d "host=127.0.0.1 port=$(pg_pair_port primary) user=postgres" \
        -D "$PG_PAIR_DIR/standby/data" -R -X stream -c fast >"$PG_PAIR_DIR/standby/basebackup.log" 2>&1 \
        || { cat "$PG_PAIR_DIR/standby/basebackup.log" >&2; die "pg_basebackup of the failover standby failed"; }
    pg_pair_start standby
    wait_for 30 "the standby to stream synchronously" pg_pair_standby_is_sync \
        || die "the standby on 127.0.0.1:$(pg_pair_port standby) does not replicate synchronously"
    log "PostgreSQL primary on 127.0.0.1:$(pg_pair_port primary), synchronous standby on 127.0.0.1:$(pg_pair_port standby) (${PG_PAIR_DIR#"$REPO_ROOT"/})"
}

# pg_pair_standby_is_sync: true when the primary sees the standby streaming as its synchronous one.
pg_pair_standby_is_sync() {
    [ "$(pg_pair_node_psql primary -tAc "SELECT sync_state FROM pg_stat_replication
        WHERE application_name = '$PG_PAIR_STANDBY_NAME' AND state = 'streaming'")" = sync ]
}

# pg_pair_kill NODE: kill -9 of NODE's postmaster and of all its processes at once, as a crash
# of its host would end them (killed alone, the postmaster leaves backends that take a while to
# notice).
pg_pair_kill() {
    local postmaster
    postmaster=$(pg_pair_postmaster "$1")
    [ -n "$postmaster" ] || return 0
    # shellcheck disable=SC2046 # one PID a word
    kill -KILL "$postmaster" $(pgrep -P "$postmaster") 2>/dev/null || true
}

# pg_pair_fail_over SECONDS: the primary crashes (kill -9); SECONDS later, the time a failover
# manager takes to decide, the standby is promoted. Returns once the new primary accepts writes.
# The moments (epoch seconds) go to .run/pg-failover/failover.times: the kill, the promote
# command, the new primary seen accepting writes.
pg_pair_fail_over() {
    local killed promoting
    killed=$(date +%s.%N)
    pg_pair_kill primary
    sleep "$1"
    promoting=$(date +%s.%N)
    pg_pair_ctl standby -w -t 60 promote >/dev/null || die "pg_ctl promote of the standby failed"
    wait_for 30 "the promoted standby to accept writes" pg_pair_standby_is_writable \
        || die "the promoted standby does not accept writes"
    echo "$killed $promoting $(date +%s.%N)" >"$PG_PAIR_DIR/failover.times"
}

pg_pair_standby_is_writable() {
    [ "$(pg_pair_node_psql standby -tAc 'SELECT pg_is_in_recovery()')" = f ]
}

# pg_pair_amend_result RESULTS_JSONL: completes the drill's row, the last line of RESULTS_JSONL
# (written by run_drill of scripts/fault-drills, which counts parked rows in the local cluster):
# parked rows counted on the pair instead, and from the load test's report, how long no write
# succeeded (the longest gap between two 2xx answers to writes, around the crash) and how long
# after the promotion the services wrote again. Prints those figures.
pg_pair_amend_result() {
    local results=$1 parked=0 name
    for name in customer_service order_service; do
        parked=$((parked + $(pg_pair_psql "$name" -tAc "SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL")))
    done
    local times
    read -r -a times <"$PG_PAIR_DIR/failover.times"
    drill_report failover "$results" "$parked" "${times[@]}"
}

# pg_pair_down: stops both clusters (fast, by pg_ctl; what does not stop is killed by its
# postmaster's PID) and removes their directories.
pg_pair_down() {
    local node
    for node in standby primary; do
        [ -n "$(pg_pair_postmaster "$node")" ] || continue
        pg_pair_ctl "$node" -m fast -w -t 30 stop >/dev/null 2>&1 || pg_pair_kill "$node"
    done
    rm -rf "$PG_PAIR_DIR"
}
