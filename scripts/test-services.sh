#!/usr/bin/env bash
# Start the services the integration tiers need; `make test` runs this before pytest.
#
# PostgreSQL (state-store tier): a throwaway cluster on 127.0.0.1:55432 with trust
# auth and a `memberlens_test` database. It is left running so the next run reuses
# it (CI machines are thrown away). This script never fails the build: whatever it
# cannot do it reports as "skipping: <reason>", and the tests that need the service
# skip with their own reason.
set -u

PG_PORT=55432
PG_DB=memberlens_test
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/apt.sh
. "$REPO/scripts/apt.sh"
# Unix socket paths are limited to ~107 bytes; a deep checkout falls back to /tmp.
PG_DIR="$REPO/test-artifacts/pg"
[ ${#PG_DIR} -gt 80 ] && PG_DIR="/tmp/memberlens-test-pg-$PG_PORT"

say() { echo "PostgreSQL tier: $*"; }
skip() {
    say "skipping ($*)"
    exit 0
}

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
    if command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

install_server() {
    [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 ||
        skip "server binaries missing and this is not Debian/Ubuntu; install postgresql or set MEMBERLENS_TEST_PG_URL"
    say "installing postgresql with apt-get (once per machine)"
    local log=/tmp/memberlens-apt-postgresql.log
    apt_install "$log" postgresql ||
        skip "apt-get install postgresql failed (see $log); install it or set MEMBERLENS_TEST_PG_URL"
}

init_cluster() {
    local bin=$1 data="$PG_DIR/data"
    mkdir -p "$PG_DIR" && chown postgres: "$PG_DIR" && chmod 700 "$PG_DIR" ||
        skip "cannot prepare $PG_DIR for the postgres user"
    [ -f "$data/PG_VERSION" ] && return 0
    say "initdb into $data"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$PG_DIR/initdb.log" 2>&1 || skip "initdb failed, see $PG_DIR/initdb.log"
    # Reachable only from this machine; durability is pointless for a throwaway cluster.
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$data/pg_hba.conf"
    cat >>"$data/postgresql.conf" <<EOF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start_cluster() {
    local bin=$1
    as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start \
        >/dev/null 2>&1 || skip "pg_ctl start failed, see $PG_DIR/server.log"
}

has_database() {
    local psql="psql -X -q -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres"
    $psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" 2>/dev/null | grep -q 1 ||
        $psql -c "CREATE DATABASE $PG_DB" >/dev/null 2>&1
}

ensure_database() {
    has_database || skip "cannot create database $PG_DB on 127.0.0.1:$PG_PORT"
}

# A server left running by an earlier checkout at this same path whose files were
# deleted since (rm -rf of the clone) still holds the port but cannot create a
# database: stop it, so this run starts its own.
stop_orphan() {
    [ "$(id -u)" -eq 0 ] || return 1
    pkill -f -- "-D $PG_DIR/data" 2>/dev/null || return 1
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
        if has_database; then
            say "already running on 127.0.0.1:$PG_PORT (database $PG_DB)"
            return 0
        fi
        stop_orphan || skip "a server on 127.0.0.1:$PG_PORT cannot create $PG_DB and is not ours to stop"
        say "stopped a server left by an earlier checkout whose files are gone"
    fi
    [ "$(id -u)" -eq 0 ] || skip "not root; install postgresql or set MEMBERLENS_TEST_PG_URL"
    local bin
    bin=$(pg_bindir)
    if [ -z "$bin" ]; then
        install_server
        bin=$(pg_bindir)
        [ -n "$bin" ] || skip "postgresql installed but pg_ctl not found"
    fi
    id postgres >/dev/null 2>&1 || skip "there is no postgres user to run the server"
    command -v psql >/dev/null 2>&1 || skip "psql (postgresql-client) is missing"
    init_cluster "$bin"
    start_cluster "$bin"
    ensure_database
    say "started on 127.0.0.1:$PG_PORT from $PG_DIR (database $PG_DB; left running)"
}

main
exit 0
