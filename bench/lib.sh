# lib.sh - what bench/run.sh and bench/growth.sh share: installing what is missing,
# building, the server configurations, starting a server pinned to $SERVER_CPU and
# stopping it by its PID, one bounded loadgen run pinned to $GEN_CPU, and the
# machine's lines of env.txt.
#
# Source it after the script's own knobs are set: it reads BUDGET and OUT (the
# script's), SERVER_CPU, GEN_CPU, PEERS_DIR, KAMRAT_LIMITS (more [limits] lines
# for kamratd's configurations), STEAL_PCT and OTHERS_PCT (loadgen_run's
# disturbance thresholds) and NEED_REDIS (1: install redis-server).
# Sourcing it makes the scratch directory $RUN and sets the traps that stop the
# server (and every PID in PIDS) and remove $RUN on exit.
# shellcheck shell=bash
# shellcheck disable=SC2154 # BUDGET and OUT are the sourcing script's knobs

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$(cd "$ROOT/../shared/peers" 2>/dev/null && pwd || echo "$ROOT/../shared/peers")}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
KAMRAT_LIMITS=${KAMRAT_LIMITS:-}
# A step is disturbed when, over its window, the hypervisor stole more than
# STEAL_PCT % of a core or other processes used more than OTHERS_PCT % of one
# (/proc/stat), or the server or loadgen waited on a run queue for over 5 %.
STEAL_PCT=${STEAL_PCT:-2}
OTHERS_PCT=${OTHERS_PCT:-10}

LOADGEN=$HERE/loadgen/loadgen
CEILING=$HERE/ceiling/ceiling
KAMRATD=$ROOT/build-bench/server/kamratd
RUN=$(mktemp -d /tmp/kamrat-bench.XXXXXX) # scratch: configs, certificates, data, server logs
START=$SECONDS
SERVER_PID=""
PIDS=() # more processes the script started, stopped by PID at exit (last first)

log() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
left() { echo $((BUDGET - (SECONDS - START))); }
has() { [[ " $1 " == *" $2 "* ]]; }

stop_pid() { # PID: SIGTERM, SIGKILL after 5 s, and reap it
	if kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$1" 2>/dev/null; then kill -KILL "$1" 2>/dev/null || true; fi
	fi
	wait "$1" 2>/dev/null || true
}

stop_server() {
	[ -z "$SERVER_PID" ] || stop_pid "$SERVER_PID"
	SERVER_PID=""
}

