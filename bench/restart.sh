#!/usr/bin/env bash
# restart.sh - what a restart of one kamratd costs the rooms chatting on it: the
# time until every member is back and posting, and what was lost.
#
#   bench/restart.sh                  # 100x10 at 10,000 deliveries/s, 3 kinds x 3: 10 min at most (BUDGET)
#   QUICK=1 bench/restart.sh          # smoke run: 10x10, one of each kind (under 1 min)
#   KINDS=planned REPEATS=5 bench/restart.sh
#
# ROOMS rooms of MEMBERS members chat over TLS at FIXED_DELIV deliveries/s
# (tools/restart_client.mjs: one Node process, a WebSocket per member, rooms by
# name with [testing] open_rooms) against the working tree's release kamratd
# (build-bench/, as run.sh builds it). After WARMUP s the script restarts the
# server once, in one of three ways (KINDS):
#
#   planned   SIGUSR2 (systemctl reload): the new binary takes over the socket and
#             every room in memory; clients are closed with 1012 and resume
#   kill9     SIGKILL, then start kamratd again: resumes fail with
#             server_restarted and the members join again (the conversation is gone)
#   sigterm   SIGTERM, wait for the exit, start again: the restart as it was
#             before the handover (clients are closed with 1001 and back off)
#
# and the members reconnect as protocol/README.md §7 says (1012: at once, with up
# to 0.25 s of jitter; else 0.5 s x 2^n with full jitter), send every unacked
# message again with its id (or one new message), and chat SETTLE s more. The
# client's line says, from the signal: when each member was welcomed back and
# when its first message after that was acked (p50, p99, max); how many messages
# acked before the restart some member never received; how many were sent during
# the switch (unacked when the connection went, or due while away) and of these
# how many were never acked, acked twice, or missed by a member; and deliveries
# of one message twice to one member.
#
# Each of REPEATS runs per kind gets a fresh kamratd (pinned to SERVER_CPU, its
# data directory emptied) and a fresh client (on GEN_CPU). The handover's new
# process is the old one's child: the script takes its PID from the log
# (handover_accepting) and stops it by that PID. Everything is on loopback;
# BUDGET bounds the run and every wait is bounded.
#
# Results: bench/results/<UTC time>-restart/KIND-N.jsonl (the client's lines and
# the script's {"kind":"server"} line), KIND-N.server.log, KIND-N.log (the
# client's stderr), env.txt and table.md (tools/restart_table.py, printed).
#
# Knobs: ROOMS, MEMBERS, FIXED_DELIV, KINDS, REPEATS, WARMUP, SETTLE, TIMEOUT (s
# a restart may take before the client gives up on it), BUDGET, SERVER_CPU,
# GEN_CPU, OUT.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${ROOMS:=10}" "${REPEATS:=1}" "${WARMUP:=2}" "${SETTLE:=1}" "${BUDGET:=120}"
fi
ROOMS=${ROOMS:-100}
MEMBERS=${MEMBERS:-10}
FIXED_DELIV=${FIXED_DELIV:-10000}
KINDS=${KINDS:-"planned kill9 sigterm"}
REPEATS=${REPEATS:-3}
WARMUP=${WARMUP:-3}
SETTLE=${SETTLE:-2}
TIMEOUT=${TIMEOUT:-30}
BUDGET=${BUDGET:-600}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)-restart}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

for k in $KINDS; do
	has "planned kill9 sigterm" "$k" || { log "KINDS: unknown kind $k"; exit 2; }
done
for v in ROOMS MEMBERS FIXED_DELIV REPEATS WARMUP SETTLE TIMEOUT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { log "$v: a positive whole number"; exit 2; }
done
command -v node >/dev/null || { log "node is missing"; exit 1; }
[ -d "$ROOT/node_modules/ws" ] || { log "node_modules/ws is missing: npm ci in $ROOT"; exit 1; }

build
mkdir -p "$OUT" "$RUN/rt"
"$ROOT/certs/mkcert.sh" "$RUN/certs" >/dev/null
PORT=$(free_port)
kamrat_conf "$RUN/restart.conf" "$PORT" "https://localhost:$PORT" "$RUN/data" \
	"cert = $RUN/certs/server.pem
key = $RUN/certs/server.key"
# The handover's channel goes into the runtime directory, as under systemd.
export RUNTIME_DIRECTORY=$RUN/rt

