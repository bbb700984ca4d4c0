# Docker helpers for scripts/docker/docker-engine, scripts/checks/compose-check and
# scripts/checks/compose-smoke. Source it after common.sh; it defines functions and
# paths and changes nothing by itself.
#
# The private engine keeps everything under .run/docker (images, containers,
# volumes, its socket), so it never touches a Docker installation of the host
# and a second run finds the images of the first.

DOCKER_RUN_DIR=${REPLICATION_DOCKER_DIR:-$RUN_DIR/docker}
DOCKER_CACHE_DIR=$RUN_DIR/docker-cache
PRIVATE_DOCKER_HOST=unix://$DOCKER_RUN_DIR/docker.sock
COMPOSE_DIR=$REPO_ROOT/compose
COMPOSE_FILE_MAIN=$COMPOSE_DIR/docker-compose.yml

# The nofile limit of this sandbox is 20000 (hard); containers inherit it.
DOCKER_NOFILE=${REPLICATION_DOCKER_NOFILE:-20000:20000}
# Address pools of the private engine: fixed so that they never overlap a
# bridge of another engine on the same host.
DOCKER_BIP=${REPLICATION_DOCKER_BIP:-172.31.254.1/24}
DOCKER_POOL=${REPLICATION_DOCKER_POOL:-172.31.0.0/17}

# The classic builder: BuildKit (buildx) is not installed here, and the
# classic builder is what dockerd 20.10 offers without it.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

# MARK: Engine

# docker_reachable [HOST]: true when the engine at HOST (default: the current
# DOCKER_HOST or the client's default) answers.
docker_reachable() {
    if [ -n "${1:-}" ]; then
        DOCKER_HOST=$1 timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
    else
        timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
    fi
}

private_engine_pid() { cat "$DOCKER_RUN_DIR/dockerd.pid" 2>/dev/null || true; }

private_engine_running() {
    local pid
    pid=$(private_engine_pid)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && docker_reachable "$PRIVATE_DOCKER_HOST"
}

# start_private_engine: starts dockerd with its state under .run/docker, unless
# it already runs. Exports DOCKER_HOST pointing at it.
start_private_engine() {
    ensure_apt_packages docker.io
    export DOCKER_HOST=$PRIVATE_DOCKER_HOST
    if private_engine_running; then return 0; fi
    mkdir -p "$DOCKER_RUN_DIR/data" "$DOCKER_RUN_DIR/exec"
    rm -f "$DOCKER_RUN_DIR/docker.sock"
    log "starting a private Docker engine (state in ${DOCKER_RUN_DIR#"$REPO_ROOT"/})"
    # setsid: the engine outlives a script that is interrupted with ^C, so
    # that its containers can still be cleaned up; stop_private_engine ends it.
    setsid dockerd \
        --data-root "$DOCKER_RUN_DIR/data" \
        --exec-root "$DOCKER_RUN_DIR/exec" \
        --pidfile "$DOCKER_RUN_DIR/dockerd.pid" \
        --host "$PRIVATE_DOCKER_HOST" \
        --default-ulimit "nofile=$DOCKER_NOFILE" \
        --bip "$DOCKER_BIP" \
        --default-address-pool "base=$DOCKER_POOL,size=24" \
        </dev/null >>"$DOCKER_RUN_DIR/dockerd.log" 2>&1 &
    local launcher=$!
    if ! wait_for 60 "the Docker engine" docker_reachable "$PRIVATE_DOCKER_HOST"; then
        tail -20 "$DOCKER_RUN_DIR/dockerd.log" >&2
        kill "$launcher" 2>/dev/null || true
        die "the Docker engine did not start (log: $DOCKER_RUN_DIR/dockerd.log)"
    fi
}