stop_pids() { # every PID in PIDS, the last started first
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
	PIDS=()
}
trap 'stop_server; stop_pids; rm -rf "$RUN"' EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------------ setup
install_missing() {
	local pkgs=() opt=()
	command -v mosquitto >/dev/null || pkgs+=(mosquitto)
	command -v node >/dev/null || pkgs+=(nodejs npm)
	command -v taskset >/dev/null || pkgs+=(util-linux)
	command -v python3 >/dev/null || pkgs+=(python3)
	command -v meson >/dev/null || pkgs+=(meson ninja-build)
	[ -f /usr/include/openssl/ssl.h ] || pkgs+=(libssl-dev)
	[ "${NEED_REDIS:-0}" != 1 ] || command -v redis-server >/dev/null || pkgs+=(redis-server)
	# gnuplot draws p99.svg (tools/plot.py); a run goes on without it, with no plot
	command -v gnuplot >/dev/null || opt+=(gnuplot-nox)
	# Prosody (XMPP MUC) only when asked for; lua-unbound is its resolver
	if has "${SERVERS:-} ${PEERS:-}" prosody && ! command -v prosody >/dev/null; then
		pkgs+=(prosody lua-unbound)
	fi
	if [ ${#pkgs[@]} -gt 0 ]; then
		log "installing ${pkgs[*]} (packaged services are not used: the script runs its own)"
		timeout 300 apt-get update -qq
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
		# Debian may start a packaged service: stop only what this install started
		for svc in mosquitto prosody redis-server; do
			if has "${pkgs[*]}" "$svc" && command -v systemctl >/dev/null &&
				systemctl is-active -q "$svc" 2>/dev/null; then
				systemctl stop "$svc" || true
			fi
		done
	fi
	if [ ${#opt[@]} -gt 0 ]; then
		log "installing ${opt[*]} (for the plot)"
		[ ${#pkgs[@]} -gt 0 ] || timeout 300 apt-get update -qq || true
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${opt[@]}" >&2 ||
			log "could not install ${opt[*]}: the run makes no plot"
	fi
}

build() {
	if [ ! -d "$ROOT/build-bench" ]; then
		log "meson setup build-bench (release)"
		meson setup "$ROOT/build-bench" "$ROOT" --buildtype=release >"$RUN/meson.log" 2>&1 ||
			{ cat "$RUN/meson.log" >&2; exit 1; }
	fi
	meson compile -C "$ROOT/build-bench" kamratd >"$RUN/meson.log" 2>&1 ||
		{ tail -30 "$RUN/meson.log" >&2; exit 1; }
	make -s -C "$HERE/loadgen" >&2
	make -s -C "$HERE/ceiling" >&2
}

# The Node relay and mosquitto's config come from the peers harness, which is
# read-only: copy them into the scratch directory.
prepare_peers() {
	mkdir -p "$RUN/node-ws"
	cp "$PEERS_DIR/node-ws/server.js" "$PEERS_DIR/node-ws/package.json" "$RUN/node-ws/"
	cp "$PEERS_DIR/node-ws/package-lock.json" "$RUN/node-ws/" 2>/dev/null || true
	cp "$PEERS_DIR/conf/mosquitto.conf" "$RUN/mosquitto.conf"
	if [ -d "$ROOT/node_modules/ws" ]; then
		ln -s "$ROOT/node_modules" "$RUN/node-ws/node_modules" # the project's own ws
	else
		log "npm ci (ws) for the Node relay"
		(cd "$RUN/node-ws" && timeout 300 npm ci --no-audit --no-fund --silent)
	fi
}

# drop_unknown_keys FILE: delete the lines an older kamratd ($KAMRATD) calls an
# unknown key (a limit it does not have yet), so one configuration serves the
# before and after binaries of one run.
drop_unknown_keys() {
	local f=$1 err line n
	for n in 1 2 3 4 5 6 7 8; do
		err=$("$KAMRATD" -t -c "$f" 2>&1 >/dev/null) && return 0
		line=$(printf '%s\n' "$err" | sed -n "s|.*$f:\([0-9]*\): unknown key.*|\1|p" | head -n 1)
		[ -n "$line" ] || return 0
		sed -i "${line}d" "$f"
	done
}

# kamrat_conf FILE PORT ORIGIN DATA_DIR TLS [MORE]: a kamratd configuration with the
# bench's limits (and KAMRAT_LIMITS), TLS the lines of its [tls] section, MORE more
# sections at the end; checked with kamratd -t.
kamrat_conf() {
	local f=$1 tls=$5 more=${6:-}
	mkdir -p "$4"
	cat >"$f" <<EOF
[server]
address = 127.0.0.1
port = $2
origin = $3
web_root = $ROOT/web
data_dir = $4
[tls]
$tls
[limits]
rate_per_sec = 1000
rate_burst = 1000
max_conns_per_address = 100000
max_websockets_per_address = 100000
max_room_members = 1000
send_queue_bytes = 4194304
send_queue_frames = 8192
EOF
	[ -z "$KAMRAT_LIMITS" ] || printf '%s\n' "$KAMRAT_LIMITS" >>"$f"
	# Rooms joined by name (hello {room, name}) need [testing] open_rooms = yes
	# since the store issue; a kamratd from before it knows no such key, and
	# drop_unknown_keys takes it out again.
	printf '[testing]\nopen_rooms = yes\n' >>"$f"
	drop_unknown_keys "$f"
	[ -z "$more" ] || printf '%s\n' "$more" >>"$f"
	"$KAMRATD" -t -c "$f" >/dev/null
}

write_configs() {
	"$ROOT/certs/mkcert.sh" "$RUN/certs"
	kamrat_conf "$RUN/kamrat.conf" 9080 http://127.0.0.1:9080 "$RUN/kamrat-data" "enabled = no"
	kamrat_conf "$RUN/kamrat-tls.conf" 9443 https://localhost:9443 "$RUN/kamrat-data" \
		"cert = $RUN/certs/server.pem
key = $RUN/certs/server.key"
	# mosquitto with TLS on its websockets listener.  "user root" keeps it from
	# dropping to the mosquitto user, which cannot read the 0600 key.
	cat >"$RUN/mosquitto-tls.conf" <<EOF
user root
per_listener_settings false
allow_anonymous true
persistence false
log_dest stderr
log_type error
log_type warning
connection_messages false
max_connections -1
listener 18831 127.0.0.1
listener 9002 127.0.0.1
protocol websockets
socket_domain ipv4
certfile $RUN/certs/server.pem
keyfile $RUN/certs/server.key
EOF
}

# ------------------------------------------------------------------ servers
wait_port() { # PORT [PID]: wait up to 15 s for a listener on PORT while PID (the server) lives
	local pid=${2:-$SERVER_PID}
	for _ in $(seq 150); do
		if ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then return 0; fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

free_port() { # a loopback port that nothing listens on now (the kernel's choice)
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME -> SERVER_PID, PORT, ADAPTER, GEN (extra loadgen arguments)
start_server() {
	local name=$1 ports
	GEN=()
	case $name in
	kamrat)
		PORT=9080 ADAPTER=kamrat ports=9080
		GEN=(--origin http://127.0.0.1:9080)
		;;
	kamrat-tls)
		PORT=9443 ADAPTER=kamrat ports=9443
		GEN=(--tls --ca "$RUN/certs/ca.pem" --origin https://localhost:9443)
		;;
	mosquitto) PORT=9001 ADAPTER=mqtt ports="9001 18830" ;;
	mosquitto-tls)
		PORT=9002 ADAPTER=mqtt ports="9002 18831"
		GEN=(--tls --ca "$RUN/certs/ca.pem")
		;;
	node) PORT=9003 ADAPTER=json ports=9003 ;;
	ceiling) PORT=9004 ADAPTER=json ports=9004 ;;
	prosody)
		# XMPP over WebSocket to a MUC, configured by the peers' prosody.cfg.lua
		PORT=5280 ADAPTER=xmpp ports="5280 15222"
		GEN=(--aopt domain=localhost --aopt muc=conference.localhost)
		;;
	*)
		log "unknown server $name"
		return 1
		;;
	esac
	for p in $ports; do port_free "$p" || { log "port $p is busy"; return 1; }; done
	case $name in
	kamrat | kamrat-tls) taskset -c "$SERVER_CPU" "$KAMRATD" -c "$RUN/$name.conf" >"$RUN/$name.log" 2>&1 & ;;
	mosquitto | mosquitto-tls) taskset -c "$SERVER_CPU" mosquitto -c "$RUN/$name.conf" >"$RUN/$name.log" 2>&1 & ;;
	node) taskset -c "$SERVER_CPU" node "$RUN/node-ws/server.js" 9003 127.0.0.1 >"$RUN/$name.log" 2>&1 & ;;
	ceiling) taskset -c "$SERVER_CPU" "$CEILING" 9004 127.0.0.1 >"$RUN/$name.log" 2>&1 & ;;
	prosody)
		# PROSODY_TUNED=1: TCP_NODELAY and generational GC, the peers' "prosody-tuned"
		# (as shipped, Nagle alone puts its p99 at ~50 ms at any load)
		rm -rf "$RUN/prosody-data" && mkdir -p "$RUN/prosody-data"
		PEERS_RUN=$RUN PROSODY_TUNED=1 taskset -c "$SERVER_CPU" \
			prosody -F --config "$PEERS_DIR/conf/prosody.cfg.lua" >"$RUN/$name.log" 2>&1 &
		;;
	esac
	SERVER_PID=$!
	if ! wait_port "$PORT"; then
		log "$name did not start; its log:"
		tail -20 "$RUN/$name.log" >&2 || true
		stop_server
		return 1
	fi
	sleep 0.5
}

