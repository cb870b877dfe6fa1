#!/usr/bin/env bash
# Static checks: clang-format (dry run, every C++ file) and clang-tidy (src/, with the ci
# build's compile database). CI runs the format check (scripts/test.sh); developers run the
# whole thing before pushing. Usage: scripts/lint.sh [--format-only] [files...]
set -euo pipefail
cd "$(dirname "$0")/.."
format_only=0
if [ "${1:-}" = "--format-only" ]; then
    format_only=1
    shift
fi
mapfile -t all_cpp < <(find src tests bench apps -name '*.cc' -o -name '*.h' 2>/dev/null | sort)
clang-format-14 --dry-run --Werror "${all_cpp[@]}"
echo "lint: clang-format clean (${#all_cpp[@]} files)"
[ $format_only -eq 1 ] && exit 0

[ -f build/ci/compile_commands.json ] || cmake --preset ci > /dev/null
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    mapfile -t files < <(find src -name '*.cc' | sort)
fi
# .clang-tidy's checks, warnings as errors (among them readability-function-size: no function
# over 80 lines).
if ! printf '%s\n' "${files[@]}" |
    xargs -P "$(nproc)" -n 4 clang-tidy-14 -quiet -p build/ci 2>/dev/null; then
    echo "lint: clang-tidy found problems (above)" >&2
    exit 1
fi
echo "lint: clang-tidy clean (${#files[@]} files)"
