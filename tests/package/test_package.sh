#!/usr/bin/env bash
# Installs, removes and purges the Debian package and checks that each step leaves the system
# as docs/packaging.md says (scripts/test.sh, phase "package (build, lintian, install, purge)"):
#   tests/package/test_package.sh DEB
# Needs root (exit 77 otherwise). Refuses to run when ikeplex is already installed (it would be
# purged). Any failure purges the package again (trap). dpkg runs through apt-get, which waits
# for another apt or dpkg to finish (DPkg::Lock::Timeout) instead of failing.
set -euo pipefail

deb=$(realpath "${1:?usage: test_package.sh DEB}")
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: installing a package needs root"
    exit 77
fi
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 "$@" > /dev/null; }
state() { dpkg-query -W -f='${db:Status-Abbrev}' ikeplex 2> /dev/null | tr -d ' ' || true; }
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ -n "$(state)" ] && [ "$(state)" != "un" ]; then
    fail "ikeplex is already installed ($(state)); purge it first (apt-get purge ikeplex)"
fi

operator_file=/etc/ikeplexd/swanctl/conf.d/operator-test-$$.conf
cleanup() {
    local rc=$?
    if [ -n "$(state)" ] && [ "$(state)" != "un" ]; then
        echo "cleanup: purging ikeplex"
        apt_get purge ikeplex || dpkg --purge ikeplex || true
    fi
    rm -f "$operator_file"
    rmdir -p --ignore-fail-on-non-empty "$(dirname "$operator_file")" 2> /dev/null || true
    exit $rc
}
trap cleanup EXIT
trap "exit 1" INT TERM HUP

# Everything named *ikeplex* outside the build trees, before and after: the purge must restore it.
footprint() {
    find /etc /usr /lib /var /opt /run -xdev \( -path /var/cache/apt -o -path /var/lib/dpkg \
        -o -path /var/log/apt \) -prune -o -name '*ikeplex*' -print 2> /dev/null | sort
}
before=$(footprint)

echo "--- install $(basename "$deb")"
apt_get install --no-install-recommends "$deb"
[ "$(state)" = "ii" ] || fail "not installed: $(state)"
for f in /usr/sbin/ikeplexd /usr/bin/ikeplex; do
    [ -x "$f" ] || fail "$f missing or not executable"
done
for f in /usr/share/man/man8/ikeplexd.8.gz /usr/share/man/man8/ikeplex.8.gz \
    /lib/systemd/system/ikeplexd.service /usr/share/bash-completion/completions/ikeplex \
    /usr/share/doc/ikeplex/copyright /usr/share/doc/ikeplex/changelog.Debian.gz \
    /etc/ikeplexd.conf /etc/ikeplexd/swanctl/swanctl.conf; do
    [ -f "$f" ] || fail "$f missing"
done
for d in conf.d x509 x509ca; do
    [ "$(stat -c %a /etc/ikeplexd/swanctl/$d)" = 755 ] || fail "/etc/ikeplexd/swanctl/$d not 0755"
done
for d in private rsa ecdsa pkcs8; do
    [ "$(stat -c %a /etc/ikeplexd/swanctl/$d)" = 700 ] || fail "/etc/ikeplexd/swanctl/$d not 0700"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' ikeplex)
for f in /etc/ikeplexd.conf /etc/ikeplexd/swanctl/swanctl.conf; do
    grep -q "^ $f " <<< "$conffiles" || fail "$f is not a conffile"
done
[ -f /var/lib/dpkg/info/ikeplex.md5sums ] || fail "no md5sums"
dpkg --verify ikeplex || fail "dpkg --verify: files differ from the package's md5sums"

echo "--- run the installed programs"
version=$(/usr/sbin/ikeplexd --version)
echo "$version"
grep -q "^ikeplexd $(dpkg-query -W -f='${Version}' ikeplex | sed 's/-[^-]*$//')$" <<< "$version" ||
    fail "ikeplexd --version does not name the package's version"
grep -q "^revision: " <<< "$version" || fail "no revision"
grep -q "OpenSSL" <<< "$version" || fail "no OpenSSL"
/usr/bin/ikeplex --version | grep -q "^ikeplex " || fail "ikeplex --version"
/usr/sbin/ikeplexd --check || fail "ikeplexd --check of the installed /etc/ikeplexd.conf"
/usr/sbin/ikeplexd --check --swanctl-conf /etc/ikeplexd/swanctl/swanctl.conf ||
    fail "ikeplexd --check of the installed swanctl.conf"
out=$(systemd-analyze verify /lib/systemd/system/ikeplexd.service 2>&1) || fail "systemd-analyze verify: $out"
# Complaints about other units (pulled in through multi-user.target) are not ours.
out=$(printf '%s\n' "$out" |
    awk '/^\/[^:]*\.(service|socket|target|timer|mount):/ && !/ikeplexd\.service:/ { next } NF')
[ -z "$out" ] || fail "systemd-analyze verify: $out"
# verify ran man(1) on the unit's Documentation= pages: man-db cached their renderings
rm -f /var/cache/man/cat8/ikeplex.8.gz /var/cache/man/cat8/ikeplexd.8.gz
bash -c 'source /usr/share/bash-completion/completions/ikeplex && complete -p ikeplex' ||
    fail "the bash completion does not load"

echo "--- remove (configuration stays)"
echo "# an operator's connection" > "$operator_file"
mkdir -p /var/log/ikeplexd && echo "a log line" > /var/log/ikeplexd/ikeplexd.log  # as the service would
apt_get remove ikeplex
[ "$(state)" = "rc" ] || fail "after remove: state $(state), expected rc"
for f in /usr/sbin/ikeplexd /usr/bin/ikeplex /lib/systemd/system/ikeplexd.service; do
    [ ! -e "$f" ] || fail "$f still there after remove"
done
for f in /etc/ikeplexd.conf /etc/ikeplexd/swanctl/swanctl.conf "$operator_file"; do
    [ -f "$f" ] || fail "$f gone after remove"
done

echo "--- purge (configuration and logs go, the operator's files stay)"
apt_get purge ikeplex
[ -z "$(state)" ] || [ "$(state)" = "un" ] || fail "after purge: state $(state)"
for f in /etc/ikeplexd.conf /etc/ikeplexd/swanctl/swanctl.conf /var/log/ikeplexd; do
    [ ! -e "$f" ] || fail "$f still there after purge"
done
[ -f "$operator_file" ] || fail "purge removed the operator's $operator_file"
rm -f "$operator_file"
rmdir -p --ignore-fail-on-non-empty "$(dirname "$operator_file")" 2> /dev/null || true
after=$(footprint)
if [ "$before" != "$after" ]; then
    diff <(echo "$before") <(echo "$after") >&2 || true
    fail "the purge left files behind (or removed others)"
fi
echo "PASS: install, remove and purge leave the system as documented"
