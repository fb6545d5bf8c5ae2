#!/usr/bin/env bash
# run.sh - the fan-out benchmark: kamratd (plain and TLS) side by side with its
# peers (mosquitto plain and TLS, the Node.js ws relay) and the raw epoll
# ceiling, same workload, same generator, same run, on loopback.
#
#   bench/run.sh                   # everything (about 20 min)
#   QUICK=1 bench/run.sh           # smoke run: 100x10 only, short windows, 500 idle
#                                  # clients, 300 in the storm (about 100 s)
#   SERVERS="kamrat mosquitto" CONFIGS=100x10 WORKLOADS=fanout bench/run.sh
#
# It installs what is missing (Debian: mosquitto; npm: ws for the Node relay),
# builds kamratd (build-bench/, release), bench/loadgen and bench/ceiling,
# makes throw-away certificates, and for every server and workload starts a
# fresh server pinned to CPU $SERVER_CPU, runs loadgen pinned to CPU $GEN_CPU,
# and stops the server by its PID.  Every loadgen run is bounded
# (--max-seconds) and the script skips what would start after $BUDGET seconds.
# Results: bench/results/<UTC time>/SERVER__WORKLOAD.jsonl, the logs, env.txt
# and table.md (printed at the end).
#
# Workloads (WORKLOADS, default "idle storm fanout polltax"):
#   idle     IDLE_CLIENTS clients joined to rooms of 10, no traffic: RSS growth per client
#   storm    STORM_CLIENTS clients start connecting evenly over STORM_WINDOW seconds
#            (TLS servers only, STORM_SERVERS): handshake p50/p99, time until all joined
#   fanout   each of CONFIGS (rooms x members): capacity search (p99 < 50 ms), then a
#            fixed step of FIXED_DELIV offered deliveries/s for WINDOW seconds
#   polltax  100x10 at FIXED_DELIV with EXTRA_IDLE more idle clients connected
#            (POLLTAX_SERVERS): what idle connections cost an event loop per delivery
#
# Other knobs: SERVERS, WARMUP, SEARCH_WINDOW, SEARCH_STEPS, IDLE_HOLD, BUDGET,
# SERVER_CPU, GEN_CPU, PEERS_DIR (the peers harness, read-only), OUT.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$(cd "$ROOT/../shared/peers" 2>/dev/null && pwd || echo "$ROOT/../shared/peers")}

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${CONFIGS:=100x10}" "${WARMUP:=1}" "${WINDOW:=2}" "${SEARCH_WINDOW:=1}" "${SEARCH_STEPS:=2}"
	: "${IDLE_CLIENTS:=500}" "${IDLE_HOLD:=1}" "${STORM_CLIENTS:=300}" "${STORM_WINDOW:=1}"
	: "${EXTRA_IDLE:=2000}" "${POLLTAX_SERVERS:=kamrat mosquitto}" "${BUDGET:=150}"
fi
SERVERS=${SERVERS:-"kamrat kamrat-tls mosquitto mosquitto-tls node ceiling"}
WORKLOADS=${WORKLOADS:-"idle storm fanout polltax"}
CONFIGS=${CONFIGS:-"100x10 10x100 1x500"}
FIXED_DELIV=${FIXED_DELIV:-10000}
WARMUP=${WARMUP:-2}
WINDOW=${WINDOW:-20}
SEARCH_WINDOW=${SEARCH_WINDOW:-2}
SEARCH_STEPS=${SEARCH_STEPS:-9}
IDLE_CLIENTS=${IDLE_CLIENTS:-10000}
IDLE_HOLD=${IDLE_HOLD:-3}
STORM_CLIENTS=${STORM_CLIENTS:-2000}
STORM_WINDOW=${STORM_WINDOW:-2}
STORM_SERVERS=${STORM_SERVERS:-"kamrat-tls mosquitto-tls"}
EXTRA_IDLE=${EXTRA_IDLE:-9000}
POLLTAX_SERVERS=${POLLTAX_SERVERS:-"kamrat mosquitto node ceiling"}
BUDGET=${BUDGET:-1800}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)}

