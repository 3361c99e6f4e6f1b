# shellcheck shell=bash
# Shared by the scripts that prepare a test tier's service (source it after setting TIER).
#
# unavailable REASON: the tier cannot run here. With MEMBERLENS_REQUIRE_TIERS=1 (what
# `make test` sets when run as root, the one case where the scripts can install and
# start everything themselves) that is a broken set-up: print the reason and exit 1,
# failing the run. Otherwise print "skipping (REASON)" and exit 0; the tier's tests
# then skip with their own reason.

say() { echo "$TIER tier: $*"; }

unavailable() {
    if [ "${MEMBERLENS_REQUIRE_TIERS:-0}" = 1 ]; then
        say "FAILED ($*)" >&2
        say "MEMBERLENS_REQUIRE_TIERS=1 (make test as root): no tier may be skipped; fix the" \
            "cause, or run 'make test MEMBERLENS_REQUIRE_TIERS=0' to let it skip" >&2
        exit 1
    fi
    say "skipping ($*)"
    exit 0
}
