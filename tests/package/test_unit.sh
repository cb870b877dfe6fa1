#!/usr/bin/env bash
# packaging/ikeplexd.service passes `systemd-analyze verify` without a single message (it
# exits 0 even for an unknown key or a bad value, so any output fails the test), with
# ExecStart pointed at the build's ikeplexd (verify checks that the binary exists; the man pages
# are checked once installed, tests/package/test_package.sh), and holds the settings
# docs/packaging.md promises.
#   tests/package/test_unit.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
command -v systemd-analyze > /dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d /tmp/ikeplex-unit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unit=$tmp/ikeplexd.service
sed "s#^ExecStart=/usr/sbin/ikeplexd#ExecStart=$(realpath "$build")/apps/ikeplexd#" \
    "$src/packaging/ikeplexd.service" > "$unit"
grep -q "^ExecStart=$(realpath "$build")/apps/ikeplexd$" "$unit" || { echo "FAIL: no ExecStart line"; exit 1; }
out=$(cd "$tmp" && systemd-analyze verify --man=no "$unit" 2>&1) || { echo "FAIL: $out"; exit 1; }
# verify also loads the units the targets we name pull in (multi-user.target's wants): their
# complaints (e.g. freeradius.service's MemoryLimit=) are not ours.
out=$(printf '%s\n' "$out" |
    awk '/^\/[^:]*\.(service|socket|target|timer|mount):/ && !/ikeplexd\.service:/ { next } NF')
if [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify:"
    echo "$out"
    exit 1
fi
for line in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' RuntimeDirectory=ikeplexd \
    'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_BPF' \
    ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes; do
    grep -qxF "$line" "$unit" || { echo "FAIL: $line missing"; exit 1; }
done
# The exposure systemd computes from the sandboxing (0 best .. 10 worst); 3.9 when written.
score=$(systemd-analyze security --offline=yes "$unit" 2>&1 | sed -n 's/.*exposure level for .*: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: exposure $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 4.5) }' || { echo "FAIL: exposure '$score' above 4.5"; exit 1; }
echo "PASS: unit"
