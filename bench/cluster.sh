#!/usr/bin/env bash
# cluster.sh - the fan-out workloads on 1, 2 and 3 kamratd nodes of one cluster
# ([cluster] on one redis-server), all on this machine: what a delivery costs when
# it crosses the bus, against the same delivery on one node.
#
#   bench/cluster.sh                  # everything (about 13 min on the 2-core VM)
#   QUICK=1 bench/cluster.sh          # smoke run: 100x10 only, short windows (about 2 min)
#   NODES="1 3" CONFIGS=1x500 bench/cluster.sh
#
# For every node count and fan-out configuration it starts a fresh redis-server
# (a free loopback port, no persistence, in the scratch directory) and N fresh
# kamratd nodes (plain WebSocket, open rooms, [cluster] node-1..N on that Redis,
# each on a free port, all with the same public origin as behind a proxy), waits
# until every node's /healthz shows N live nodes and the bus up, and runs one
# loadgen: member m of every room connects to node (m mod N), so every message
# crosses the bus.  The run is a short step-up (a capacity search from the highest
# fixed rate, p99 < 50 ms) and then a fixed step at each of RATES offered
# deliveries/s.  Then the nodes and Redis are stopped by their PIDs.
#
# Pinning: every kamratd node and redis-server on SERVER_CPU (0), loadgen on
# GEN_CPU (1).  On two cores this measures the total CPU a delivery costs the
# servers, not how far three nodes scale: see bench/README.md, "Several nodes".
#
# Per step: kamratd CPU and redis-server CPU (utime+stime of each PID over the
# window, loadgen's srv_cpu_s_each), and at both edges of the window the nodes'
# kamrat_bus_{sent,received}_bytes_total (/metrics) and Redis's
# total_net_{input,output}_bytes (INFO), read by a --window-cmd probe.
# "solo" is one kamratd without [cluster] (no Redis at all): what the mirror of
# every event in Redis costs one node; BASELINE=0 leaves it out.
#
# Results: bench/results/<UTC time>-cluster/LABEL__RxM.jsonl (LABEL solo, n1, n2,
# n3), LABEL__RxM.probe (the probe's lines), the logs, env.txt and table.md
# (tools/cluster_table.py, printed at the end).
#
# Knobs: NODES, CONFIGS, RATES, BASELINE, WARMUP, WINDOW, SEARCH_WINDOW,
# SEARCH_STEPS, BUDGET, SERVER_CPU, GEN_CPU, OUT.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${CONFIGS:=100x10}" "${RATES:=2000 10000}" "${WARMUP:=1}" "${WINDOW:=3}"
	: "${SEARCH_WINDOW:=1}" "${SEARCH_STEPS:=2}" "${BUDGET:=150}"
fi
NODES=${NODES:-"1 2 3"}
CONFIGS=${CONFIGS:-"100x10 10x100 1x500"}
RATES=${RATES:-"2000 5000 10000"}
BASELINE=${BASELINE:-1}
WARMUP=${WARMUP:-2}
WINDOW=${WINDOW:-10}
SEARCH_WINDOW=${SEARCH_WINDOW:-2}
SEARCH_STEPS=${SEARCH_STEPS:-4}
BUDGET=${BUDGET:-960}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)-cluster}
# shellcheck disable=SC2034 # read by install_missing in lib.sh
NEED_REDIS=1

# The machinery shared with run.sh and growth.sh (SERVER_CPU, GEN_CPU default there).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

for n in $NODES; do
	[[ $n =~ ^[1-8]$ ]] || { log "NODES: $n is not 1..8"; exit 2; }
