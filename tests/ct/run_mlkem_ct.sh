#!/usr/bin/env bash
# Constant-time check of ML-KEM: runs mlkem_ct (tests/ct/mlkem_ct.cc, built by the release
# preset: g++ -O2, no sanitizers) under valgrind's memcheck with the secrets marked undefined.
# Fails on any use of a secret in a branch or a memory index, or a wrong result.
#   tests/ct/run_mlkem_ct.sh [BUILD_DIR]   (default build/release)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
bin="$build/bench/mlkem_ct"
if [ ! -x "$bin" ]; then
    echo "run_mlkem_ct: $bin missing (cmake --build --preset release --target mlkem_ct)" >&2
    exit 1
fi
if ! command -v valgrind > /dev/null; then
    echo "run_mlkem_ct: valgrind missing (scripts/setup-deps.sh)" >&2
    exit 1
fi
log=$(mktemp /tmp/ikeplex-mlkem-ct.XXXXXX)
trap 'rm -f "$log"' EXIT
valgrind --error-exitcode=1 --track-origins=yes "$bin" > "$log" 2>&1
rc=$?
cat "$log"
if grep -qE 'Conditional jump or move depends on uninitialised value|Use of uninitialised value' "$log"; then
    echo "run_mlkem_ct: FAIL: a secret reaches a branch or a memory index (above)"
    exit 1
fi
if [ $rc -ne 0 ]; then
    echo "run_mlkem_ct: FAIL: exit $rc"
    exit 1
fi
echo "run_mlkem_ct: PASS: no secret-dependent branch or memory index in ML-KEM-512/768/1024"
