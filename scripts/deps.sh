#!/bin/bash
# deps.sh: install what kamrat builds, runs and tests with, when it is missing.
#
#   scripts/deps.sh              run it, or
#   . scripts/deps.sh            source it from a bash script (returns its status)
#
# 1. Debian packages: missing ones are installed with apt-get (one `apt-get update`
#    first). As root this happens unattended; otherwise the apt-get command to run
#    is printed and the status is 1. Node.js and npm count as present when the
#    `node` and `npm` commands exist, wherever they came from; the browser of the
#    e2e suite when $KAMRAT_CHROMIUM (default /usr/bin/chromium) is executable.
# 2. Node modules of the repository's package.json: `npm ci` (or `npm install`
#    when there is no package-lock.json) when node_modules is missing or older
#    than package.json or package-lock.json.
#
# Prints nothing when everything is present. Status 0 when everything is present
# afterwards, 1 otherwise.

# Debian packages needed by the build, the tests and the scripts. libclang-rt-14-dev
# holds the ASan/UBSan runtime, which clang only recommends; tzdata the time zones
# schedules are computed in; python3 sums up the test logs in .ci/run; the sqlite3
# shell writes rows no kamratctl command makes (a leader's ban) in integration tests.
# The fonts are what the e2e suite's screenshots render with (the client asks for
# system-ui, sans-serif; fontconfig picks DejaVu Sans; people write emoji), so
# they look the same on every machine; chromium itself installs no fonts.
# testssl.sh and sslscan check the TLS port; valgrind runs the unit tests; the
# install test checks the unit (systemd-analyze), the man pages (man-db,
# groff-base) and the admin guide's firewall rules (nftables); the fault tests
# use prlimit and mount (util-linux); the cluster suite starts its own redis-server
# and haproxy (the load balancer of dist/haproxy.cfg.example), and libhiredis-dev
# is the Redis client kamratd links. libpq-dev is the PostgreSQL client kamratd
# links ([store] engine = postgresql); postgresql-15 holds the server binaries the
# store tests start throw-away clusters with (tests/pg/pgtmp.sh). Debian's
# postgresql-15 would create and start a system cluster "main" on install:
# before installing it, deps.sh sets create_main_cluster = off in
# /etc/postgresql-common/createcluster.conf, so no database service is left
# running (an existing setting of that key is kept). libicu-dev is ICU, which
# kamratd links for pseudonyms: NFC, and Unicode TS #39's spoof checker that
# refuses look-alike names (server/names.h).
KAMRAT_DEB_PACKAGES=(
    build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
    libwebsockets-dev libwebsockets-evlib-ev libev-dev libjansson-dev libinih-dev libssl-dev
    libsqlite3-dev libcmocka-dev libargon2-dev openssl clang-format curl tzdata python3 sqlite3
    fonts-dejavu-core fonts-liberation fonts-noto-color-emoji
    testssl.sh sslscan valgrind nftables systemd man-db groff-base util-linux
    redis-server haproxy libhiredis-dev libpq-dev postgresql-15 libicu-dev
    # The web client's files go out compressed, made once at start (server/encoding.h).
    zlib1g-dev libbrotli-dev
    # Invite links as QR codes for the leader's page and the console (server/qr.h).
    libqrencode-dev
)

# Before postgresql-15 is installed: postgresql-common (which reads the setting)
# with create_main_cluster = off, unless the admin set the key already.
kamrat_no_main_cluster() {
    local conf=/etc/postgresql-common/createcluster.conf
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq -y \
        install postgresql-common || return 1
    grep -Eq '^[[:space:]]*create_main_cluster[[:space:]]*=' "$conf" 2>/dev/null ||
        echo 'create_main_cluster = off # kamrat: tests start their own clusters' >>"$conf"
}

kamrat_deps() {
    local root log missing=() pkg status stamp
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || return 1

    # Installed packages show as "ii" in dpkg's status; unknown ones print nothing.
    for pkg in "${KAMRAT_DEB_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)
        [[ $status == ii* ]] || missing+=("$pkg")
    done
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    # The e2e suite drives Debian's chromium (tests/e2e/lib/browser.mjs).
    [ -x "${KAMRAT_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)

    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "deps: missing Debian packages: ${missing[*]}" >&2
            echo "deps: install them with:" >&2
            echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
            return 1
        fi
        echo "deps: installing ${missing[*]}" >&2
        log=$(mktemp) || return 1
        if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq update \
            >"$log" 2>&1 ||
            { [[ " ${missing[*]} " == *" postgresql-15 "* ]] && ! kamrat_no_main_cluster >>"$log" 2>&1; } ||
            ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq -y \
                -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
                install "${missing[@]}" >>"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "deps: apt-get failed" >&2
            return 1
        fi
        rm -f "$log"
        hash -r
    fi

    [ -f "$root/package.json" ] || return 0
    stamp=$root/node_modules/.kamrat-deps-stamp
    if [ -e "$stamp" ] && [ ! "$root/package.json" -nt "$stamp" ] &&
        { [ ! -f "$root/package-lock.json" ] || [ ! "$root/package-lock.json" -nt "$stamp" ]; }; then
        return 0
    fi
    log=$(mktemp) || return 1
    if [ -f "$root/package-lock.json" ]; then
        set -- ci
    else
        set -- install
    fi
    if ! (cd "$root" && npm_config_update_notifier=false npm "$@" --no-audit --no-fund \
        --loglevel=error >"$log" 2>&1); then
        cat "$log" >&2
        rm -f "$log"
        echo "deps: npm $1 failed in $root" >&2
        return 1
    fi
    rm -f "$log"
    touch "$stamp"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    kamrat_deps
    exit $?
else
    kamrat_deps
fi