# stop_private_engine: stops the dockerd that start_private_engine started,
# by its PID, and waits for it (and so its containerd) to exit.
stop_private_engine() {
    local pid
    pid=$(private_engine_pid)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    log "stopping the private Docker engine (pid $pid)"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { log "dockerd $pid did not stop in 60s"; return 1; }
        sleep 0.3
    done
    # dockerd leaves its default network namespace mounted; unmount it (and
    # anything else of ours) so that .run/docker can be removed.
    local mountpoint
    for mountpoint in $(awk -v root="$DOCKER_RUN_DIR/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint" 2>/dev/null || true
    done
}

# use_engine: points DOCKER_HOST at an engine that answers: the one DOCKER_HOST
# names, else an already running private one, else the host's default one,
# else a private one started now. Sets ENGINE_KIND to external, private or
# started.
use_engine() {
    if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "$PRIVATE_DOCKER_HOST" ]; then
        docker_reachable || die "DOCKER_HOST=$DOCKER_HOST does not answer"
        ENGINE_KIND=external
    elif private_engine_running; then
        export DOCKER_HOST=$PRIVATE_DOCKER_HOST
        ENGINE_KIND=private
    elif [ -z "${REPLICATION_PRIVATE_ENGINE:-}" ] && (unset DOCKER_HOST; docker_reachable); then
        unset DOCKER_HOST
        ENGINE_KIND=external
    else
        start_private_engine
        ENGINE_KIND=started
    fi
}

# MARK: Compose

# compose ARGS...: runs Docker Compose: the v2 plugin when the client has it,
# else the standalone docker-compose (Debian's 1.29, installed when missing).
compose() {
    if docker compose version >/dev/null 2>&1; then
        docker compose "$@"
    else
        command -v docker-compose >/dev/null || ensure_apt_packages docker-compose
        docker-compose "$@"
    fi
}

# compose_files: every compose file of the project, one a line.
compose_files() {
    find "$COMPOSE_DIR" -maxdepth 1 -type f \( -name 'docker-compose*.yml' -o -name 'compose*.yml' -o -name 'docker-compose*.yaml' -o -name 'compose*.yaml' \) | sort
}

# is_compose_override FILE: true for docker-compose.<name>.yml, an override
# used on top of docker-compose.yml (docker-compose.cluster.yml).
is_compose_override() {
    case "$(basename "$1")" in
        docker-compose.*.yml | docker-compose.*.yaml) return 0 ;;
        *) return 1 ;;
    esac
}

# MARK: Debian base image

# debian_mirror: the Debian archive that apt on this host uses for bookworm
# (from /etc/apt/sources.list and sources.list.d, one-line or deb822 form).
# Fails, saying where it looked, when apt names none: the stand-ins are built
# from the archive this host is known to reach, never from a guessed one.
debian_mirror() {
    local mirror
    mirror=$(
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '$1 == "deb" && / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; exit } }'
    )
    if [ -z "$mirror" ]; then
        mirror=$(
            cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
                /^[[:space:]]*$/ { if (suite ~ /(^| )bookworm( |$)/ && uri != "" && uri !~ /security/) { print uri; exit } uri = ""; suite = "" }
                /^URIs:/ { uri = $2 }
                /^Suites:/ { $1 = ""; suite = $0 " " }
                END { if (suite ~ /(^| )bookworm( |$)/ && uri != "" && uri !~ /security/) print uri }' | head -1
        )
    fi
    if [ -z "$mirror" ]; then
        log "no Debian bookworm archive in apt's sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list, *.sources):"
        log "add the mirror this host uses for bookworm there (as apt-get update would need it)"
        return 1
    fi
    echo "$mirror"
}

