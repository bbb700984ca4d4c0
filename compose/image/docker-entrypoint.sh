#!/bin/sh
# Entrypoint of the customer-order-replication image: the first argument
# chooses the program.
#
#   customer-service | order-service | common-client [ARGS...]   that program
#   any other program on PATH (sh, curl, ...)                     that program
#   anything else (create-customer, status, load-test, --help)    common-client ARGS...
set -e

if [ $# -eq 0 ]; then
    set -- common-client --help
elif ! command -v "$1" >/dev/null 2>&1; then
    set -- common-client "$@"
fi
exec "$@"
