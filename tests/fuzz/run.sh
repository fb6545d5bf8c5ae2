#!/bin/sh
# tests/fuzz/run.sh [SECONDS]: build the libFuzzer targets (clang, -Dfuzzing=true,
# ASan+UBSan) and fuzz each for SECONDS (default 60), one after another, from
# the checked-in corpus. New inputs go to a scratch directory, never into
# tests/fuzz/corpus (merge them by hand: README.md). Exits non-zero on the
# first crash, leak, timeout or OOM; the input is kept in $FUZZ_OUT.
#
# Environment: FUZZ_BUILD (build directory, default build-fuzz), FUZZ_OUT
# (scratch and crash files, default a new temp dir), FUZZ_TARGETS (default
# "decode assemble room config name"), FUZZ_JOBS (parallel workers per target,
# default 1).
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/kamrat-fuzz-XXXXXX")}
targets=${FUZZ_TARGETS:-decode assemble room config name}
jobs=${FUZZ_JOBS:-1}
# -jobs sends each worker's output to fuzz-N.log in the current directory.
parallel=
[ "$jobs" -gt 1 ] && parallel="-jobs=$jobs -workers=$jobs"

if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" "$root" -Dfuzzing=true --buildtype=debugoptimized
fi
ninja -C "$build" $(for t in $targets; do printf 'tests/fuzz/fuzz_%s ' "$t"; done)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
dicts="$out/dicts"
mkdir -p "$dicts"
status=0
for t in $targets; do
    case $t in
    decode) dict=proto.dict max_len=17000 ;;
    assemble) dict= max_len=4096 ;;
    room) dict=room.dict max_len=8192 ;;
    config) dict=config.dict max_len=8192 ;;
    name) dict=name.dict max_len=512 ;;
    *) echo "run.sh: unknown target $t" >&2; exit 64 ;;
    esac
    # fuzz_room speaks the protocol too: its dictionary is proto.dict plus its own.
    set --
    if [ -n "$dict" ]; then
        cat "$root/tests/fuzz/$dict" > "$dicts/$t.dict"
        [ "$t" = room ] && cat "$root/tests/fuzz/proto.dict" >> "$dicts/$t.dict"
        set -- -dict="$dicts/$t.dict"
    fi
    mkdir -p "$out/$t/new" "$out/$t/crashes"
    echo "== fuzz_$t: ${seconds}s"
    if ! "$build/tests/fuzz/fuzz_$t" "$@" -max_total_time="$seconds" -max_len="$max_len" \
        -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 $parallel \
        -artifact_prefix="$out/$t/crashes/" "$out/$t/new" "$root/tests/fuzz/corpus/$t" \
        >"$out/$t/log" 2>&1; then
        echo "fuzz_$t FAILED; input and log in $out/$t" >&2
        tail -60 "$out/$t/log" >&2
        status=1
        continue
    fi
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$out/$t/log" | tail -2
done
echo "scratch corpus and logs: $out"
exit $status
