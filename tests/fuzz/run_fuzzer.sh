#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time on a scratch copy of its seed corpus, so the
# repository is never written to. Usage: run_fuzzer.sh FUZZER SECONDS SEED_DIR...
set -euo pipefail
fuzzer=$(realpath "$1")
seconds=$2
shift 2
work=$(mktemp -d /tmp/ikeplex-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
for d in "$@"; do
    cp -r "$d"/. "$work/corpus/" 2>/dev/null || true
done
cd "$work"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$work/corpus"
