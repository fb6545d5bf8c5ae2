#!/usr/bin/env bash
# growth.sh - how kamratd's cost grows with the members of a room, the number of
# rooms and the size of a message.  Every point is one fixed step at the same
# offered deliveries/s (FIXED_DELIV), so that between two points only the shape of
# the load changes, not its amount.
#
#   bench/growth.sh                   # kamratd, 9 points (about 5 min)
#   QUICK=1 bench/growth.sh           # smoke run: 1 s + 2 s windows, 5 points (about 1 min)
#   PEERS=mosquitto bench/growth.sh   # the same points against mosquitto as well
#
# The sweeps (a point is R rooms x M members with B-byte message bodies):
#   MEMBERS  members per room at about 1,000 connections: "100x10 20x50 10x100 2x500", B = 100
#   ROOMS    rooms of 10 members: "10 100 1000", B = 100
#   SIZES    body bytes at 100x10: "40 100 1000 4000".  loadgen's body carries a
#            38-byte header (its send time), so 40 is the smallest it sends; 4000
#            is its largest and kamratd's max_text_chars.
# A point that is in more than one sweep (100x10 with 100-byte bodies) is measured once.
#
# It builds and configures as run.sh does (lib.sh), then for every server and point
# starts a fresh server pinned to CPU $SERVER_CPU, runs loadgen pinned to CPU
# $GEN_CPU (one fixed step: WARMUP + WINDOW seconds, bounded by --max-seconds), and
# stops the server by its PID; what would start after BUDGET seconds is skipped.
# Results: bench/results/<UTC time>-growth/SERVER__RxM-BB.jsonl, the logs, env.txt,
# points.txt (which point is in which sweep) and table.md (tools/growth_table.py,
# printed at the end).
#
# Other knobs: PEERS (servers besides kamrat, names as in run.sh), FIXED_DELIV,
# WARMUP, WINDOW, BUDGET, SERVER_CPU, GEN_CPU, PEERS_DIR, OUT.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	# 100x10 is in every sweep and measured once, so rooms at 100 costs nothing more
	: "${MEMBERS:=100x10 2x500}" "${ROOMS:=10 100 1000}" "${SIZES:=100 4000}"
	: "${WARMUP:=1}" "${WINDOW:=2}" "${BUDGET:=120}"
fi
PEERS=${PEERS:-}
MEMBERS=${MEMBERS:-"100x10 20x50 10x100 2x500"}
ROOMS=${ROOMS:-"10 100 1000"}
SIZES=${SIZES:-"40 100 1000 4000"}
FIXED_DELIV=${FIXED_DELIV:-10000}
WARMUP=${WARMUP:-2}
WINDOW=${WINDOW:-20}
BUDGET=${BUDGET:-900}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)-growth}
# The largest say is a 4000-character text (loadgen's bodies are ASCII) in a frame of
# about 4,050 bytes.  kamratd's defaults allow it (max_text_chars 4000 exactly,
# max_message_bytes 16384 with room to spare); they are written out so that the sweep does not depend on
# the defaults: a smaller one later would turn the last points into text_too_long.
# shellcheck disable=SC2034 # read by write_configs in lib.sh
KAMRAT_LIMITS="max_message_bytes = 16384
max_text_chars = 4000"

# The machinery shared with run.sh (SERVER_CPU, GEN_CPU and PEERS_DIR default there).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

# ------------------------------------------------------------------ the points
sweep=() # "SWEEP WORKLOAD", in the order of the tables
for p in $MEMBERS; do
	[[ $p =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || { log "MEMBERS: $p is not RxM"; exit 2; }
	sweep+=("members $p-100B")
done
for r in $ROOMS; do
	[[ $r =~ ^[1-9][0-9]*$ ]] || { log "ROOMS: $r is not a number"; exit 2; }
	sweep+=("rooms ${r}x10-100B")
done
for b in $SIZES; do
	if ! [[ $b =~ ^[0-9]+$ ]] || [ "$b" -lt 40 ] || [ "$b" -gt 4000 ]; then
		log "SIZES: $b is not in 40..4000 (loadgen's --body-size)"
		exit 2
	fi
	sweep+=("size 100x10-${b}B")
done
points=() # each workload once, in the order of first appearance
for s in "${sweep[@]}"; do
	has "${points[*]}" "${s#* }" || points+=("${s#* }")
done

# ------------------------------------------------------------------ main
mkdir -p "$OUT"
install_missing
build
[ -z "$PEERS" ] || prepare_peers # mosquitto's configuration and the Node relay
write_configs
ulimit -n "$(ulimit -Hn)"
printf '%s\n' "${sweep[@]}" >"$OUT/points.txt"
{
	machine_env
	echo "growth: one fixed step per point at $FIXED_DELIV offered deliveries/s, ${WARMUP}s warm-up + ${WINDOW}s window"
	echo "points (rooms x members - body bytes): ${points[*]}"
	echo "load before: $(loadavg)"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

for srv in kamrat $PEERS; do
	write_meta "$srv"
	for wl in "${points[@]}"; do
		shape=${wl%-*} body=${wl##*-}
		r=${shape%x*} m=${shape#*x} body=${body%B}
		if [ $((r * m + 200)) -gt "$(ulimit -n)" ]; then
			log "skip $srv $wl: $((r * m)) clients need ulimit -n $((r * m + 200)), have $(ulimit -n)"
			run_error "$srv" "$wl" "skipped: ulimit -n $(ulimit -n)"
			continue
		fi
		# join, warm-up, window and drain, with room for a slow join of 10,000 clients
		run_load "$srv" "$wl" $((WARMUP + WINDOW + 60)) --rooms "$r" --members "$m" --body-size "$body" \
			--rate "$(member_rate "$FIXED_DELIV" "$r" "$m")" --warmup "$WARMUP" --window "$WINDOW" \
			--drain 8 --parallel 128 --join-timeout 40
	done
done

echo "load after: $(loadavg)" >>"$OUT/env.txt"
log "done in $((SECONDS - START)) s; results in $OUT"
python3 "$HERE/tools/growth_table.py" "$OUT" | tee "$OUT/table.md"
