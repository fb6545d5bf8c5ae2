#!/bin/bash
# pgtmp.sh: a throw-away PostgreSQL cluster for the store's tests.
#
#   pgtmp.sh start OWNER_PID   start one; prints DIR<tab>PASSWORD<tab>CONNINFO
#   pgtmp.sh stop DIR          stop it (immediate) and delete DIR
#
# The cluster lives in a new directory under ${TMPDIR:-/tmp}, listens on
# 127.0.0.1 only, on a free port, with its socket in that directory; fsync
# is off (nothing in it needs to survive a crash). Its superuser `kamrat`
# logs in over TCP with a random password (scram-sha-256), so the tests
# exercise kamrat's password path; the database is `kamrat`. initdb and
# postgres refuse to run as root: as root they run as nobody:nogroup.
#
# A watchdog stops the cluster and deletes the directory as soon as
# OWNER_PID (the test process) is gone, so a crashed or killed test leaves
# nothing behind. Every wait is bounded (30 s to start, 10 s to stop).
#
# Exit status 77 (meson's "skipped"), with the reason on stdout, when the
# PostgreSQL server binaries are missing; 1 on any other failure.

set -uo pipefail

PG_BIN=${KAMRAT_PG_BIN:-/usr/lib/postgresql/15/bin}

# Run a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        HOME=/tmp setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
    else
        "$@"
    fi
}

stop() {
    local dir=$1
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    case $dir in
    */kamrat-pg.*) ;;
    *)
        echo "pgtmp: $dir is not a cluster of ours" >&2
        return 1
        ;;
    esac
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$PG_BIN/pg_ctl" stop -D "$dir/data" -m immediate -w -t 10 >/dev/null 2>&1
    fi
    rm -rf "$dir"
}

start() {
    local owner=$1 dir port password tries
    for b in initdb pg_ctl postgres psql; do
        if [ ! -x "$PG_BIN/$b" ]; then
            echo "PostgreSQL server binaries not found in $PG_BIN (Debian: postgresql-15)"
            exit 77
        fi
    done
    if [ "$(id -u)" -eq 0 ] && ! command -v setpriv >/dev/null; then
        echo "running as root and setpriv (util-linux) is missing"
        exit 77
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kamrat-pg.XXXXXX") || exit 1
    chmod 0700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir"
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$dir/pw"
    [ "$(id -u)" -eq 0 ] && chown nobody:nogroup "$dir/pw"
    # C.UTF-8 rather than C: lower() then folds more than ASCII by default,
    # which is what the store's COLLATE "C" must keep it from doing.
    if ! as_owner "$PG_BIN/initdb" -D "$dir/data" -U kamrat --pwfile="$dir/pw" -E UTF8 \
        --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 -N \
        >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        stop "$dir"
        exit 1
    fi
    for tries in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        if as_owner "$PG_BIN/pg_ctl" start -D "$dir/data" -l "$dir/log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -k $dir -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off" >/dev/null 2>&1; then
            break
        fi
        port=
    done
    if [ -z "$port" ]; then
        tail -n 20 "$dir/log" >&2
        stop "$dir"
        exit 1
    fi
    if ! as_owner "$PG_BIN/psql" -q -h "$dir" -p "$port" -U kamrat -d postgres \
        -c "CREATE DATABASE kamrat" >/dev/null 2>&1; then
        echo "pgtmp: cannot create the database" >&2
        stop "$dir"
        exit 1
    fi
    # The watchdog: a session of its own, no descriptor of the caller's.
    setsid bash -c '
        while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
        "$3" stop "$2"' watchdog "$owner" "$dir" "$(realpath "$0")" </dev/null >/dev/null 2>&1 &
    printf '%s\t%s\t%s\n' "$dir" "$password" \
        "host=127.0.0.1 port=$port dbname=kamrat user=kamrat connect_timeout=10"
}

case ${1:-} in
start)
    [ $# -eq 2 ] || {
        echo "usage: $0 start OWNER_PID" >&2
        exit 64
    }
    start "$2"
    ;;
stop)
    [ $# -eq 2 ] || {
        echo "usage: $0 stop DIR" >&2
        exit 64
    }
    stop "$2"
    ;;
*)
    echo "usage: $0 start OWNER_PID | stop DIR" >&2
    exit 64
    ;;
esac
