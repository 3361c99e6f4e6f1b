# shellcheck shell=bash
# Shared by the scripts `make test` runs (source it): install Debian packages as root,
# refreshing the package lists once per run rather than once per script.
#
# apt_install LOG PACKAGE... -> 0 when installed, 1 otherwise (details in LOG).

# The lists count as fresh for an hour: long enough to cover one `make test`, short
# enough that a machine reused the next day looks again.
APT_STAMP=/tmp/memberlens-apt-update.stamp

apt_ok() {
    [ "$(id -u)" -eq 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1
}

apt_update_once() {
    if [ -f "$APT_STAMP" ] && [ -z "$(find "$APT_STAMP" -mmin +60 2>/dev/null)" ]; then
        return 0
    fi
    apt-get update -qq && touch "$APT_STAMP"
}

apt_install() {
    local log=$1
    shift
    export DEBIAN_FRONTEND=noninteractive
    { apt_update_once && apt-get install -y -qq "$@"; } >"$log" 2>&1
}
