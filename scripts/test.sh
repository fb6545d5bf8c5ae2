#!/bin/bash
# test.sh: every check CI runs, in three stages.
#
#   1. format   clang-format --dry-run --Werror over the C sources
#   2. gcc      build-test/: gcc, debugoptimized, -Dwerror=true; meson test (all suites)
#   3. asan     build-asan/: clang with ASan+UBSan, debug, -Dwerror=true;
#               meson test without the e2e suite
#
# Every stage runs even when an earlier one failed; the status is 1 when any
# failed. KAMRAT_TEST_SKIP_ASAN=1 skips stage 3 for a quick local run. Missing
# packages and node modules are installed first (scripts/deps.sh). Test results
# are in build-test/meson-logs/ and build-asan/meson-logs/.

set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

scripts/deps.sh || exit 1

failed=()

stage() {
    printf '\n== %s\n' "$*"
}

# setup DIR ARGS...: configure a meson build directory with ARGS, reusing it when
# it is already one, starting over when reusing it does not work. Quiet unless
# it fails.
setup() {
    local dir=$1 log
    shift
    log=$(mktemp) || return 1
    if [ -f "$dir/meson-private/coredata.dat" ] &&
        meson setup --reconfigure "$dir" "$@" >"$log" 2>&1; then
        rm -f "$log"
        return 0
    fi
    rm -rf "$dir"
    if ! meson setup "$dir" "$@" >"$log" 2>&1; then
        cat "$log"
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# A skipped or failed stage must not leave an earlier run's results to be counted.
rm -f build-test/meson-logs/testlog.json build-asan/meson-logs/testlog.json

stage "1/3 format: clang-format --dry-run --Werror"
shopt -s nullglob
sources=(server/*.[ch] tools/*.[ch] tests/unit/*.[ch] bench/*.[ch])
shopt -u nullglob
if [ ${#sources[@]} -eq 0 ]; then
    echo "no C sources yet"
elif clang-format --dry-run --Werror "${sources[@]}"; then
    echo "${#sources[@]} files formatted"
else
    failed+=(format)
fi

stage "2/3 gcc: build-test (debugoptimized, werror), meson test"
if ! CC=gcc setup build-test --buildtype=debugoptimized -Dwerror=true; then
    failed+=(gcc-setup)
elif ! meson compile -C build-test; then
    failed+=(gcc-build)
elif ! meson test -C build-test --print-errorlogs; then
    failed+=(gcc-test)
fi

if [ "${KAMRAT_TEST_SKIP_ASAN:-0}" = 1 ]; then
    stage "3/3 asan: skipped (KAMRAT_TEST_SKIP_ASAN=1)"
else
    stage "3/3 asan: build-asan (clang, ASan+UBSan, debug, werror), meson test --no-suite e2e"
    if ! CC=clang setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debug -Dwerror=true; then
        failed+=(asan-setup)
    elif ! meson compile -C build-asan; then
        failed+=(asan-build)
    elif ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs --no-suite e2e --timeout-multiplier 3; then
        failed+=(asan-test)
    fi
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "test.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "test.sh: all stages passed"
exit 0
