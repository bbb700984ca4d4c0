# Test hosts in network namespaces, for the partition drills: each host is a namespace with
# one address on a private bridge, and faults are firewall rules inside the hosts. Source after
# common.sh; needs root, `ip` and `iptables` (either backend). Defines functions only.
#
# The bridge lives in a namespace of its own (the "switch"), joined to each host by a veth pair
# made directly between the two namespaces, so nothing is ever added to the root namespace: no
# link, no address, no route, no firewall rule. That also keeps the host's own firewall out of
# the way (with br_netfilter loaded, a bridge in the root namespace would pass its traffic
# through the root FORWARD chain, whose policy Docker sets to DROP), and lets two runs use the
# same subnet at once, since their bridges never meet.
#
# Names: every namespace of a run is "$NETNS_TAG-$NETNS_RUN-…" (the switch "…-sw", a host
# "…-HOST"), so netns_cleanup finds a run's leftovers by that prefix, and netns_cleanup_stale
# those of every run whose owning process is gone. NETNS_RUN defaults to the PID of the shell
# that sourced this file; a caller that tears down from another process (scripts/local-servers
# stop) sets it itself.
#
# A caller sets `trap netns_down EXIT` before netns_up; what a SIGKILL leaves behind, the next
# run's netns_cleanup_stale removes (processes, namespaces, /etc/netns entries).
#
# Faults (netns_partition, netns_isolate, netns_flap) drop packets at the receiver's INPUT, in
# a chain of ours: the sender sees silence, as on a real network, never the EPERM that a DROP in
# its own OUTPUT chain would give it. Latency, loss and stalls go through scripts/lib/faultproxy.py
# (this kernel has no netem).

NETNS_TAG=${NETNS_TAG:-rpl}
NETNS_RUN=${NETNS_RUN:-$$}
# The first three octets of the bridge's /24; hosts get .11, .12, … in the order they are added.
NETNS_SUBNET=${NETNS_SUBNET:-10.231.0}
NETNS_DIR=${NETNS_DIR:-$RUN_DIR/netns/$NETNS_TAG-$NETNS_RUN}
# The chain of ours inside each host, jumped to first from INPUT.
NETNS_CHAIN=NETNS-FAULTS

netns_prefix() { echo "$NETNS_TAG-$NETNS_RUN"; }
netns_switch() { echo "$(netns_prefix)-sw"; }

# netns_name HOST: the namespace of HOST.
netns_name() { echo "$(netns_prefix)-$1"; }

# netns_hosts: the hosts of this run, one a line, in the order they were added.
netns_hosts() { [ -f "$NETNS_DIR/hosts" ] && cut -d' ' -f1 "$NETNS_DIR/hosts"; }

# netns_addr HOST: HOST's address on the bridge.
netns_addr() {
    local addr
    addr=$(awk -v h="$1" '$1 == h { print $2 }' "$NETNS_DIR/hosts" 2>/dev/null)
    [ -n "$addr" ] || { log "netns: no host named $1"; return 1; }
    echo "$addr"
}