done
for cfg in $CONFIGS; do
	[[ $cfg =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || { log "CONFIGS: $cfg is not RxM"; exit 2; }
done

# ------------------------------------------------------------------ Redis and the nodes
REDIS_PORT="" REDIS_PID=""

start_redis() { # a fresh redis-server on a free loopback port -> REDIS_PORT, REDIS_PID (in PIDS)
	REDIS_PORT=$(free_port)
	rm -rf "$RUN/redis" && mkdir -p "$RUN/redis"
	taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		--appendonly no --dir "$RUN/redis" >"$RUN/redis.log" 2>&1 &
	REDIS_PID=$!
	PIDS+=("$REDIS_PID")
	for _ in $(seq 50); do
		[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	log "redis-server did not answer PING; its log:"
	tail -20 "$RUN/redis.log" >&2
	return 1
}

# healthy PORT N: the node's /healthz shows N live nodes and the bus up (N = 0: it answers)
healthy() {
	local h
	h=$(curl -s --max-time 1 "http://127.0.0.1:$1/healthz") || return 1
	[ "$2" = 0 ] || [[ $h == *'"bus":"ok"'* && $h == *"\"live_nodes\":$2}"* ]]
}

# start_nodes N (0: one node without [cluster]) -> NODE_PORTS, NODE_PIDS (also in PIDS)
start_nodes() {
	local n=$1 count=$1 i cluster origin
	[ "$n" != 0 ] || count=1
	NODE_PORTS=() NODE_PIDS=()
	for ((i = 1; i <= count; i++)); do NODE_PORTS+=("$(free_port)"); done
	origin=http://127.0.0.1:${NODE_PORTS[0]} # one public origin, as behind a proxy
	for ((i = 1; i <= count; i++)); do
		cluster=""
		[ "$n" = 0 ] || cluster="[cluster]
node_id = node-$i
redis = 127.0.0.1:$REDIS_PORT"
		kamrat_conf "$RUN/node-$i.conf" "${NODE_PORTS[i - 1]}" "$origin" "$RUN/node-$i" \
			"enabled = no" "$cluster"
		taskset -c "$SERVER_CPU" "$KAMRATD" -c "$RUN/node-$i.conf" >"$RUN/node-$i.log" 2>&1 &
		PIDS+=($!) NODE_PIDS+=($!)
	done
	for ((i = 1; i <= count; i++)); do
		if ! wait_port "${NODE_PORTS[i - 1]}" "${NODE_PIDS[i - 1]}"; then
			log "node-$i did not start; its log:"
			tail -20 "$RUN/node-$i.log" >&2
			return 1
		fi
	done
	for _ in $(seq 100); do
		local up=0
		for p in "${NODE_PORTS[@]}"; do healthy "$p" "$n" && up=$((up + 1)); done
		[ "$up" -lt "$count" ] || return 0
		sleep 0.2
	done
	log "the nodes did not all see $n live nodes and the bus up within 20 s"
	return 1
}

# Each node tells the others to forget what they had from it the first time it
# relays a client (bus.c, ready()), so on a fresh cluster a node's first relay can
# end clients that another node had already relayed to it ("1001 node restarted";
# they cannot join again by name while their member waits out resume_grace).
# Throw-away joins to rooms w0.. with members on every node make every node relay
# once before the measured clients arrive.
warm_bus() { # N
	[ "$1" -ge 2 ] || return 0
	taskset -c "$GEN_CPU" "$LOADGEN" --adapter kamrat --port "$(IFS=,; echo "${NODE_PORTS[*]}")" \
		--origin "http://127.0.0.1:${NODE_PORTS[0]}" --aopt room_prefix=w --rooms $((4 * $1)) \
		--members "$1" --idle 0 --join-timeout 10 --max-seconds 20 >"$RUN/warm.jsonl" 2>&1 || true
}

# The --window-cmd of loadgen: at both edges of every window, one line of FILE:
# "STEP EDGE BUS_SENT BUS_RECEIVED REDIS_IN REDIS_OUT" (bytes, summed over the nodes).
cat >"$RUN/probe.sh" <<'EOF'
#!/bin/sh
# probe.sh FILE REDIS_PORT NODE_PORT...
f=$1 rport=$2
shift 2
urls=""
for p in "$@"; do urls="$urls http://127.0.0.1:$p/metrics"; done
# shellcheck disable=SC2086 # one URL a word
bus=$(curl -s --max-time 2 $urls | awk '$1 == "kamrat_bus_sent_bytes_total" { s += $2 }
	$1 == "kamrat_bus_received_bytes_total" { r += $2 } END { printf "%.0f %.0f", s, r }')
net=$(redis-cli -p "$rport" info stats | tr -d '\r' | awk -F: '$1 == "total_net_input_bytes" { i = $2 }
	$1 == "total_net_output_bytes" { o = $2 } END { printf "%.0f %.0f", i, o }')
printf '%s %s %s %s\n' "$LG_STEP" "$LG_EDGE" "$bus" "$net" >>"$f"
EOF
chmod +x "$RUN/probe.sh"

# run_cluster N RxM: fresh Redis and nodes, the step-up and the fixed steps, stop all
run_cluster() {
	local n=$1 cfg=$2 label r m rates=() pids=() probe=() d
	label=n$n
	[ "$n" != 0 ] || label=solo
	r=${cfg%x*} m=${cfg#*x}
	for d in $RATES; do rates+=("$(member_rate "$d" "$r" "$m")"); done
	budget_ok "$label" "$cfg" || return 0
	if ! { { [ "$n" = 0 ] || start_redis; } && start_nodes "$n" && warm_bus "$n"; }; then
		run_error "$label" "$cfg" "the nodes did not start"
		stop_pids
		return 0
	fi
	for d in "${NODE_PIDS[@]}"; do pids+=(--server-pid "$d"); done
	if [ "$n" != 0 ]; then # Redis last: tools/cluster_table.py reads srv_cpu_s_each so
		pids+=(--server-pid "$REDIS_PID")
		probe=(--window-cmd "$RUN/probe.sh $OUT/${label}__$cfg.probe $REDIS_PORT ${NODE_PORTS[*]}")
	fi
	# join (60 s at most), each search step with its drain, each fixed step with its recovery
	loadgen_run "$label" "$cfg" $((90 + SEARCH_STEPS * (SEARCH_WINDOW + 8) + ${#rates[@]} * (WARMUP + WINDOW + 22))) \
		--adapter kamrat --port "$(IFS=,; echo "${NODE_PORTS[*]}")" --origin "http://127.0.0.1:${NODE_PORTS[0]}" \
		"${pids[@]}" "${probe[@]}" --rooms "$r" --members "$m" --parallel 128 --join-timeout 60 \
		--search --search-start "${rates[-1]}" --search-warmup 1 --search-window "$SEARCH_WINDOW" \
		--p99-ms 50 --resolution 1.5 --max-steps "$SEARCH_STEPS" --search-min-deliv 500 \
		--rate "$(IFS=,; echo "${rates[*]}")" --warmup "$WARMUP" --window "$WINDOW" --drain 5 --recover 15
	stop_pids
	for ((d = 1; d <= ${#NODE_PIDS[@]}; d++)); do
		cp "$RUN/node-$d.log" "$OUT/${label}__$cfg.node-$d.log" 2>/dev/null || true
	done
}

# ------------------------------------------------------------------ main
mkdir -p "$OUT"
install_missing
build
ulimit -n "$(ulimit -Hn)"
write_meta kamrat
{
	machine_env
	echo "all kamratd nodes and redis-server on CPU $SERVER_CPU (taskset): CPU per delivery, not scale"
	echo "$(redis-server --version | cut -d' ' -f1-3), --save '' --appendonly no, a fresh one per run"
	echo "cluster: nodes $NODES$([ "$BASELINE" = 1 ] && echo ' and solo (one node without [cluster])'); configs $CONFIGS"
	echo "each run: step-up (capacity search from the highest rate, ${SEARCH_WINDOW}s steps, at most $SEARCH_STEPS), then fixed steps at $RATES offered deliveries/s, ${WARMUP}s warm-up + ${WINDOW}s window"
	echo "load before: $(loadavg)"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

for cfg in $CONFIGS; do
	[ "$BASELINE" != 1 ] || run_cluster 0 "$cfg"
	for n in $NODES; do run_cluster "$n" "$cfg"; done
done

echo "load after: $(loadavg)" >>"$OUT/env.txt"
log "done in $((SECONDS - START)) s; results in $OUT"
python3 "$HERE/tools/cluster_table.py" "$OUT" | tee "$OUT/table.md"
