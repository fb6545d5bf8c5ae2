#!/usr/bin/env bash
# joinstorm.sh - does one slow thing stall the rooms?  Rooms chat at a fixed
# rate while participants join sessions with invites, with the store fast, locked
# or far away: the chat's latency and the joiners' answers, per case and kamratd.
#
#   bench/joinstorm.sh                # 100x10 chatting, 500 joiners, 4 cases (about 5 min)
#   QUICK=1 bench/joinstorm.sh        # smoke run: 10x10, 50 joiners, 4 cases (under 2 min)
#   KAMRATD_BEFORE=/old/build/server/kamratd bench/joinstorm.sh   # before and after
#   CASES="sqlite sqlite-lock" bench/joinstorm.sh
#
# The workload: ROOMS rooms of MEMBERS members chat at FIXED_DELIV deliveries/s
# (the fan-out workload of run.sh, rooms by name with [testing] open_rooms) and,
# in the window of the measured step, JOINERS participants join SESSIONS real
# sessions: groups, sessions (half running, half in their lobby, by the server's
# [testing] clock_offset) and personal invites made with kamratctl in the store
# before the run; each joiner sends the invite hello of protocol/README.md §4,
# evenly over STORM seconds.  The window lasts until the last joiner has its
# answer or has waited JOINER_TIMEOUT seconds (hung).
#
# The cases (CASES):
#   sqlite       the SQLite store, nothing else
#   sqlite-lock  the same, and a sqlite3 process holds a write transaction
#                (BEGIN IMMEDIATE) for STALL seconds in the middle of the storm,
#                as a kamratctl command or a backup script might
#   pg           PostgreSQL (a throw-away cluster, tests/pg/pgtmp.sh) reached
#                through lagproxy/, which adds DELAY_MS each way
#   pg-freeze    the same, and the proxy forwards nothing for STALL seconds in the
#                middle of the storm (it keeps the sockets)
#
# Servers: the working tree's kamratd (built in build-bench/, as run.sh does),
# labelled "kamrat"; with KAMRATD_BEFORE=PATH also that binary, and the two are
# labelled "before" and "after" (KAMRATD_AFTER=PATH replaces the working tree's).
# Each needs its own kamratctl for its store's schema: KAMRATCTL_BEFORE
# (default: tools/kamratctl beside the binary's server/ directory).
#
# Every case and server gets a fresh kamratd pinned to SERVER_CPU and a fresh
# copy of the store; loadgen runs on GEN_CPU.  Everything is on loopback; every
# process the script starts is stopped by its PID (the PostgreSQL cluster by
# pgtmp.sh, by its data directory's postmaster.pid); BUDGET bounds the run.
# Results: bench/results/<UTC time>-joinstorm/LABEL__CASE.jsonl (loadgen's
# lines: join, the fixed step, joiners), .log, .server.log, .stall (when the
# stall began and ended, seconds after the storm began), env.txt, and table.md
# (tools/joinstorm_table.py, printed at the end).
#
# Knobs: ROOMS, MEMBERS, FIXED_DELIV, JOINERS, SESSIONS, STORM, WARMUP, STALL,
# DELAY_MS, JOINER_TIMEOUT, INVITES (personal or group), RETRYABLE (error codes a
# joiner may retry, for the table), CASES, BUDGET, SERVER_CPU, GEN_CPU, OUT.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${ROOMS:=10}" "${JOINERS:=50}" "${SESSIONS:=5}" "${WARMUP:=1}" "${BUDGET:=150}"
fi
ROOMS=${ROOMS:-100}
MEMBERS=${MEMBERS:-10}
FIXED_DELIV=${FIXED_DELIV:-10000}
JOINERS=${JOINERS:-500}
SESSIONS=${SESSIONS:-50}
STORM=${STORM:-5}
WARMUP=${WARMUP:-2}
STALL=${STALL:-3}
DELAY_MS=${DELAY_MS:-2}
JOINER_TIMEOUT=${JOINER_TIMEOUT:-30}
INVITES=${INVITES:-personal}
RETRYABLE=${RETRYABLE:-"internal busy"}
CASES=${CASES:-"sqlite sqlite-lock pg pg-freeze"}
BUDGET=${BUDGET:-900}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)-joinstorm}