# netns_up HOST...: the switch (once) and one host per name: a namespace with loopback up and
# eth0 on the bridge, and an /etc/hosts (bind-mounted by `ip netns exec`) that names every host
# of the run, so a RabbitMQ node can be rabbit@HOST. Host names: letters, digits, '-', at most
# 12 characters. Adding hosts later rewrites every host's /etc/hosts.
netns_up() {
    local sw host ns index addr peer
    sw=$(netns_switch)
    mkdir -p "$NETNS_DIR/pids" "$NETNS_DIR/logs"
    touch "$NETNS_DIR/hosts"
    if ! ip netns list | grep -qx "$sw\( .*\)\?"; then
        ip netns add "$sw" &&
            ip -n "$sw" link set lo up &&
            ip -n "$sw" link add br0 type bridge &&
            ip -n "$sw" link set br0 up || { log "netns: could not make the switch $sw"; return 1; }
    fi
    for host in "$@"; do
        [[ $host =~ ^[A-Za-z0-9-]{1,12}$ ]] || { log "netns: bad host name '$host'"; return 1; }
        ns=$(netns_name "$host")
        grep -q "^$host " "$NETNS_DIR/hosts" && continue
        index=$(($(wc -l <"$NETNS_DIR/hosts") + 11))
        [ "$index" -le 250 ] || { log "netns: no address left in $NETNS_SUBNET.0/24"; return 1; }
        addr=$NETNS_SUBNET.$index
        peer=v-$host
        # Both ends of the veth pair are made inside their namespaces: never a link in the root one.
        ip netns add "$ns" &&
            ip -n "$ns" link set lo up &&
            ip link add eth0 netns "$ns" type veth peer name "$peer" netns "$sw" &&
            ip -n "$sw" link set "$peer" master br0 &&
            ip -n "$sw" link set "$peer" up &&
            ip -n "$ns" addr add "$addr/24" dev eth0 &&
            ip -n "$ns" link set eth0 up &&
            ip netns exec "$ns" iptables -N "$NETNS_CHAIN" &&
            ip netns exec "$ns" iptables -I INPUT 1 -j "$NETNS_CHAIN" || { log "netns: could not make host $host"; return 1; }
        echo "$host $addr" >>"$NETNS_DIR/hosts"
    done
    netns_write_hosts_files
}

# /etc/netns/NS/hosts of every host: loopback, then each host's name and address.
netns_write_hosts_files() {
    local host ns
    # /etc/netns is removed again at cleanup only when it was made here.
    [ -d /etc/netns ] || { mkdir /etc/netns && touch "$NETNS_DIR/made-etc-netns"; }
    for host in $(netns_hosts); do
        ns=$(netns_name "$host")
        mkdir -p "/etc/netns/$ns"
        {
            printf '127.0.0.1\tlocalhost\n'
            awk '{ printf "%s\t%s\n", $2, $1 }' "$NETNS_DIR/hosts"
        } >"/etc/netns/$ns/hosts"
    done
}

# netns_exec HOST COMMAND...: runs COMMAND inside HOST (its network, its /etc/hosts).
netns_exec() {
    local host=$1
    shift
    ip netns exec "$(netns_name "$host")" "$@"
}

# netns_spawn HOST NAME COMMAND...: starts COMMAND inside HOST in the background, its output in
# $NETNS_DIR/logs/NAME.log and its PID (COMMAND's own: `ip netns exec` execs it) in
# $NETNS_DIR/pids/NAME.pid; prints the PID. netns_down ends it if nothing else does.
netns_spawn() {
    local host=$1 name=$2 ns
    shift 2
    ns=$(netns_name "$host")
    ip netns exec "$ns" true || return
    nohup ip netns exec "$ns" "$@" >>"$NETNS_DIR/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$NETNS_DIR/pids/$name.pid"
    echo $!
}

# netns_pid NAME: the PID netns_spawn recorded for NAME.
netns_pid() { cat "$NETNS_DIR/pids/$1.pid"; }

