#!/bin/bash
# demo.sh [--port N]: build kamrat and run it in the foreground on
# https://localhost:N/ (default 8443), for trying it out on this machine.
#
# Installs missing packages (scripts/deps.sh), builds in build/, makes development
# certificates in certs/dev/ (certs/mkcert.sh), writes demo/kamrat.conf with its
# data in demo/data/, then replaces itself with kamratd. Ctrl-C stops the server.
# demo/ and certs/dev/ are git-ignored; delete them to start afresh.

set -euo pipefail

prog=${0##*/}

usage() {
    echo "usage: $prog [--port N]" >&2
    exit "${1:-64}"
}

port=8443
while [ $# -gt 0 ]; do
    case $1 in
    --port)
        [ $# -ge 2 ] || usage
        port=$2
        shift 2
        ;;
    --port=*)
        port=${1#--port=}
        shift
        ;;
    -h | --help) usage 0 ;;
    *) usage ;;
    esac
done
if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || [ "$port" -gt 65535 ]; then
    echo "$prog: not a port number: $port" >&2
    exit 64
fi

cd "$(dirname "$0")/.."
root=$(pwd)

scripts/deps.sh

if [ ! -f build/meson-private/coredata.dat ]; then
    log=$(mktemp)
    if ! meson setup build --buildtype=debugoptimized >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "$prog: meson setup failed" >&2
        exit 1
    fi
    rm -f "$log"
fi
meson compile -C build

kamratd=build/server/kamratd
if [ ! -x "$kamratd" ]; then
    echo "$prog: $kamratd was not built" >&2
    exit 1
fi

certs/mkcert.sh certs/dev

# A browser leaves the default port out of the Origin header.
if [ "$port" = 443 ]; then
    origin=https://localhost
else
    origin=https://localhost:$port
fi

mkdir -p demo/data
chmod 700 demo/data
cat >demo/kamrat.conf <<EOF
# Written by scripts/demo.sh; rewritten on every run.
# See kamrat.conf.example for every key.

[server]
address = 127.0.0.1
port = $port
origin = $origin
web_root = $root/web
data_dir = $root/demo/data

[tls]
cert = $root/certs/dev/server.pem
key = $root/certs/dev/server.key

[safety]
crisis_file = $root/safety/crisis.example.json
risk_words_file = $root/safety/risk-words.example.json
EOF

# A demo group with a leader, a coordinator, a session whose lobby is open now, and an
# invite link, made with the admin tool the way an association would.
ctl() { build/tools/kamratctl -c demo/kamrat.conf "$@"; }
group="Demo group"
if ! ctl group show "$group" >/dev/null 2>&1; then
    printf 'We keep what is said here to ourselves.\nWe listen and do not judge.\n' >demo/agreement.txt
    ctl group add "$group" --language en --description "A demonstration of kamrat" \
        --agreement-file demo/agreement.txt --max 12 >/dev/null
fi
if [ ! -s demo/leader-password ]; then
    (umask 077 && openssl rand -base64 15 >demo/leader-password)
    ctl leader add demo --password-stdin <demo/leader-password >/dev/null
    ctl group leader add "$group" demo >/dev/null
fi
# A coordinator for the console at /admin (groups, leaders, schedules and sessions,
# invites, bans, attendance, audit log, health).
if [ ! -s demo/coordinator-password ]; then
    (umask 077 && openssl rand -base64 15 >demo/coordinator-password)
    ctl coordinator add coordinator --password-stdin <demo/coordinator-password >/dev/null
fi
if ! ctl --json session list "$group" | grep -Eq '"state": "(lobby|running)"'; then
    ctl session add "$group" --start "$(date -u -d '+2 minutes' '+%Y-%m-%d %H:%M')" \
        --duration 180 --tz UTC --lobby 15 >/dev/null
fi
invite=$(ctl invite create "$group" --expires 1 | grep -o 'https://[^ ]*/j/[A-Za-z0-9_-]*')

cat <<EOF

kamrat demo
  participant  $invite
  leader       $origin/leader   user: demo   password: $(cat demo/leader-password)
  coordinator  $origin/admin    user: coordinator   password: $(cat demo/coordinator-password)
  open    $origin/
  trust   $root/certs/dev/ca.pem
          (import it as a certificate authority in a development browser
          profile; otherwise the browser warns about the certificate)
  listens on 127.0.0.1 only; from another machine: ssh -L $port:127.0.0.1:$port HOST
  config  demo/kamrat.conf, data in demo/data/
  stop    Ctrl-C

EOF

exec "$kamratd" -c demo/kamrat.conf
