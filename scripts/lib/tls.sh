# TLS for the local servers (scripts/local-servers start --tls). Source after common.sh.
#
# A throwaway CA made with openssl under $RUN_DIR/tls/ signs one server certificate
# (CN localhost; SAN DNS:localhost and IP:127.0.0.1) that PostgreSQL and RabbitMQ both
# present, and one client certificate (CN guest). The directory holds:
#
#   ca.crt              the CA to trust (AMQP_TLS_CA_FILE, libpq's sslrootcert)
#   server.crt/.key     the servers' certificate (the key is copied for each server's user)
#   client.crt/.key     a client certificate signed by the CA (AMQP_TLS_CERT_FILE/_KEY_FILE)
#   other-ca.crt        a CA that signed nothing here: a client trusting it must be refused
#
# With TLS on, PostgreSQL has ssl=on and its TCP connections must use TLS (hostssl;
# plaintext is rejected for every role; the Unix socket, used by the scripts' superuser,
# stays), and RabbitMQ's AMQP listener speaks TLS only (listeners.tcp = none;
# rabbitmqctl and the topology import use the Erlang distribution, not AMQP).

TLS_DIR=$RUN_DIR/tls

# tls_make_certificates: creates the CA and the certificates unless they exist and are
# valid for another day.
tls_make_certificates() {
    if [ -f "$TLS_DIR/client.crt" ] && openssl x509 -checkend 86400 -noout -in "$TLS_DIR/server.crt" >/dev/null 2>&1; then
        return 0
    fi
    ensure_apt_packages openssl
    log "making a throwaway CA and certificates in ${TLS_DIR#"$REPO_ROOT"/}"
    rm -rf "$TLS_DIR"
    mkdir -p "$TLS_DIR"
    (
        cd "$TLS_DIR"
        umask 077
        tls_ca ca "replication local test CA"
        tls_ca other-ca "an unrelated CA"
        tls_leaf server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
        tls_leaf client guest "extendedKeyUsage=clientAuth"
        rm -f ./*.csr ./*.srl other-ca.key
        chmod 644 ./*.crt
    ) || die "openssl could not make the certificates in $TLS_DIR"
}

# tls_ca NAME SUBJECT: a self-signed CA, NAME.key and NAME.crt.
tls_ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$1.key" -out "$1.crt" 2>/dev/null
}

# tls_leaf NAME CN EXTENSIONS: NAME.key and NAME.crt for CN, signed by ca.
tls_leaf() {
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 \
        -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$3") \
        -out "$1.crt" 2>/dev/null
}

# tls_server_files OWNER: copies the server certificate and key into $TLS_DIR/OWNER/ for
# that user (a server refuses a key others can read); prints the directory.
tls_server_files() {
    local owner=$1 dir=$TLS_DIR/$1
    mkdir -p "$dir"
    cp "$TLS_DIR/server.crt" "$TLS_DIR/ca.crt" "$dir/"
    (umask 077 && cp "$TLS_DIR/server.key" "$dir/server.key")
    if [ "$(id -u)" -eq 0 ]; then chown -R "$owner:$owner" "$dir"; fi
    chmod 700 "$dir"
    chmod 600 "$dir/server.key"
    echo "$dir"
}

# tls_postgres_options PG_DIR: the server options for PostgreSQL with TLS (after making the
# files and its pg_hba.conf: the Unix socket trusted, TCP with TLS only).
tls_postgres_options() {
    local pg_dir=$1 dir
    tls_make_certificates
    dir=$(tls_server_files postgres)
    cat >"$pg_dir/pg_hba.tls.conf" <<HBA
local     all all                trust
hostssl   all all 127.0.0.1/32   scram-sha-256
hostssl   all all ::1/128        scram-sha-256
hostnossl all all 0.0.0.0/0      reject
hostnossl all all ::/0           reject
HBA
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$pg_dir/pg_hba.tls.conf"; fi
    echo "-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key -c ssl_ca_file=$dir/ca.crt" \
        "-c ssl_min_protocol_version=TLSv1.2 -c hba_file=$pg_dir/pg_hba.tls.conf"
}

# tls_rabbitmq_listener PORT: the rabbitmq.conf lines of a TLS-only AMQP listener on
# 127.0.0.1:PORT. A client certificate is verified when one is sent, and not required.
tls_rabbitmq_listener() {
    local dir
    tls_make_certificates
    dir=$(tls_server_files rabbitmq)
    cat <<CONF
listeners.tcp = none
listeners.ssl.1 = 127.0.0.1:$1
ssl_options.cacertfile = $dir/ca.crt
ssl_options.certfile = $dir/server.crt
ssl_options.keyfile = $dir/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
CONF
}

# tls_print_env AMQP_PORTS PG_PORT SUPERUSER_PASSWORD: the exports of `scripts/local-servers env` with TLS on.
tls_print_env() {
    local urls="" port
    for port in $1; do urls+="${urls:+,}amqps://guest:guest@127.0.0.1:$port/%2F"; done
    cat <<ENV
export TEST_TLS_CA_FILE=$TLS_DIR/ca.crt
export TEST_AMQPS_URL=${urls%%,*}
export TEST_AMQPS_URLS=$urls
export TEST_DATABASE_TLS_URL='postgres://postgres:$3@127.0.0.1:$2/postgres?sslmode=verify-full&sslrootcert=$TLS_DIR/ca.crt'
export TEST_TLS_RUN_DIR=$RUN_DIR
ENV
}