# The machinery shared with run.sh (SERVER_CPU, GEN_CPU default there).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

LAGPROXY=$HERE/lagproxy/lagproxy
PGTMP=$ROOT/tests/pg/pgtmp.sh
PG_BIN=${KAMRAT_PG_BIN:-/usr/lib/postgresql/15/bin}
CLOCK_OFFSET=1500 # the server's clock runs 25 min ahead: see make_store

for c in $CASES; do
	has "sqlite sqlite-lock pg pg-freeze" "$c" || { log "CASES: unknown case $c"; exit 2; }
done
[[ $INVITES == personal || $INVITES == group ]] || { log "INVITES: personal or group"; exit 2; }
for v in ROOMS MEMBERS JOINERS SESSIONS STORM STALL JOINER_TIMEOUT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { log "$v: a positive whole number"; exit 2; }
done
[ "$STALL" -lt "$STORM" ] || { log "STALL must be shorter than STORM"; exit 2; }
[ $((JOINERS / SESSIONS)) -le 450 ] || { log "more than 450 joiners a session"; exit 2; }
command -v sqlite3 >/dev/null || { log "sqlite3 is missing (Debian: sqlite3, in scripts/deps.sh)"; exit 1; }

# ------------------------------------------------------------------ the servers
LABELS=()
declare -A BIN CTL
if [ -n "${KAMRATD_BEFORE:-}" ]; then
	LABELS=(before after)
	BIN[before]=$(realpath "$KAMRATD_BEFORE")
	CTL[before]=$(realpath "${KAMRATCTL_BEFORE:-$(dirname "$KAMRATD_BEFORE")/../tools/kamratctl}")
	BIN[after]=${KAMRATD_AFTER:-$KAMRATD}
	CTL[after]=${KAMRATCTL_AFTER:-$ROOT/build-bench/tools/kamratctl}
else
	LABELS=(kamrat)
	BIN[kamrat]=${KAMRATD_AFTER:-$KAMRATD}
	CTL[kamrat]=${KAMRATCTL_AFTER:-$ROOT/build-bench/tools/kamratctl}
fi

# ------------------------------------------------------------------ PostgreSQL
PG_DIR="" PG_PORT="" PG_RUNS=0

stop_pg() {
	[ -z "$PG_DIR" ] || "$PGTMP" stop "$PG_DIR" || true
	PG_DIR=""
}
trap 'stop_server; stop_pids; stop_pg; rm -rf "$RUN"' EXIT

psql_run() { # SQL: as the cluster's superuser, over TCP with the password
	PGPASSFILE=$RUN/pgpass "$PG_BIN/psql" -qAtX -h 127.0.0.1 -p "$PG_PORT" -U kamrat -d postgres -c "$1"
}

start_pg() { # a throw-away cluster, once per run; its postmaster on SERVER_CPU
	[ -z "$PG_DIR" ] || return 0
	local line pw
	line=$("$PGTMP" start $$) || { log "no PostgreSQL cluster: $line"; return 1; }
	IFS=$'\t' read -r PG_DIR pw _ <<<"$line"
	PG_PORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$line")
	(umask 077 && printf '%s\n' "$pw" >"$RUN/pg.pw" && printf '*:*:*:kamrat:%s\n' "$pw" >"$RUN/pgpass")
	# Children forked later inherit the affinity: the database works on the
	# server's core, as kamratd waits for it there.
	taskset -a -p -c "$SERVER_CPU" "$(head -1 "$PG_DIR/data/postmaster.pid")" >/dev/null
	log "PostgreSQL $("$PG_BIN/postgres" -V | cut -d' ' -f3) on port $PG_PORT"
}

