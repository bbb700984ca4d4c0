#!/bin/sh
# As in the official haproxy image: a first argument that is a flag means
# haproxy; haproxy runs in master-worker mode, in the foreground.
set -e
if [ "${1#-}" != "$1" ]; then set -- haproxy "$@"; fi
if [ "$1" = 'haproxy' ]; then
    shift
    set -- haproxy -W -db "$@"
fi
exec "$@"