start_kamratd() { # LOG: a kamratd on PORT -> SERVER_PID
	taskset -c "$SERVER_CPU" "$KAMRATD" -c "$RUN/restart.conf" >>"$1" 2>&1 &
	SERVER_PID=$!
	wait_port "$PORT" || { log "kamratd did not start:"; tail -20 "$1" >&2; return 1; }
}

now_ms() { date +%s%3N; }

# restart KIND LOG T0FILE: restart the server in that way; the time of the signal
# goes into T0FILE, and the time (ms after it) the new process accepted into READY_MS.
restart() {
	local kind=$1 slog=$2 t0 old=$SERVER_PID pid=""
	t0=$(now_ms)
	case $kind in
	planned)
		kill -USR2 "$old"
		echo "$t0" >"$3"
		for _ in $(seq 1500); do
			pid=$(sed -n 's/.*handover_accepting pid=\([0-9]*\).*/\1/p' "$slog" | tail -n 1)
			[ -z "$pid" ] || break
			sleep 0.02
		done
		[ -n "$pid" ] || { log "the new process did not take over"; return 1; }
		READY_MS=$(($(now_ms) - t0))
		SERVER_PID=$pid
		wait "$old" 2>/dev/null || true # the old one exits once its clients are gone
		;;
	kill9 | sigterm)
		if [ "$kind" = kill9 ]; then kill -KILL "$old"; else kill -TERM "$old"; fi
		echo "$t0" >"$3"
		stop_pid "$old" # reaps it (SIGKILL after 5 s should SIGTERM not end it)
		SERVER_PID=""
		start_kamratd "$slog" || return 1
		READY_MS=$(($(now_ms) - t0))
		;;
	esac
}

# one KIND N: a fresh server and client, one restart
one() {
	local kind=$1 n=$2 f="$OUT/$1-$2.jsonl" slog="$OUT/$1-$2.server.log" client
	rm -rf "$RUN/data" "$RUN/t0" && mkdir -p "$RUN/data"
	: >"$slog"
	start_kamratd "$slog" || { echo '{"kind":"error","error":"server did not start"}' >"$f"; return 0; }
	: >"$f" # appended to by the client and by this script
	taskset -c "$GEN_CPU" node "$HERE/tools/restart_client.mjs" --port "$PORT" --ca "$RUN/certs/ca.pem" \
		--t0-file "$RUN/t0" --rooms "$ROOMS" --members "$MEMBERS" --deliv "$FIXED_DELIV" \
		--warmup "$WARMUP" --settle "$SETTLE" --timeout "$TIMEOUT" >>"$f" 2>"$OUT/$1-$2.log" &
	client=$!
	PIDS+=("$client")
	for _ in $(seq 1200); do # the client joins everyone and chats WARMUP s (at most 60 s)
		grep -q '"steady"' "$f" 2>/dev/null && break
		kill -0 "$client" 2>/dev/null || break
		sleep 0.05
	done
	if grep -q '"steady"' "$f"; then
		log "$kind $n: restart"
		READY_MS=""
		if restart "$kind" "$slog" "$RUN/t0"; then
			echo "{\"kind\":\"server\",\"restart\":\"$kind\",\"ready_ms\":$READY_MS,\"load\":\"$(loadavg)\"}" >>"$f"
		fi
	else
		log "$kind $n: the client did not get going (see $1-$2.log)"
	fi
	# The client ends by itself: TIMEOUT + SETTLE + a few seconds of drain.
	for _ in $(seq $(((TIMEOUT + SETTLE + 45) * 10))); do
		kill -0 "$client" 2>/dev/null || break
		sleep 0.1
	done
	stop_pid "$client"
	PIDS=()
	stop_server
	grep -h '"kind":"restart"' "$f" | cut -c1-400 | sed 's/^/    /' >&2 || true
}

{
	machine_env
	echo "kamratd: $(server_version kamrat)"
	echo "client: node $(node --version), ws $(node -p "require('$ROOT/node_modules/ws/package.json').version"), TLS (full handshakes)"
	echo "workload: ${ROOMS}x$MEMBERS, $FIXED_DELIV deliveries/s, warm-up $WARMUP s, settle $SETTLE s, timeout $TIMEOUT s"
	echo "load before: $(loadavg)"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

for ((n = 1; n <= REPEATS; n++)); do
	for kind in $KINDS; do
		if [ "$(left)" -lt $((WARMUP + SETTLE + 30)) ]; then
			log "skip $kind $n: time budget spent"
			continue
		fi
		one "$kind" "$n"
	done
done
echo "load after: $(loadavg)" >>"$OUT/env.txt"
python3 "$HERE/tools/restart_table.py" "$OUT" | tee "$OUT/table.md"
