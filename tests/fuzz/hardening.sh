#!/bin/sh
# hardening.sh BINARY BUILDTYPE SANITIZE FUZZING: check that kamratd was
# linked as a PIE with full RELRO and compiled with the stack protector and
# _FORTIFY_SOURCE (TESTPLAN H4), by reading the ELF as hardening-check does.
# TAP output. _FORTIFY_SOURCE is skipped in debug and sanitizer builds,
# where meson.build leaves it off on purpose.
set -u
bin=$1 buildtype=$2 sanitize=$3 fuzzing=$4
n=0 failed=0
check() { # check NAME COMMAND...
    n=$((n + 1))
    name=$1
    shift
    if "$@" >/dev/null 2>&1; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        failed=1
    fi
}
skip() {
    n=$((n + 1))
    echo "ok $n - $1 # SKIP $2"
}
echo "1..5"
check "PIE (ELF type DYN)" sh -c "readelf -hW '$bin' | grep -q 'Type:.*DYN'"
check "RELRO segment" sh -c "readelf -lW '$bin' | grep -q GNU_RELRO"
check "BIND_NOW (full RELRO)" sh -c "readelf -dW '$bin' | grep -Eq 'BIND_NOW|FLAGS_1.*NOW'"
check "stack protector (__stack_chk_fail)" sh -c "readelf -sW --dyn-syms '$bin' | grep -q __stack_chk_fail"
if [ "$buildtype" = debug ] || [ "$sanitize" != none ] || [ "$fuzzing" = true ]; then
    skip "_FORTIFY_SOURCE (*_chk calls)" "off in $buildtype/$sanitize/fuzzing=$fuzzing builds"
else
    check "_FORTIFY_SOURCE (*_chk calls)" sh -c "readelf -sW --dyn-syms '$bin' | grep -Eq '__[a-z]+_chk@'"
fi
exit $failed