server_version() {
	case $1 in
	kamrat*) echo "kamratd $("$KAMRATD" -V | cut -d' ' -f2) ($(git -C "$ROOT" rev-parse --short HEAD)$( [ -n "$(git -C "$ROOT" status --porcelain -- server 2>/dev/null)" ] && echo ', server/ modified'), release build), libwebsockets $(dpkg-query -W -f='${Version}' libwebsockets17 2>/dev/null || echo '?')" ;;
	mosquitto*) echo "mosquitto $(dpkg-query -W -f='${Version}' mosquitto) (libwebsockets $(dpkg-query -W -f='${Version}' libwebsockets17 2>/dev/null || echo '?'))" ;;
	node) echo "node $(node --version), ws $(node -p "require('$RUN/node-ws/node_modules/ws/package.json').version")" ;;
	ceiling) echo "bench/ceiling (raw epoll, plain TCP)" ;;
	prosody) echo "prosody $(dpkg-query -W -f='${Version}' prosody) (tuned: TCP_NODELAY, generational GC)" ;;
	esac
}

# run_error LABEL WORKLOAD WHY: what the tables show for a run that did not happen
run_error() {
	echo "{\"kind\":\"error\",\"label\":\"$1\",\"error\":\"$3\"}" >"$OUT/${1}__${2}.jsonl"
}

