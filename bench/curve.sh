#!/usr/bin/env bash
# curve.sh - the load curve: server CPU per delivery and p99 latency at fixed
# offered rates, for every server and fan-out shape, in one run.
#
#   bench/curve.sh                    # 5 servers x 3 shapes x 5 rates, 3 rounds (about 45 min)
#   QUICK=1 bench/curve.sh            # smoke run: 2 shapes x 2 small rates, 1 s windows, 1 round (about 1.5 min)
#   SERVERS="kamrat mosquitto" CONFIGS=1x500 RATES="10000 100000" bench/curve.sh
#
# Every server (SERVERS: kamrat, mosquitto, the raw epoll ceiling, and TLS for
# the two servers) and shape (CONFIGS, rooms x members) gets a fresh server pinned
# to CPU $SERVER_CPU and one loadgen pinned to CPU $GEN_CPU that runs one fixed
# step per offered rate (RATES, deliveries/s, lowest first, at most 8) on the same
# connections: WARMUP + WINDOW seconds each, then the backlog drains.  No search:
# the same rates for every server, so the curves compare point by point.
# All of it is done ROUNDS times, the servers taking turns (round 1 of every
# server and shape, then round 2 ...), and the tables give each step's median:
# on a VM the cost of a send and a wake-up drifts by 10-20 % over tens of seconds
# (the hypervisor, not the server; syscall counts stay the same), which at a few
# percent of a core no window length averages out, but turns spread over the run do
# (a level that moves for a whole run, as mosquitto's does, they cannot: README).
# It builds, configures, starts and stops servers as run.sh does (lib.sh); every
# loadgen run is bounded, and a run that would start after BUDGET is skipped.
# Results: bench/results/<UTC time>-curve/SERVER__RxM.jsonl (every round, in order;
# rounds/ keeps each one's own file and log), the logs, env.txt,
# table.md (tools/curve_table.py, printed at the end) and curve-RxM.svg, one per
# shape (tools/curve_plot.py, when gnuplot is there).
#
# Other knobs: STEAL_PCT, OTHERS_PCT (lib.sh), SERVER_CPU, GEN_CPU, PEERS_DIR, OUT.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${CONFIGS:=100x10 1x500}" "${RATES:=2000 5000}" "${WARMUP:=0.5}" "${WINDOW:=1}" "${BUDGET:=110}"
	: "${ROUNDS:=1}"
fi
SERVERS=${SERVERS:-"kamrat kamrat-tls mosquitto mosquitto-tls ceiling"}
CONFIGS=${CONFIGS:-"100x10 10x100 1x500"}
RATES=${RATES:-"10000 50000 100000 150000 200000"}
WARMUP=${WARMUP:-2}
WINDOW=${WINDOW:-5}
ROUNDS=${ROUNDS:-3}
BUDGET=${BUDGET:-$((1500 * ROUNDS))}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)-curve}

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

nrates=0
for r in $RATES; do
	[[ $r =~ ^[1-9][0-9]*$ ]] || { log "RATES: $r is not a whole number of deliveries/s"; exit 2; }
	nrates=$((nrates + 1))
done
if [ "$nrates" -lt 1 ] || [ "$nrates" -gt 8 ]; then
	log "RATES: 1 to 8 rates (loadgen's --rate list)"
	exit 2
fi
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { log "ROUNDS: 1 to 99"; exit 2; }
for c in $CONFIGS; do
	[[ $c =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || { log "CONFIGS: $c is not RxM"; exit 2; }
done

mkdir -p "$OUT"
install_missing
build
prepare_peers
write_configs
ulimit -n "$(ulimit -Hn)"
{
	machine_env
	echo "curve: offered deliveries/s $RATES; each ${WARMUP}s warm-up + ${WINDOW}s window, on the same connections; $ROUNDS rounds, the servers taking turns"
	echo "load before: $(loadavg)"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

# A step lasts WARMUP + WINDOW, then up to 5 s of drain and 10 s of recovery.
per_run=$(python3 -c "import math; print(math.ceil(60 + $nrates * ($WARMUP + $WINDOW + 15)))")
for srv in $SERVERS; do write_meta "$srv"; done
mkdir -p "$OUT/rounds"
for round in $(seq "$ROUNDS"); do
	for cfg in $CONFIGS; do
		r=${cfg%x*} m=${cfg#*x} rates=""
		for d in $RATES; do rates="$rates${rates:+,}$(member_rate "$d" "$r" "$m")"; done
		for srv in $SERVERS; do
			run_load "$srv" "$cfg.r$round" "$per_run" --rooms "$r" --members "$m" --join-timeout 90 \
				--rate "$rates" --warmup "$WARMUP" --window "$WINDOW" --drain 5 --recover 10
			cat "$OUT/${srv}__$cfg.r$round.jsonl" >>"$OUT/${srv}__$cfg.jsonl"
			mv "$OUT/${srv}__$cfg.r$round".* "$OUT/rounds/"
		done
	done
done

echo "load after: $(loadavg)" >>"$OUT/env.txt"
log "done in $((SECONDS - START)) s; results in $OUT"
python3 "$HERE/tools/curve_plot.py" "$OUT" || log "no plot (see above); the tables follow"
python3 "$HERE/tools/curve_table.py" "$OUT" | tee "$OUT/table.md"
