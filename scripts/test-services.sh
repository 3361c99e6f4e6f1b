#!/usr/bin/env bash
# Start the services the integration tiers need; `make test` runs this before pytest.
#
# PostgreSQL (state-store tier): a throwaway cluster on 127.0.0.1:55432 with trust
# auth and a `memberlens_test` database. Its files live in
# /var/tmp/memberlens-test-pg-55432 (one cluster per port, made by root and owned by
# postgres), not in the checkout: the postgres user cannot enter a checkout under /root
# or in a mode-700 folder, and a short path keeps the Unix socket's under its ~107-byte
# limit. It is left running and reused by every later run, from any checkout (CI
# machines are thrown away).
#
# Whatever this script cannot do it reports as "skipping (<reason>)" and the tests
# that need the service skip with their own reason; with MEMBERLENS_REQUIRE_TIERS=1,
# which `make test` sets when run as root, it fails instead (scripts/tier.sh).
set -u

PG_PORT=55432
PG_DB=memberlens_test
PG_DIR=/var/tmp/memberlens-test-pg-$PG_PORT
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TIER=PostgreSQL
# shellcheck source=scripts/tier.sh
. "$REPO/scripts/tier.sh"
# shellcheck source=scripts/apt.sh
. "$REPO/scripts/apt.sh"

pg_bindir() {
    # Debian/Ubuntu keep server binaries out of PATH, one folder per major version.
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
    elif command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
    fi
}

is_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null
    fi
}

as_postgres() {
    # From /: the checkout may be a folder postgres cannot enter.
    if command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
    fi
}

install_server() {
    [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 ||
        unavailable "server binaries missing and this is not Debian/Ubuntu; install postgresql or set MEMBERLENS_TEST_PG_URL"
    say "installing postgresql with apt-get (once per machine)"
    local log=/tmp/memberlens-apt-postgresql.log
    apt_install "$log" postgresql ||
        unavailable "apt-get install postgresql failed (see $log); install it or set MEMBERLENS_TEST_PG_URL"
}

prepare_dir() {
    # Made by root for postgres: never hand over a folder someone else planted there.
    [ -L "$PG_DIR" ] && unavailable "$PG_DIR is a symbolic link; remove it"
    if [ -e "$PG_DIR" ]; then
        local owner
        owner=$(stat -c %U "$PG_DIR")
        [ "$owner" = postgres ] || [ "$owner" = root ] ||
            unavailable "$PG_DIR belongs to $owner, not postgres; remove it"
    fi
    mkdir -p "$PG_DIR" && chown postgres: "$PG_DIR" && chmod 700 "$PG_DIR" ||
        unavailable "cannot prepare $PG_DIR for the postgres user"
}

init_cluster() {
    local bin=$1 data="$PG_DIR/data" major
    major=$("$bin/postgres" --version | grep -o '[0-9][0-9]*' | head -n 1)
    [ -f "$data/PG_VERSION" ] && [ "$(cat "$data/PG_VERSION")" = "$major" ] && return 0
    # None yet, or one an older PostgreSQL made: it is throwaway, so make it anew.
    rm -rf "$data"
    say "initdb into $data"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$PG_DIR/initdb.log" 2>&1 || unavailable "initdb failed, see $PG_DIR/initdb.log"
    # Reachable only from this machine; durability is pointless for a throwaway cluster.
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$data/pg_hba.conf"
    cat >>"$data/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
}

start_cluster() {
    as_postgres "$1/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start \
        >/dev/null 2>&1
}

has_database() {
    local psql="psql -X -q -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres"
    $psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" 2>/dev/null | grep -q 1 ||
        $psql -c "CREATE DATABASE $PG_DB" >/dev/null 2>&1
}

# A server whose data folder was deleted under it (an earlier checkout removed with
# rm -rf, from when the cluster lived inside the checkout) still answers on the port,
# but cannot create a file: the tests would fail on it. Root can find it (ss names the
# process listening on the port; its working folder is the data folder) and stop it.
stop_orphan() {
    [ "$(id -u)" -eq 0 ] || return 1
    local pid
    pid=$(ss -Hltnp "sport = :$PG_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1)
    pid=${pid#pid=}
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 1
    case $(readlink "/proc/$pid/cwd") in
    *" (deleted)") ;;
    *) return 1 ;;
    esac
    kill -INT "$pid" 2>/dev/null || return 1 # PostgreSQL's fast shutdown
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        is_up || return 0
        sleep 1
    done
    return 1
}

main() {
    if [ -n "${MEMBERLENS_TEST_PG_URL:-}" ]; then
        say "using MEMBERLENS_TEST_PG_URL (nothing to start)"
        return 0
    fi
    if is_up; then
        if stop_orphan; then
            say "stopped a server on 127.0.0.1:$PG_PORT whose data folder was deleted"
        elif has_database; then
            say "already running on 127.0.0.1:$PG_PORT (database $PG_DB)"
            return 0
        else
            unavailable "a server on 127.0.0.1:$PG_PORT cannot create $PG_DB and is not ours to stop"
        fi
    fi
    [ "$(id -u)" -eq 0 ] || unavailable "not root; install postgresql or set MEMBERLENS_TEST_PG_URL"
    local bin
    bin=$(pg_bindir)
    if [ -z "$bin" ]; then
        install_server
        bin=$(pg_bindir)
        [ -n "$bin" ] || unavailable "postgresql installed but pg_ctl not found"
    fi
    id postgres >/dev/null 2>&1 || unavailable "there is no postgres user to run the server"
    command -v psql >/dev/null 2>&1 || unavailable "psql (postgresql-client) is missing"
    prepare_dir
    # Checkouts share the cluster: one run at a time makes or starts it (a lock on its folder).
    exec 9<"$PG_DIR" && flock -w 120 9 || unavailable "another run has held $PG_DIR for 2 minutes"
    if ! is_up; then
        init_cluster "$bin"
        if ! start_cluster "$bin"; then
            # A kept cluster that will not start (files cleaned away under /var/tmp, a
            # crash mid-write) is worth nothing: make it anew, once.
            say "the kept cluster did not start (see $PG_DIR/server.log); making it anew"
            rm -rf "$PG_DIR/data"
            init_cluster "$bin"
            start_cluster "$bin" || unavailable "pg_ctl start failed, see $PG_DIR/server.log"
        fi
    fi
    has_database || unavailable "cannot create database $PG_DB on 127.0.0.1:$PG_PORT"
    say "running on 127.0.0.1:$PG_PORT from $PG_DIR (database $PG_DB; left running)"
}

main
exit 0
