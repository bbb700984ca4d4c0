#!/bin/bash
# Entrypoint of the rabbitmq:3.10-management stand-in: writes the default
# user, password and vhost from RABBITMQ_DEFAULT_* into a config file (the
# broker creates them on its first boot only, as the official image does),
# listens on all interfaces, logs to stdout, and runs the server as the
# rabbitmq user. Any other command is run as is.
set -Eeuo pipefail

if [ "$1" != 'rabbitmq-server' ]; then exec "$@"; fi

if [ "$(id -u)" = '0' ]; then
    chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
    exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$BASH_SOURCE" "$@"
fi

conf=/etc/rabbitmq/conf.d/10-defaults.conf
{
    echo "loopback_users.guest = false"
    echo "listeners.tcp.default = 5672"
    echo "management.tcp.port = 15672"
    [ -z "${RABBITMQ_DEFAULT_USER:-}" ] || echo "default_user = $RABBITMQ_DEFAULT_USER"
    [ -z "${RABBITMQ_DEFAULT_PASS:-}" ] || echo "default_pass = $RABBITMQ_DEFAULT_PASS"
    [ -z "${RABBITMQ_DEFAULT_VHOST:-}" ] || echo "default_vhost = $RABBITMQ_DEFAULT_VHOST"
} >"$conf"
chmod 600 "$conf"

exec "$@"
