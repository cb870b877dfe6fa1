#!/usr/bin/env bash
# Finds flaky tests before CI does (docs/testing.md, "Flakiness"): runs one ctest label N times on
# an otherwise idle machine and N times beside a CPU hog on every core, and reports each test's
# failures in both conditions as a Markdown table (the form docs/testing.md records).
#
#   scripts/flaky.sh LABEL N [--only idle|hog] [--regex R] [--build DIR] [--keep DIR]
#
# LABEL is a ctest label (unit, vectors, exchange, sim, fuzz, integration), or several as a
# regular expression ('(unit|vectors|exchange|sim|fuzz)': one ctest run covers them all, with
# -j as in CI), and N the runs per condition. --regex narrows the label to tests whose name
# matches R. The build must exist (cmake --preset ci && cmake --build --preset ci, or
# scripts/test.sh). Each failing run's output is kept under --keep (default
# /tmp/ikeplex-flaky.<label>.<pid>) and named in the report. Exits 1 when any test failed at
# least once, 0 otherwise. Bounded: each ctest run has the suite's per-test timeout; the hog is
# stopped on every exit path.
set -uo pipefail

cd "$(dirname "$0")/.."
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
label=$1
runs=$2
shift 2
only=""
regex=""
build=build/ci
keep=""
while [ $# -gt 0 ]; do
    case $1 in
        --only) only=$2; shift 2 ;;
        --regex) regex=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        *) usage ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "flaky.sh: N must be a positive number" >&2; exit 2; }
case $only in "" | idle | hog) ;; *) usage ;; esac
[ -f "$build/CTestTestfile.cmake" ] || { echo "flaky.sh: no ctest tree in $build (build it first)" >&2; exit 2; }
keep=${keep:-/tmp/ikeplex-flaky.${label//[^a-z]/_}.$$}
mkdir -p "$keep"
jobs=${JOBS:-$(nproc)}

hog_pids=()
stop_hog() {
    for p in "${hog_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${hog_pids[@]}"; do wait "$p" 2>/dev/null; done
    hog_pids=()
}
trap stop_hog EXIT
trap 'stop_hog; exit 130' INT TERM
start_hog() {  # one busy loop per core, at normal priority (as another CI job would be)
    for _ in $(seq "$(nproc)"); do
        sh -c 'while :; do :; done' &
        hog_pids+=($!)
    done
}

declare -A fails_idle=() fails_hog=() seen=() first_fail=()
declare -A did=([idle]=0 [hog]=0)
t_start=$SECONDS

one_run() {  # CONDITION INDEX
    local cond=$1 i=$2 junit="$keep/$1-$2.xml" log="$keep/$1-$2.log"
    local args=(--test-dir "$build" -L "^${label}\$" -j "$jobs" --timeout 900 --output-on-failure
                --output-junit "$(realpath -m "$junit")")
    [ -n "$regex" ] && args+=(-R "$regex")
    ctest "${args[@]}" > "$log" 2>&1
    # junit: <testcase name="X" ... status="run|fail|...">
    local name status
    while IFS=$'\t' read -r name status; do
        seen[$name]=1
        if [ "$status" = fail ]; then
            if [ "$cond" = idle ]; then
                fails_idle[$name]=$(( ${fails_idle[$name]:-0} + 1 ))
            else
                fails_hog[$name]=$(( ${fails_hog[$name]:-0} + 1 ))
            fi
            [ -n "${first_fail[$name]:-}" ] || first_fail[$name]=$log
        fi
    done < <(python3 - "$junit" <<'EOF'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError) as e:
    print(f"(ctest produced no junit: {e})\tfail")
    sys.exit(0)
for tc in root.iter("testcase"):
    status = tc.get("status", "")
    failed = tc.find("failure") is not None or status == "fail"
    print(f"{tc.get('name')}\t{'fail' if failed else status}")
EOF
)
    did[$cond]=$(( ${did[$cond]} + 1 ))
    printf 'flaky.sh: %-4s run %d/%d done (%d s so far); tests that failed at least once: %d\n' \
        "$cond" "$i" "$runs" $((SECONDS - t_start)) "${#first_fail[@]}"
    if grep -q "100% tests passed" "$log"; then
        rm -f "$log" "$junit"  # only failing runs' logs are kept
    else
        grep -A20 "The following tests FAILED" "$log" | sed 's/^/    /'
    fi
}

for cond in idle hog; do
    [ -n "$only" ] && [ "$only" != "$cond" ] && continue
    [ "$cond" = hog ] && start_hog
    for i in $(seq "$runs"); do
        one_run "$cond" "$i"
    done
    [ "$cond" = hog ] && stop_hog
done

echo
echo "### flaky.sh $label: ${did[idle]} idle + ${did[hog]} hog runs, $(nproc) cores, -j $jobs," \
     "$(date -u +%F), $((SECONDS - t_start)) s"
echo
echo "| test | failed idle | failed beside hog | first failing log |"
echo "|---|---|---|---|"
total_fail=0
while IFS= read -r name; do  # names may hold spaces (parameterized gtest cases)
    fi_=${fails_idle[$name]:-0}
    fh=${fails_hog[$name]:-0}
    total_fail=$((total_fail + fi_ + fh))
    printf '| %s | %d/%d | %d/%d | %s |\n' "$name" "$fi_" "${did[idle]}" "$fh" "${did[hog]}" \
        "${first_fail[$name]:--}"
done < <(printf '%s\n' "${!seen[@]}" | sort)
echo
echo "flaky.sh: ${#seen[@]} tests, $total_fail failures"
[ "$total_fail" -eq 0 ]