LOADGEN=$HERE/loadgen/loadgen
CEILING=$HERE/ceiling/ceiling
KAMRATD=$ROOT/build-bench/server/kamratd
RUN=$(mktemp -d /tmp/kamrat-bench.XXXXXX) # scratch: configs, certificates, data, server logs
START=$SECONDS
SERVER_PID=""

log() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
left() { echo $((BUDGET - (SECONDS - START))); }
has() { [[ " $1 " == *" $2 "* ]]; }

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
	fi
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}
trap 'stop_server; rm -rf "$RUN"' EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------------ setup
install_missing() {
	local pkgs=()
	command -v mosquitto >/dev/null || pkgs+=(mosquitto)
	command -v node >/dev/null || pkgs+=(nodejs npm)
	command -v taskset >/dev/null || pkgs+=(util-linux)
	command -v python3 >/dev/null || pkgs+=(python3)
	command -v meson >/dev/null || pkgs+=(meson ninja-build)
	[ -f /usr/include/openssl/ssl.h ] || pkgs+=(libssl-dev)
	if [ ${#pkgs[@]} -gt 0 ]; then
		log "installing ${pkgs[*]} (packaged services are not used: the script runs its own)"
		timeout 300 apt-get update -qq
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
		if has "${pkgs[*]}" mosquitto && command -v systemctl >/dev/null &&
			systemctl is-active -q mosquitto 2>/dev/null; then
			systemctl stop mosquitto || true
		fi
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

write_configs() {
	"$ROOT/certs/mkcert.sh" "$RUN/certs"
	mkdir -p "$RUN/kamrat-data"
	local limits="[limits]
rate_per_sec = 1000
rate_burst = 1000
max_conns_per_address = 100000
max_room_members = 1000
send_queue_bytes = 4194304
send_queue_frames = 8192"
	cat >"$RUN/kamrat.conf" <<EOF
[server]
address = 127.0.0.1
port = 9080
origin = http://127.0.0.1:9080
web_root = $ROOT/web
data_dir = $RUN/kamrat-data
[tls]
enabled = no
$limits
EOF
	cat >"$RUN/kamrat-tls.conf" <<EOF
[server]
address = 127.0.0.1
port = 9443
origin = https://localhost:9443
web_root = $ROOT/web
data_dir = $RUN/kamrat-data
[tls]
cert = $RUN/certs/server.pem
key = $RUN/certs/server.key
$limits
EOF
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
	# Rooms joined by name (hello {room, name}) need [testing] open_rooms = yes
	# since the store issue; a kamratd from before it knows no such key.
	local f
	for f in "$RUN/kamrat.conf" "$RUN/kamrat-tls.conf"; do
		printf '[testing]\nopen_rooms = yes\n' >>"$f"
		if ! "$KAMRATD" -t -c "$f" >/dev/null 2>&1; then
			head -n -2 "$f" >"$f.tmp" && mv "$f.tmp" "$f"
		fi
		"$KAMRATD" -t -c "$f" >/dev/null
	done
}

# ------------------------------------------------------------------ servers
wait_port() { # port: wait up to 15 s for a listener on the port
	for _ in $(seq 150); do
		if ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then return 0; fi
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

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
	esac
}

# run_load SERVER WORKLOAD MAXSEC loadgen-args...
run_load() {
	local srv=$1 wl=$2 maxsec=$3
	shift 3
	local f="$OUT/${srv}__${wl}.jsonl"
	if [ "$(left)" -lt 20 ]; then
		log "skip $srv $wl: time budget spent"
		echo "{\"kind\":\"error\",\"label\":\"$srv\",\"error\":\"skipped: time budget spent\"}" >"$f"
		return 0
	fi
	[ "$maxsec" -gt "$(left)" ] && maxsec=$(left)
	if ! start_server "$srv"; then
		echo "{\"kind\":\"error\",\"label\":\"$srv\",\"error\":\"server did not start\"}" >"$f"
		return 0
	fi
	log "$srv $wl (server pid $SERVER_PID, max ${maxsec}s)"
	taskset -c "$GEN_CPU" "$LOADGEN" --adapter "$ADAPTER" --port "$PORT" --server-pid "$SERVER_PID" \
		--label "$srv" --max-seconds "$maxsec" "${GEN[@]}" "$@" \
		>"$f" 2>"$OUT/${srv}__${wl}.log" || log "loadgen exited with $? (see ${srv}__${wl}.log)"
	python3 "$HERE/tools/brief.py" <"$f" | sed 's/^/    /' >&2
	stop_server
	cp "$RUN/$srv.log" "$OUT/${srv}__${wl}.server.log" 2>/dev/null || true
}

fanout_args() { # R M [extra idle]: the capacity search and the fixed step
	local r=$1 m=$2
	local rate
	rate=$(python3 -c "print(round($FIXED_DELIV / ($r * $m * $m), 6))")
	echo --rooms "$r" --members "$m" --join-timeout 90 \
		--search --search-start "$rate" --search-warmup 1 --search-window "$SEARCH_WINDOW" \
		--p99-ms 50 --resolution 1.25 --max-steps "$SEARCH_STEPS" --search-min-deliv 500 --drain 8 \
		--repeat-disturbed 2 \
		--rate "$rate" --warmup "$WARMUP" --window "$WINDOW" --recover 20 --short-overload 3
}

# ------------------------------------------------------------------ main
mkdir -p "$OUT"
install_missing
build
prepare_peers
write_configs
ulimit -n "$(ulimit -Hn)"
need=$((IDLE_CLIENTS + 200))
if [ "$(ulimit -n)" -lt "$need" ]; then
	log "ulimit -n is $(ulimit -n); $IDLE_CLIENTS idle clients need $need: lowering IDLE_CLIENTS"
	IDLE_CLIENTS=$((($(ulimit -n) - 200) / 10 * 10))
fi
if [ $((1000 + EXTRA_IDLE + 200)) -gt "$(ulimit -n)" ]; then
	EXTRA_IDLE=$((($(ulimit -n) - 1200) / 10 * 10))
fi
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "server on CPU $SERVER_CPU, loadgen on CPU $GEN_CPU (taskset)"
	echo "fanout: capacity search (1s warm-up + ${SEARCH_WINDOW}s steps, at most $SEARCH_STEPS), then $FIXED_DELIV offered deliveries/s, ${WARMUP}s warm-up + ${WINDOW}s window"
	echo "idle: $IDLE_CLIENTS clients; storm: $STORM_CLIENTS TLS clients over ${STORM_WINDOW}s; polltax: 100x10 + $EXTRA_IDLE idle clients"
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

for srv in $SERVERS; do
	echo "{\"kind\":\"meta\",\"server\":\"$srv\",\"version\":\"$(server_version "$srv")\"}" >"$OUT/${srv}__meta.jsonl"
	if has "$WORKLOADS" idle && [ "$IDLE_CLIENTS" -gt 0 ] && [ "$srv" != ceiling ]; then
		run_load "$srv" idle 150 --rooms $((IDLE_CLIENTS / 10)) --members 10 --idle "$IDLE_HOLD" \
			--parallel 128 --join-timeout 120
	fi
	if has "$WORKLOADS" storm && has "$STORM_SERVERS" "$srv"; then
		run_load "$srv" storm 90 --rooms $((STORM_CLIENTS / 10)) --members 10 --idle 0 \
			--join-window "$STORM_WINDOW" --join-timeout 60
	fi
	if has "$WORKLOADS" fanout; then
		for cfg in $CONFIGS; do
			# shellcheck disable=SC2046
			run_load "$srv" "$cfg" 240 $(fanout_args "${cfg%x*}" "${cfg#*x}")
		done
	fi
	if has "$WORKLOADS" polltax && has "$POLLTAX_SERVERS" "$srv" && [ "$EXTRA_IDLE" -gt 0 ]; then
		run_load "$srv" polltax 150 --rooms 100 --members 10 --extra-idle "$EXTRA_IDLE" \
			--parallel 128 --join-timeout 120 --rate "$(python3 -c "print($FIXED_DELIV / 10000)")" \
			--warmup "$WARMUP" --window "$WINDOW" --drain 8
	fi
done

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"
log "done in $((SECONDS - START)) s; results in $OUT"
python3 "$HERE/tools/table.py" "$OUT" | tee "$OUT/table.md"