# ------------------------------------------------------------------ the store
# ctl_conf FILE DATA_DIR [STORE]: a configuration for kamratctl (no [testing]:
# kamratctl schedules by the real clock).
ctl_conf() {
	mkdir -p "$2"
	cat >"$1" <<EOF
[server]
address = 127.0.0.1
port = 9
origin = http://127.0.0.1:9
web_root = $ROOT/web
data_dir = $2
[tls]
enabled = no
${3:-}
EOF
}

pg_store() { # DBNAME PORT: the [store] section for a database of the cluster
	printf '[store]\nengine = postgresql\npostgresql = host=127.0.0.1 port=%s dbname=%s user=kamrat\npostgresql_password_file = %s\n' \
		"$2" "$1" "$RUN/pg.pw"
}

# make_store LABEL ENGINE: the template store of one server and engine, made
# with its kamratctl: SESSIONS groups, each with one session (even ones running
# by the server's clock, which is CLOCK_OFFSET ahead; odd ones in their lobby)
# and its invites; the codes go to $RUN/LABEL-ENGINE.invites, a line per
# joiner (joiner j is in session j mod SESSIONS).  The codes never leave $RUN.
make_store() {
	local label=$1 engine=$2 conf=$RUN/$1-$2.ctl.conf ctl=${CTL[$1]} i j per running lobby link
	local -a code
	per=$(((JOINERS + SESSIONS - 1) / SESSIONS))
	if [ "$engine" = pg ]; then
		psql_run "CREATE DATABASE tmpl_$label"
		ctl_conf "$conf" "$RUN/$label-pg.ctl" "$(pg_store "tmpl_$label" "$PG_PORT")"
	else
		ctl_conf "$conf" "$RUN/$label-sqlite.tmpl"
	fi
	# Sessions start on the minute: running ones 20 min from now (the server,
	# 25 min ahead, sees them 5 min in), lobby ones in 60 min with a 60 min lobby.
	running=$(date -u -d '+20 min' '+%Y-%m-%d %H:%M')
	lobby=$(date -u -d '+60 min' '+%Y-%m-%d %H:%M')
	log "$label, $engine: $SESSIONS groups and sessions, $INVITES invites (kamratctl)"
	for ((i = 0; i < SESSIONS; i++)); do
		"$ctl" -c "$conf" group add "g$i" --language en --max $((per + 5)) >/dev/null
		if ((i % 2 == 0)); then
			"$ctl" -c "$conf" session add "g$i" --start "$running" --tz UTC --duration 120 --lobby 15 >/dev/null
		else
			"$ctl" -c "$conf" session add "g$i" --start "$lobby" --tz UTC --duration 120 --lobby 60 >/dev/null
		fi
		if [ "$INVITES" = group ]; then
			link=$("$ctl" -c "$conf" --json invite create "g$i" | sed -n 's/.*"link": *"\([^"]*\)".*/\1/p')
			code[i]=${link##*/}
		fi
	done
	(
		umask 077
		for ((j = 0; j < JOINERS; j++)); do
			i=$((j % SESSIONS))
			if [ "$INVITES" = group ]; then
				echo "${code[i]}"
			else
				link=$("$ctl" -c "$conf" --json invite create "g$i" --personal | sed -n 's/.*"link": *"\([^"]*\)".*/\1/p')
				echo "${link##*/}"
			fi
		done >"$RUN/$label-$engine.invites"
	)
	[ "$(grep -c . "$RUN/$label-$engine.invites")" = "$JOINERS" ] || { log "kamratctl made too few invites"; return 1; }
}

# fresh_store LABEL ENGINE DATA_DIR -> STORE (the [store] lines, none for SQLite):
# a copy of the template, so every run has unused invites.
fresh_store() {
	mkdir -p "$3"
	STORE=""
	if [ "$2" = pg ]; then
		PG_RUNS=$((PG_RUNS + 1))
		psql_run "CREATE DATABASE run_$PG_RUNS TEMPLATE tmpl_$1"
		STORE=$(pg_store "run_$PG_RUNS" "$PROXY_PORT")
	else
		cp "$RUN/$1-sqlite.tmpl/kamrat.db" "$3/kamrat.db"
	fi
}

# ------------------------------------------------------------------ one run
PROXY_PID="" PROXY_PORT=""

start_proxy() { # lagproxy on SERVER_CPU in front of the cluster -> PROXY_PORT, PROXY_PID (in PIDS)
	PROXY_PORT=$(free_port)
	taskset -c "$SERVER_CPU" "$LAGPROXY" "$PROXY_PORT" "$PG_PORT" "$DELAY_MS" $((STALL * 1000)) \
		2>"$1" &
	PROXY_PID=$!
	PIDS+=("$PROXY_PID")
	wait_port "$PROXY_PORT" "$PROXY_PID"
}

now_s() { date +%s.%N; }

# stall CASE DATA_DIR STALLFILE: once the storm began (loadgen's --window-cmd
# writes the edge), wait until STALL is centred in STORM, then hold the
# database's write lock or freeze the proxy for STALL seconds.
stall() {
	local t0 a b edges=$RUN/edges half
	half=$(python3 -c "print(($STORM - $STALL) / 2)")
	while ! grep -q '^fixed start' "$edges" 2>/dev/null; do
		kill -0 "$LG_PID" 2>/dev/null || return 0
		sleep 0.02
	done
	t0=$(now_s)
	sleep "$half"
	a=$(now_s)
	case $1 in
	sqlite-lock)
		# What a kamratctl command does, held open: a write transaction.
		sqlite3 "$2/kamrat.db" ".timeout 5000" "BEGIN IMMEDIATE;" \
			"UPDATE groups SET description = description WHERE id = (SELECT min(id) FROM groups);" \
			".shell sleep $STALL" "COMMIT;" >"$3.sqlite3" 2>&1 &
		PIDS+=($!)
		wait $! || log "sqlite3 exited with $? (see $3.sqlite3)"
		;;
	pg-freeze)
		kill -USR1 "$PROXY_PID"
		sleep "$STALL"
		;;
	esac
	b=$(now_s)
	python3 -c "print('stall_start_s %.3f stall_end_s %.3f' % ($a - $t0, $b - $t0))" >"$3"
}