# image_label IMAGE LABEL: the value of LABEL on IMAGE, empty when absent.
image_label() {
    docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# dir_digest DIR...: a digest of the files under DIR, to tell when an image
# built from them is out of date.
dir_digest() {
    find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

BASE_ROOTFS_TAR=$DOCKER_CACHE_DIR/debian-bookworm-minbase.tar

# build_base_rootfs: debootstraps a minimal bookworm into .run/docker-cache and
# packs it as a tarball, shaped like the official debian:bookworm-slim (apt
# sources, no documentation, no service starts in image builds). Cached.
build_base_rootfs() {
    [ -s "$BASE_ROOTFS_TAR" ] && return 0
    ensure_apt_packages debootstrap
    local mirror root=$DOCKER_CACHE_DIR/rootfs.tmp
    mirror=$(debian_mirror) || die "cannot build the Debian base image: no mirror to debootstrap from"
    log "debootstrapping a minimal Debian bookworm from $mirror (about a minute, once)"
    rm -rf "$root"
    mkdir -p "$DOCKER_CACHE_DIR"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$DOCKER_CACHE_DIR/debootstrap.log" 2>&1 \
        || { tail -20 "$DOCKER_CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $DOCKER_CACHE_DIR/debootstrap.log)"; }
    local security=${mirror%/debian}/debian-security
    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    # What the official image does, so that images built on it look alike:
    # no daemon starts during a build, no docs, apt cleans after itself.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
APT
    printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
    printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
        "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/var/log/apt/*
    echo 'debian-standin' >"$root/etc/hostname"
    tar --numeric-owner -C "$root" -cf "$BASE_ROOTFS_TAR.tmp" .
    mv "$BASE_ROOTFS_TAR.tmp" "$BASE_ROOTFS_TAR"
    rm -rf "$root"
}

# MARK: Stand-in images

STANDINS_DIR=$COMPOSE_DIR/standins
STANDIN_LABEL=org.example.replication.standin-digest

# ensure_standin_base: debian:bookworm-slim, imported from the debootstrapped
# rootfs (the public image cannot be pulled here).
ensure_standin_base() {
    local digest
    build_base_rootfs
    digest=$(sha256sum "$BASE_ROOTFS_TAR" | cut -c1-16)
    if [ "$(image_label debian:bookworm-slim "$STANDIN_LABEL")" = "$digest" ]; then return 0; fi
    log "importing the rootfs as debian:bookworm-slim"
    docker import \
        --change 'CMD ["bash"]' \
        --change "LABEL $STANDIN_LABEL=$digest" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "$BASE_ROOTFS_TAR" debian:bookworm-slim >/dev/null
}

# ensure_standin NAME TAG: builds compose/standins/NAME as TAG unless an image
# built from the same files (and the same base) is there already. The build
# uses the host's network, so apt in it reaches the Debian mirror as apt on
# the host does (no NAT needed).
ensure_standin() {
    local name=$1 tag=$2 digest
    digest=$(dir_digest "$STANDINS_DIR/$name")-$(image_label debian:bookworm-slim "$STANDIN_LABEL")
    if [ "$(image_label "$tag" "$STANDIN_LABEL")" = "$digest" ]; then return 0; fi
    log "building the stand-in $tag from compose/standins/$name"
    docker build --network host --label "$STANDIN_LABEL=$digest" -t "$tag" "$STANDINS_DIR/$name" \
        >"$DOCKER_CACHE_DIR/build-$name.log" 2>&1 \
        || { tail -30 "$DOCKER_CACHE_DIR/build-$name.log" >&2; die "building $tag failed (log: $DOCKER_CACHE_DIR/build-$name.log)"; }
}

# ensure_standins: every public image the compose file uses, as a local
# stand-in. The three on top of the base build side by side (mostly waiting
# for the mirror).
ensure_standins() {
    mkdir -p "$DOCKER_CACHE_DIR"
    ensure_standin_base
    local pids=() pid failed=0
    ensure_standin postgres postgres:15 & pids+=($!)
    ensure_standin rabbitmq rabbitmq:3.10-management & pids+=($!)
    ensure_standin haproxy haproxy:2.6 & pids+=($!)
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    [ $failed -eq 0 ] || die "a stand-in image did not build"
    # The images that rebuilt ones replace, untagged now.
    docker image prune -f --filter "label=$STANDIN_LABEL" >/dev/null
}
