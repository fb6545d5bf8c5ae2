#!/bin/bash
# test.sh: every check CI runs, in five stages.
#
#   1. format   clang-format --dry-run --Werror over the C sources
#   2. gcc      build-test/: gcc, debugoptimized, -Dwerror=true; meson test (all suites,
#               the e2e browser suite included: headless chromium, a few minutes)
#   3. asan     build-asan/: clang with ASan+UBSan, debug, -Dwerror=true;
#               meson test without the e2e suite (the browser finds nothing new
#               there and would run several times slower)
#   4. valgrind the unit and fuzz-replay tests of build-test/ under valgrind
#               (memcheck, every leak an error)
#   5. fuzz     build-fuzz/: clang, libFuzzer with ASan+UBSan; each target fuzzed
#               for KAMRAT_FUZZ_SECONDS (default 60) from the checked-in corpus
#
# Every stage runs even when an earlier one failed; the status is 1 when any
# failed. KAMRAT_TEST_SKIP_ASAN=1 skips stages 3-5 for a quick local run. Missing
# packages and node modules are installed first (scripts/deps.sh: chromium and
# fonts for the e2e suite too). Test results are in build-test/meson-logs/ and
# build-asan/meson-logs/; the e2e suite's screenshots in tests/e2e/screenshots/.

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
rm -f build-*/meson-logs/testlog*.json
# Nor screenshots of an earlier run to be looked at.
rm -rf tests/e2e/screenshots

stage "1/5 format: clang-format --dry-run --Werror"
shopt -s nullglob
sources=(server/*.[ch] tools/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] bench/*.[ch])
shopt -u nullglob
if [ ${#sources[@]} -eq 0 ]; then
    echo "no C sources yet"
elif clang-format --dry-run --Werror "${sources[@]}"; then
    echo "${#sources[@]} files formatted"
else
    failed+=(format)
fi

stage "2/5 gcc: build-test (debugoptimized, werror), meson test"
if ! CC=gcc setup build-test --buildtype=debugoptimized -Dwerror=true; then
    failed+=(gcc-setup)
elif ! meson compile -C build-test; then
    failed+=(gcc-build)
elif ! meson test -C build-test --print-errorlogs; then
    failed+=(gcc-test)
fi

if [ "${KAMRAT_TEST_SKIP_ASAN:-0}" = 1 ]; then
    stage "3-5/5 asan, valgrind, fuzz: skipped (KAMRAT_TEST_SKIP_ASAN=1)"
else
    stage "3/5 asan: build-asan (clang, ASan+UBSan, debug, werror), meson test --no-suite e2e"
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

    stage "4/5 valgrind: build-test unit and fuzz-replay tests under memcheck"
    # The Argon2 tests take a minute and a half under valgrind: -t 10.
    if ! meson test -C build-test --suite unit --suite fuzz -t 10 --logbase testlog-valgrind \
        --wrap='valgrind --leak-check=full --error-exitcode=1 --quiet'; then
        failed+=(valgrind)
    fi

    stage "5/5 fuzz: build-fuzz, ${KAMRAT_FUZZ_SECONDS:-60} s per target"
    if ! FUZZ_BUILD=build-fuzz tests/fuzz/run.sh "${KAMRAT_FUZZ_SECONDS:-60}"; then
        failed+=(fuzz)
    fi
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "test.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "test.sh: all stages passed"
exit 0