# run_case LABEL CASE: a fresh store and kamratd, one loadgen run, stop
run_case() {
	local label=$1 cs=$2 engine=sqlite port data conf base rate
	[[ $cs == pg* ]] && engine=pg
	base=$OUT/${label}__$cs
	budget_ok "$label" "$cs" || return 0
	port=$(free_port)
	data=$RUN/$label-$cs
	if [ "$engine" = pg ]; then
		start_proxy "$base.proxy.log" || { run_error "$label" "$cs" "lagproxy did not start"; stop_pids; return 0; }
	fi
	fresh_store "$label" "$engine" "$data"
	conf=$RUN/$label-$cs.conf
	KAMRATD=${BIN[$label]} kamrat_conf "$conf" "$port" "http://127.0.0.1:$port" "$data" "enabled = no" \
		"[testing]
clock_offset = $CLOCK_OFFSET
$STORE"
	taskset -c "$SERVER_CPU" "${BIN[$label]}" -c "$conf" >"$RUN/server.log" 2>&1 &
	SERVER_PID=$!
	if ! wait_port "$port"; then
		log "$label did not start; its log:"
		tail -20 "$RUN/server.log" >&2
		run_error "$label" "$cs" "server did not start"
		stop_server
		stop_pids
		return 0
	fi
	rate=$(member_rate "$FIXED_DELIV" "$ROOMS" "$MEMBERS")
	: >"$RUN/edges"
	local maxsec=$((60 + WARMUP + STORM + JOINER_TIMEOUT + 40))
	[ "$maxsec" -le "$(left)" ] || maxsec=$(left)
	log "$label $cs (max ${maxsec}s)"
	taskset -c "$GEN_CPU" "$LOADGEN" --label "$label" --max-seconds "$maxsec" --adapter kamrat \
		--port "$port" --origin "http://127.0.0.1:$port" --server-pid "$SERVER_PID" \
		--rooms "$ROOMS" --members "$MEMBERS" --parallel 128 --join-timeout 60 \
		--rate "$rate" --warmup "$WARMUP" --window "$STORM" --recover 5 --drain 30 \
		--joiners "$JOINERS" --joiner-window "$STORM" --joiner-timeout "$JOINER_TIMEOUT" \
		--aopt "invites=$RUN/$label-$engine.invites" \
		--window-cmd "echo \"\$LG_KIND \$LG_EDGE\" >>$RUN/edges" >"$base.jsonl" 2>"$base.log" &
	LG_PID=$!
	PIDS+=("$LG_PID")
	if [[ $cs == *-lock || $cs == *-freeze ]]; then stall "$cs" "$data" "$base.stall"; fi
	wait "$LG_PID" || log "loadgen exited with $? (see ${label}__$cs.log)"
	python3 "$HERE/tools/brief.py" <"$base.jsonl" | sed 's/^/    /' >&2
	stop_server
	stop_pids
	cp "$RUN/server.log" "$base.server.log"
}

