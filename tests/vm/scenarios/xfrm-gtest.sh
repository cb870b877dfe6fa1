#!/bin/bash
# vm-timeout: 240
# what: the XFRM gtests (XfrmSa.*, XfrmBackendTest.*) against ESP and per-CPU SAs; no skips
# The XFRM gtests that skip on a kernel without ESP (XfrmSa.*, XfrmBackendTest.*, per-CPU SAs)
# run here against a kernel with ESP and per-CPU SAs: every test must run and pass; a single
# skip fails the scenario (issue 14: no XFRM test skips inside the VM).
set -u
build=$2
rc=0
for t in tests/unit/xfrm/xfrm_test tests/unit/xfrm/xfrm_backend_test; do
    out=$("$build/$t" --gtest_color=no 2>&1)
    status=$?
    echo "$out" | grep -E '^\[ +(OK|FAILED|SKIPPED|PASSED) +\]|Skipped|skip|Failure' | head -200
    if [ $status -ne 0 ]; then
        echo "$t: FAILED (exit $status)"
        echo "$out" | tail -50
        rc=1
    fi
    if echo "$out" | grep -q '^\[  SKIPPED \]'; then
        echo "$t: some tests skipped inside the VM:"
        echo "$out" | grep -B3 '^\[  SKIPPED \]' | head -40
        rc=1
    fi
done
exit $rc
