#!/usr/bin/env bash
# run.sh - the fan-out benchmark: kamratd (plain and TLS) side by side with its
# peers (mosquitto plain and TLS, the Node.js ws relay) and the raw epoll
# ceiling, same workload, same generator, same run, on loopback.
#
#   bench/run.sh                   # everything (about 75 min: 30, then the curve's 45)
#   QUICK=1 bench/run.sh           # smoke run: 100x10 only, short windows, 500 idle
#                                  # clients, 300 in the storm (about 3 min)
#   SERVERS="kamrat mosquitto" CONFIGS=100x10 WORKLOADS=fanout bench/run.sh
#
# It installs what is missing (Debian: mosquitto; npm: ws for the Node relay),
# builds kamratd (build-bench/, release), bench/loadgen and bench/ceiling,
# makes throw-away certificates, and for every server and workload starts a
# fresh server pinned to CPU $SERVER_CPU, runs loadgen pinned to CPU $GEN_CPU,
# and stops the server by its PID.  Every loadgen run is bounded
# (--max-seconds) and the script skips what would start after $BUDGET seconds.
# Results: bench/results/<UTC time>/SERVER__WORKLOAD.jsonl, the logs, env.txt,
# table.md (printed at the end) and p99.svg (tools/plot.py, when gnuplot is there).
#
# Workloads (WORKLOADS, default "idle storm fanout polltax curve"):
#   idle     IDLE_CLIENTS clients joined to rooms of 10, no traffic: RSS growth per client
#   storm    STORM_CLIENTS clients start connecting evenly over STORM_WINDOW seconds
#            (TLS servers only, STORM_SERVERS): handshake p50/p99, time until all joined
#   fanout   each of CONFIGS (rooms x members): capacity search (p99 < 50 ms), then a
#            fixed step of FIXED_DELIV offered deliveries/s for WINDOW seconds
#   polltax  100x10 at FIXED_DELIV with EXTRA_IDLE more idle clients connected
#            (POLLTAX_SERVERS): what idle connections cost an event loop per delivery
#   curve    the load curve, curve.sh, for the SERVERS it knows and CONFIGS, into
#            OUT/curve (its own tables and plots; its knobs RATES and ROUNDS)
#
# Other knobs: SERVERS, WARMUP, SEARCH_WINDOW, SEARCH_STEPS, SEARCH_SECONDS, IDLE_HOLD,
# BUDGET, STEAL_PCT, OTHERS_PCT (what marks a step disturbed, lib.sh), SERVER_CPU,
# GEN_CPU, PEERS_DIR (the peers harness, read-only), OUT.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${CONFIGS:=100x10}" "${WARMUP:=1}" "${WINDOW:=2}" "${SEARCH_WINDOW:=1}" "${SEARCH_STEPS:=2}"
	: "${SEARCH_SECONDS:=15}"
	: "${IDLE_CLIENTS:=500}" "${IDLE_HOLD:=1}" "${STORM_CLIENTS:=300}" "${STORM_WINDOW:=1}"
	: "${EXTRA_IDLE:=2000}" "${POLLTAX_SERVERS:=kamrat mosquitto}" "${BUDGET:=150}"
fi
SERVERS=${SERVERS:-"kamrat kamrat-tls mosquitto mosquitto-tls node prosody ceiling"}
WORKLOADS=${WORKLOADS:-"idle storm fanout polltax curve"}
CONFIGS=${CONFIGS:-"100x10 10x100 1x500"}
FIXED_DELIV=${FIXED_DELIV:-10000}
WARMUP=${WARMUP:-2}
WINDOW=${WINDOW:-20}
SEARCH_WINDOW=${SEARCH_WINDOW:-2}
SEARCH_STEPS=${SEARCH_STEPS:-9}
SEARCH_SECONDS=${SEARCH_SECONDS:-120}
IDLE_CLIENTS=${IDLE_CLIENTS:-10000}
IDLE_HOLD=${IDLE_HOLD:-3}
STORM_CLIENTS=${STORM_CLIENTS:-2000}
STORM_WINDOW=${STORM_WINDOW:-2}
STORM_SERVERS=${STORM_SERVERS:-"kamrat-tls mosquitto-tls"}
EXTRA_IDLE=${EXTRA_IDLE:-9000}
POLLTAX_SERVERS=${POLLTAX_SERVERS:-"kamrat mosquitto node ceiling"}
BUDGET=${BUDGET:-1800}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)}

# The machinery shared with growth.sh (SERVER_CPU, GEN_CPU and PEERS_DIR default there).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

fanout_args() { # R M [extra idle]: the capacity search and the fixed step
	local r=$1 m=$2
	local rate
	rate=$(member_rate "$FIXED_DELIV" "$r" "$m")
	echo --rooms "$r" --members "$m" --join-timeout 90 \
		--search --search-start "$rate" --search-warmup 1 --search-window "$SEARCH_WINDOW" \
		--p99-ms 50 --resolution 1.25 --max-steps "$SEARCH_STEPS" --search-min-deliv 500 --drain 8 \
		--repeat-failed 1 --repeat-disturbed 2 --search-seconds "$SEARCH_SECONDS" \
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
	machine_env
	echo "fanout: capacity search (1s warm-up + ${SEARCH_WINDOW}s steps, at most $SEARCH_STEPS rates and ${SEARCH_SECONDS}s), then $FIXED_DELIV offered deliveries/s, ${WARMUP}s warm-up + ${WINDOW}s window"
	echo "idle: $IDLE_CLIENTS clients; storm: $STORM_CLIENTS TLS clients over ${STORM_WINDOW}s; polltax: 100x10 + $EXTRA_IDLE idle clients"
	echo "load before: $(loadavg)"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

for srv in $SERVERS; do
	write_meta "$srv"
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

echo "load after: $(loadavg)" >>"$OUT/env.txt"
log "done in $((SECONDS - START)) s; results in $OUT"
# p99 against delivered/s (p99.svg); the tables are the run's result, so a plot
# that cannot be made is only logged
python3 "$HERE/tools/plot.py" "$OUT" || log "no plot (see above); the tables follow"
python3 "$HERE/tools/table.py" "$OUT" | tee "$OUT/table.md"

if has "$WORKLOADS" curve; then
	curve_servers=""
	for srv in $SERVERS; do
		if has "kamrat kamrat-tls mosquitto mosquitto-tls ceiling" "$srv"; then
			curve_servers="$curve_servers${curve_servers:+ }$srv"
		fi
	done
	if [ -n "$curve_servers" ]; then
		log "the load curve (curve.sh) into $OUT/curve"
		# its own windows and budget, not this script's
		env -u WARMUP -u WINDOW -u BUDGET SERVERS="$curve_servers" CONFIGS="$CONFIGS" QUICK="$QUICK" \
			OUT="$OUT/curve" "$HERE/curve.sh" || log "curve.sh exited with $?"
	fi
fi
