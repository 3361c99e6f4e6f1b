#!/usr/bin/env bash
# Install what the browser tier needs; `make test` runs this before pytest.
#
# Debian's Chromium (driven by Playwright through `executable_path`; Playwright's own
# browser download is never used) and a CJK font, without which Chinese renders as
# empty boxes. Installed with apt-get when run as root on Debian/Ubuntu.
#
# Whatever this script cannot do it reports as "skipping (<reason>)" and the browser
# tests skip with their own reason; with MEMBERLENS_REQUIRE_TIERS=1, which `make test`
# sets when run as root, it fails instead (scripts/tier.sh).
set -u

PACKAGES=(chromium chromium-driver fonts-wqy-microhei)
CHROMIUM=${MEMBERLENS_CHROMIUM:-/usr/bin/chromium}
LOG=/tmp/memberlens-apt-browser.log
TIER=Browser
# shellcheck source=scripts/tier.sh
. "$(dirname "${BASH_SOURCE[0]}")/tier.sh"
# shellcheck source=scripts/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

missing() {
    local pkg out=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            out+=("$pkg")
    done
    echo "${out[@]}"
}

has_cjk_font() {
    command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]
}

lacking() {
    local out=()
    [ -x "$CHROMIUM" ] || out+=("no Chromium at $CHROMIUM")
    has_cjk_font || out+=("no CJK font")
    local IFS=,
    echo "${out[*]}"
}

main() {
    local gap
    gap=$(lacking)
    if [ -z "$gap" ]; then
        say "ready ($("$CHROMIUM" --version 2>/dev/null | head -n 1), CJK font present)"
        return 0
    fi
    apt_ok || unavailable "$gap, and this is not root on Debian/Ubuntu to install ${PACKAGES[*]}"
    local todo
    todo=$(missing)
    [ -n "$todo" ] || unavailable "$gap although ${PACKAGES[*]} are installed"
    say "installing $todo with apt-get (once per machine)"
    # shellcheck disable=SC2086  # one word per package
    apt_install "$LOG" $todo || unavailable "apt-get install $todo failed (see $LOG)"
    [ -x "$CHROMIUM" ] || unavailable "$CHROMIUM still missing after apt-get (see $LOG)"
    say "ready ($("$CHROMIUM" --version 2>/dev/null | head -n 1))"
}

main
exit 0