# ------------------------------------------------------------------ main
mkdir -p "$OUT"
build
meson compile -C "$ROOT/build-bench" kamratctl >"$RUN/meson.log" 2>&1 || { tail -30 "$RUN/meson.log" >&2; exit 1; }
make -s -C "$HERE/lagproxy" >&2
ulimit -n "$(ulimit -Hn)"
for label in "${LABELS[@]}"; do
	for f in "${BIN[$label]}" "${CTL[$label]}"; do
		[ -x "$f" ] || { log "$label: $f is not an executable"; exit 1; }
	done
	if [ "${BIN[$label]}" = "$KAMRATD" ]; then
		version=$(server_version kamrat)
	else
		version="$("${BIN[$label]}" -V | head -1), ${BIN[$label]}"
	fi
	echo "{\"kind\":\"meta\",\"server\":\"$label\",\"version\":\"$version\"}" >"$OUT/${label}__meta.jsonl"
done
{
	machine_env
	echo "joinstorm: ${ROOMS}x$MEMBERS chatting at $FIXED_DELIV deliveries/s (${WARMUP}s warm-up); $JOINERS joiners with $INVITES invites into $SESSIONS sessions over ${STORM}s; hung after ${JOINER_TIMEOUT}s"
	echo "stall: ${STALL}s in the middle of the storm; proxy delay ${DELAY_MS} ms each way; PostgreSQL and lagproxy on CPU $SERVER_CPU"
	echo "cases: $CASES; servers: ${LABELS[*]}; retryable codes: $RETRYABLE"
	echo "load before: $(loadavg)"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

need_pg=0
for c in $CASES; do [[ $c != pg* ]] || need_pg=1; done
if [ "$need_pg" = 1 ] && ! start_pg; then
	log "the PostgreSQL cases are skipped"
	CASES=$(tr ' ' '\n' <<<"$CASES" | grep -v '^pg' | tr '\n' ' ')
	for label in "${LABELS[@]}"; do
		run_error "$label" pg "skipped: no PostgreSQL cluster"
	done
fi
for label in "${LABELS[@]}"; do
	if has "$CASES" sqlite || has "$CASES" sqlite-lock; then make_store "$label" sqlite; fi
	if [ -n "$PG_DIR" ]; then make_store "$label" pg; fi
done
for cs in $CASES; do
	for label in "${LABELS[@]}"; do run_case "$label" "$cs"; done
done
stop_pg

echo "load after: $(loadavg)" >>"$OUT/env.txt"
log "done in $((SECONDS - START)) s; results in $OUT"
python3 "$HERE/tools/joinstorm_table.py" --retryable "$RETRYABLE" "$OUT" | tee "$OUT/table.md"