# netns_stop NAME [SECONDS]: SIGTERM to what netns_spawn started as NAME, SIGKILL after SECONDS
# (10) if it is still there.
netns_stop() {
    local name=$1 seconds=${2:-10} pid
    [ -f "$NETNS_DIR/pids/$name.pid" ] || return 0
    pid=$(cat "$NETNS_DIR/pids/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait_for "$seconds" "$name to stop" bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$NETNS_DIR/pids/$name.pid"
}

# netns_proxy HOST NAME LISTEN TARGET: starts scripts/lib/faultproxy.py in HOST as NAME (netns_stop
# NAME ends it), accepting on LISTEN (ADDRESS:PORT) and passing on to TARGET (HOST:PORT, a host
# name of the run or an address), with no faults until netns_proxy_faults sets some. A client in
# HOST reaches TARGET through it when given LISTEN instead; the proxy's own connection to TARGET
# leaves from HOST, so partitions of HOST apply to it as well. Prints the PID.
netns_proxy() {
    local host=$1 name=$2 listen=$3 target=$4
    echo '{}' >"$NETNS_DIR/$name.json"
    netns_spawn "$host" "$name" python3 "$REPO_ROOT/scripts/lib/faultproxy.py" \
        --listen "$listen" --target "$target" --control "$NETNS_DIR/$name.json"
}

# netns_proxy_faults NAME JSON: the faults of proxy NAME from now on, as a JSON object of
# faultproxy.py's control keys ('{}': none), e.g. '{"delay_ms": 200, "loss": 0.05}'. Written
# whole (rename), taken up within 0.2 s.
netns_proxy_faults() {
    local name=$1 faults=$2
    printf '%s\n' "$faults" >"$NETNS_DIR/$name.json.new" && mv "$NETNS_DIR/$name.json.new" "$NETNS_DIR/$name.json"
}

# netns_fault_rule HOST ACTION RULE...: iptables -A/-D (ACTION) of RULE in HOST's fault chain; a
# rule is added once however often it is asked for, and deleting one that is not there is fine.
netns_fault_rule() {
    local host=$1 action=$2 ns
    shift 2
    ns=$(netns_name "$host")
    if ip netns exec "$ns" iptables -C "$NETNS_CHAIN" "$@" 2>/dev/null; then
        [ "$action" = -D ] || return 0
        ip netns exec "$ns" iptables -D "$NETNS_CHAIN" "$@"
    else
        [ "$action" = -A ] || return 0
        ip netns exec "$ns" iptables -A "$NETNS_CHAIN" "$@"
    fi
}

# netns_partition [--one-way] A B: packets from A no longer reach B and (unless --one-way)
# packets from B no longer reach A. For TCP one way is nearly both: no connection opens in
# either direction (a handshake needs both), and on an open connection B's next bytes still
# reach A's application but A's acknowledgements of them are lost, so B retransmits until it
# gives up and A's own bytes never arrive. Hence a client A of a server B that is cut one way
# (A to B) sends nothing that arrives; cut the other way (B to A, --one-way B A) its next
# request on an open connection arrives and is acted on while the answer (a publisher confirm,
# a commit's result) is lost.
netns_partition() {
    local both=true
    [ "$1" != --one-way ] || { both=false; shift; }
    local a=$1 b=$2
    netns_fault_rule "$b" -A -s "$(netns_addr "$a")" -j DROP || return
    if $both; then netns_fault_rule "$a" -A -s "$(netns_addr "$b")" -j DROP || return; fi
}

# netns_heal_pair A B: undoes netns_partition A B, either kind.
netns_heal_pair() {
    local a=$1 b=$2
    netns_fault_rule "$a" -D -s "$(netns_addr "$b")" -j DROP || return
    netns_fault_rule "$b" -D -s "$(netns_addr "$a")" -j DROP
}

# netns_isolate HOST: cuts HOST from every other host (its loopback keeps working): nothing
# arrives at it over eth0, and what it sends is lost at every receiver.
netns_isolate() { netns_isolation_rules -A "$1"; }

# netns_rejoin HOST: undoes netns_isolate HOST.
netns_rejoin() { netns_isolation_rules -D "$1"; }

# netns_isolation_rules -A|-D HOST: adds or deletes the rules of netns_isolate HOST.
netns_isolation_rules() {
    local action=$1 host=$2 other
    netns_fault_rule "$host" "$action" -i eth0 -j DROP || return
    for other in $(netns_hosts); do
        [ "$other" = "$host" ] || netns_fault_rule "$other" "$action" -s "$(netns_addr "$host")" -j DROP || return
    done
}

# netns_heal [HOST...]: removes every fault rule in the hosts named (default: all of them).
netns_heal() {
    local host hosts=("$@")
    [ $# -gt 0 ] || mapfile -t hosts < <(netns_hosts)
    for host in "${hosts[@]}"; do ip netns exec "$(netns_name "$host")" iptables -F "$NETNS_CHAIN"; done
}

# netns_faults HOST: HOST's fault rules, as iptables -S prints them (for a drill's report).
netns_faults() { ip netns exec "$(netns_name "$1")" iptables -S "$NETNS_CHAIN" | grep -- '^-A' || true; }

# netns_flap PERIOD DURATION HOST [PEER]: in the background, cuts HOST from PEER (both ways; with
# no PEER, from every host) for PERIOD seconds, heals it for PERIOD seconds, and so on for
# DURATION seconds; healed at the end. Prints the PID of the loop (netns_stop flap-HOST ends it
# early; netns_heal undoes a cut that a killed loop left).
netns_flap() {
    local period=$1 duration=$2 host=$3 peer=${4:-}
    local cut=(netns_isolate "$host") heal=(netns_rejoin "$host")
    [ -z "$peer" ] || { cut=(netns_partition "$host" "$peer"); heal=(netns_heal_pair "$host" "$peer"); }
    (
        trap 'kill $! 2>/dev/null; "${heal[@]}"; exit 0' TERM
        end=$((SECONDS + duration))
        while [ $SECONDS -lt $end ]; do
            "${cut[@]}"
            sleep "$period" & wait $!
            "${heal[@]}"
            [ $SECONDS -lt $end ] || break
            sleep "$period" & wait $!
        done
    ) >>"$NETNS_DIR/logs/flap-$host.log" 2>&1 </dev/null &
    echo $! >"$NETNS_DIR/pids/flap-$host.pid"
    echo $!
}

# netns_remove_namespace NS: ends every process inside NS (SIGTERM, then SIGKILL after 5 s), then
# deletes NS and its /etc/netns entry. Its veth pair goes with it.
netns_remove_namespace() {
    local ns=$1 pids deadline
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086 # one PID a word
        kill -TERM $pids 2>/dev/null || true
        deadline=$((SECONDS + 5))
        while [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        # shellcheck disable=SC2086
        [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
}

# netns_cleanup [PREFIX]: removes every namespace whose name starts with PREFIX- (default: this
# run's), with the processes in it; the switch last. Idempotent: a crashed run's leftovers go too.
netns_cleanup() {
    local prefix=${1:-$(netns_prefix)} ns pidfile
    for pidfile in "$NETNS_DIR"/pids/flap-*.pid; do
        [ -f "$pidfile" ] || continue
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    done
    for ns in $(ip netns list | awk '{ print $1 }' | grep "^$prefix-" | grep -v -- '-sw$'); do
        netns_remove_namespace "$ns"
    done
    for ns in $(ip netns list | awk '{ print $1 }' | grep "^$prefix-"); do
        netns_remove_namespace "$ns"
    done
    if [ -f "$NETNS_DIR/made-etc-netns" ] || [ -f "$RUN_DIR/netns/$prefix/made-etc-netns" ]; then
        rmdir /etc/netns 2>/dev/null || true
    fi
    [ "$prefix" != "$(netns_prefix)" ] || rm -rf "$NETNS_DIR"
}

# netns_cleanup_stale: netns_cleanup of every earlier run of NETNS_TAG whose owner (the PID in
# its name) no longer runs (or is a zombie).
netns_cleanup_stale() {
    local run
    for run in $(ip netns list | awk '{ print $1 }' | sed -n "s/^$NETNS_TAG-\([0-9][0-9]*\)-sw\$/\1/p"); do
        [ "$run" != "$NETNS_RUN" ] || continue
        # A zombie (killed, not yet reaped by its parent) counts as gone.
        kill -0 "$run" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$run/stat" 2>/dev/null)" != Z ] && continue
        log "netns: removing the namespaces of an earlier run ($NETNS_TAG-$run)"
        netns_cleanup "$NETNS_TAG-$run"
        rm -rf "$RUN_DIR/netns/$NETNS_TAG-$run"
    done
}

# netns_down: netns_cleanup of this run (for a trap: it never fails).
netns_down() { netns_cleanup || true; }