# budget_ok LABEL WORKLOAD: false (the run recorded as skipped) when BUDGET is spent
budget_ok() {
	[ "$(left)" -ge 20 ] && return 0
	log "skip $1 $2: time budget spent"
	run_error "$1" "$2" "skipped: time budget spent"
	return 1
}

# loadgen_run LABEL WORKLOAD MAXSEC loadgen-args...: one loadgen run pinned to
# GEN_CPU, stopped after MAXSEC (or what BUDGET leaves), into
# $OUT/LABEL__WORKLOAD.jsonl and .log; the servers are the caller's.
loadgen_run() {
	local label=$1 wl=$2 maxsec=$3
	shift 3
	local f="$OUT/${label}__${wl}.jsonl"
	[ "$maxsec" -gt "$(left)" ] && maxsec=$(left)
	log "$label $wl (max ${maxsec}s)"
	taskset -c "$GEN_CPU" "$LOADGEN" --label "$label" --max-seconds "$maxsec" \
		--steal-pct "$STEAL_PCT" --others-pct "$OTHERS_PCT" "$@" \
		>"$f" 2>"$OUT/${label}__${wl}.log" || log "loadgen exited with $? (see ${label}__${wl}.log)"
	python3 "$HERE/tools/brief.py" <"$f" | sed 's/^/    /' >&2
}

# run_load SERVER WORKLOAD MAXSEC loadgen-args...: a fresh server, one loadgen run, stop
run_load() {
	local srv=$1 wl=$2 maxsec=$3
	shift 3
	budget_ok "$srv" "$wl" || return 0
	if ! start_server "$srv"; then
		run_error "$srv" "$wl" "server did not start"
		return 0
	fi
	loadgen_run "$srv" "$wl" "$maxsec" --adapter "$ADAPTER" --port "$PORT" \
		--server-pid "$SERVER_PID" "${GEN[@]}" "$@"
	stop_server
	cp "$RUN/$srv.log" "$OUT/${srv}__${wl}.server.log" 2>/dev/null || true
}

# member_rate DELIV R M: msgs/s per member for DELIV deliveries/s in R rooms of M
# (every member of a room receives every message of the room, the sender too)
member_rate() {
	python3 -c "print(round($1 / ($2 * $3 * $3), 6))"
}

write_meta() { # SERVER: its version, for the tables
	echo "{\"kind\":\"meta\",\"server\":\"$1\",\"version\":\"$(server_version "$1")\"}" >"$OUT/${1}__meta.jsonl"
}

machine_env() { # the first lines of env.txt
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "server on CPU $SERVER_CPU, loadgen on CPU $GEN_CPU (taskset)"
	echo "disturbed: steal > $STEAL_PCT % or other processes > $OTHERS_PCT % of a core, or a run-queue wait > 5 % of the window"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
