#!/usr/bin/env bash
# The VM runner (tests/vm/README.md): boots Debian unstable's cloud kernel (ESP, per-CPU SAs)
# under qemu with this checkout's build and runs named scenarios (tests/vm/scenarios/) inside.
#   scripts/vm.sh kernel                              fetch (or reuse) and print the guest kernel
#   scripts/vm.sh [--build DIR] [--smp N] SCENARIO...  run scenarios (default build: build/ci)
#   scripts/vm.sh --list                              the scenarios
# The kernel is cached outside the clone (IKEPLEX_VM_CACHE, default ~/.cache/ikeplex-vm).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--list" ]; then
    for f in tests/vm/scenarios/*; do
        printf '%-24s %s\n' "$(basename "${f%.*}")" "$(sed -n 's/^# what: //p' "$f")"
    done
    exit 0
fi
args=("$@")
case " $* " in
    *" --build "* | " kernel ") ;;
    *) args=(--build build/ci "${args[@]}") ;;
esac
exec python3 tests/vm/vm.py "${args[@]}"
