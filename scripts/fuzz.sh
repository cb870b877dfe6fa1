#!/usr/bin/env bash
# Long fuzzing runs of the libFuzzer targets of the ci build (docs/fuzzing.md).
#
#   scripts/fuzz.sh [TARGET...] [--time S] [--runs N] [--jobs J] [--merge-corpus] [--keep]
#
# TARGET: fuzz_responder, fuzz_ike_sa, ... (default: every target of tests/fuzz). Each target
# runs on a working copy of its seed corpus (the repository is never written to, unless
# --merge-corpus: then the inputs that add coverage are merged back into
# tests/fuzz/corpus/<name>/, which must exist). --time S (default 60) and --runs N bound each
# target, whichever comes first; --jobs J runs J fuzzing processes of one target at once
# (libFuzzer -fork=J). Targets run one after another. Printed per target: executions, execs/s,
# coverage (cov/ft of libFuzzer's final line), crashes (artifacts kept in a directory printed
# at the end). --keep keeps the working corpora too. Extra libFuzzer flags: FUZZ_FLAGS="...".
# Builds the ci preset's fuzz targets first if needed (cmake --preset ci; IKEPLEX_BUILD_JOBS).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/ci"
seconds=60
runs=""
jobs=1
merge=0
keep=0
targets=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --time) seconds=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --merge-corpus) merge=1; shift ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

# Every target and its seed directories, from the ctest replay tests of the build (the list
# CMake knows; tests/fuzz/CMakeLists.txt registers them).
if [[ ! -f "$build/build.ninja" ]]; then
    (cd "$root" && cmake --preset ci >/dev/null)
fi
all=$(cd "$build" && ctest -N -L fuzz | sed -n 's/^ *Test *#[0-9]*: \(fuzz_[a-z_0-9]*\)_replay$/\1/p')
if [[ ${#targets[@]} -eq 0 ]]; then
    read -r -a targets <<<"$(echo $all)"
fi
for t in "${targets[@]}"; do
    if ! grep -qx "$t" <<<"$all"; then
        echo "fuzz.sh: no fuzz target '$t' (known: $(echo $all))" >&2
        exit 2
    fi
done
echo "=== building ${targets[*]}"
cmake --build "$build" -j"${IKEPLEX_BUILD_JOBS:-2}" --target "${targets[@]}" >/dev/null

seeds_of() {  # the seed directories of a target, from its replay test's command line
    (cd "$build" && ctest -R "^$1_replay\$" -V -N) |
        sed -n 's/.*Test command: .*-runs=0"\{0,1\} \(.*\)$/\1/p' | tr ' ' '\n' | tr -d '"' | grep -v '^$'
}

stamp=$(date +%Y%m%d-%H%M%S)
out="${IKEPLEX_FUZZ_OUT:-/tmp/ikeplex-fuzz-$stamp}"
mkdir -p "$out"
summary=()
status=0
for t in "${targets[@]}"; do
    work="$out/$t"
    mkdir -p "$work/corpus" "$work/artifacts"
    mapfile -t seeds < <(seeds_of "$t")
    for d in "${seeds[@]}"; do
        [[ -d $d ]] && cp -r "$d"/. "$work/corpus/"
    done
    flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$work/artifacts/")
    [[ -n $runs ]] && flags+=(-runs="$runs")
    [[ $jobs -gt 1 ]] && flags+=(-fork="$jobs" -ignore_crashes=1)
    # shellcheck disable=SC2206
    flags+=(${FUZZ_FLAGS:-})
    echo "=== $t: ${seconds} s${runs:+ or $runs runs}, $jobs job(s), log $work/log"
    start=$(date +%s)
    set +e
    (cd "$work" && "$build/tests/fuzz/$t" "${flags[@]}" "$work/corpus") >"$work/log" 2>&1
    rc=$?
    set -e
    elapsed=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
    if [[ -z $execs ]]; then  # -fork mode prints no stats: the last status line
        execs=$(grep -o '^#[0-9]*' "$work/log" | tail -1 | tr -d '#')
        rate=$(( ${execs:-0} / (elapsed > 0 ? elapsed : 1) ))
    fi
    last=$(grep -E '^#[0-9]+' "$work/log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\) .*/\1/p' <<<"$last")
    crashes=$(find "$work/artifacts" -type f | wc -l)
    line=$(printf '%-16s executions %10s  execs/s %6s  cov %6s  ft %7s  crashes %s  (%s s, exit %s)' \
        "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes" "$elapsed" "$rc")
    echo "$line"
    summary+=("$line")
    if [[ $crashes -gt 0 || $rc -ne 0 ]]; then
        status=1
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix)' "$work/log" | head -5 || true
    fi
    if [[ $merge -eq 1 ]]; then
        dest="$root/tests/fuzz/corpus/${t#fuzz_}"
        if [[ -d $dest ]]; then
            before=$(find "$dest" -type f | wc -l)
            "$build/tests/fuzz/$t" -merge=1 "$dest" "$work/corpus" >"$work/merge.log" 2>&1
            echo "    merged into $dest: $before -> $(find "$dest" -type f | wc -l) files"
        else
            echo "    no $dest: nothing merged"
        fi
    fi
    if [[ $keep -eq 0 ]]; then
        rm -rf "$work/corpus"
    fi
done
echo "=== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$root" rev-parse --short HEAD))"
printf '%s\n' "${summary[@]}"
echo "artifacts and logs: $out"
exit $status
