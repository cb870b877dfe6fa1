#!/usr/bin/env bash
# Installs what ikeplex needs on Debian 12, by profile; each profile includes the ones above it:
#
#   run     build and run ikeplexd and ikeplex (the release preset: g++, cmake, the libraries)
#   demo    run + what scripts/demo.sh uses (namespaces, ping, iperf3, strongSwan's swanctl)
#   test    demo + everything the test suite uses (the default: scripts/test.sh, CI)
#   bench   test + what only the benchmarks need (scripts/bench.sh: the plots of bench/ike)
#
#   scripts/setup-deps.sh [run|demo|test|bench]      (--bench: the same as bench)
#
# Idempotent: when every package is already present it does nothing (no apt-get update).
# See docs (design.md §6) for why each package is here.
set -euo pipefail

profile=${1:-test}
[ "$profile" = "--bench" ] && profile=bench
case "$profile" in
    run | demo | test | bench) ;;
    *)
        echo "setup-deps: unknown profile '$profile' (run, demo, test or bench)" >&2
        exit 2
        ;;
esac

# run: the release build (g++ 12, Ninja) and the libraries ikeplexd and ikeplex link
packages=(
    build-essential g++ cmake ninja-build pkg-config git ccache
    libssl-dev libipsec-mb-dev libasio-dev libspdlog-dev libfmt-dev libcli11-dev
    prometheus-cpp-dev libprometheus-cpp-pull1.0  # the metrics endpoint
    libsystemd-dev  # sd_notify (READY=1, WATCHDOG=1) and the journald log target
    libcurl4-openssl-dev  # CRL (and later OCSP) fetches on the fetcher thread (docs/revocation.md)
)
if [ "$profile" != run ]; then
    # demo: two gateways in namespaces, traffic from each CPU, strongSwan's swanctl over VICI
    packages+=(iproute2 iputils-ping iperf3 procps python3 strongswan-swanctl)
fi
if [ "$profile" = test ] || [ "$profile" = bench ]; then
    packages+=(
        # the ci preset (clang 14, sanitizers, libFuzzer), formatting and lint
        clang-14 libclang-rt-14-dev lld-14 clang-format-14 clang-tidy-14 xxd
        # tests and benchmarks
        libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev python3-cryptography-vectors
        # ML-KEM: mlkem_test reads the gzipped CCTV modulus vectors; tests/ct/ runs valgrind
        zlib1g-dev valgrind
        # peers and network tools used by vector recording, interop and integration tests
        tshark tcpdump strace nftables
        # (EAP: eap-md5 and eap-tls are in libcharon-extra-plugins, eap-mschapv2 in extauth)
        strongswan-charon libcharon-extra-plugins libstrongswan-standard-plugins
        # strongSwan's eap-mschapv2 (interop_strongswan_eap; eap-md5 and eap-radius are in extra)
        libcharon-extauth-plugins
        # tests/integration/test_radius.py runs its own radiusd in a namespace; the package's
        # service never starts on the host (policy-rc.d while installing, then disabled)
        freeradius
        # wpa_supplicant's eapol_test: an independent EAP-TLS peer for our server (interop_eapol_tls)
        eapoltest
        # the VM runner (tests/vm/README.md): qemu boots Debian unstable's cloud kernel (ESP,
        # per-CPU SAs) with a guest made of busybox, the kernel's modules (kmod's depmod) and an
        # ext4 image (e2fsprogs' mke2fs -d); the initramfs is a cpio archive
        qemu-system-x86 busybox-static kmod cpio e2fsprogs xz-utils zstd
        # the Debian package (scripts/package.sh, docs/packaging.md): debhelper builds it,
        # lintian checks it (dpkg-dev and fakeroot come with build-essential and debhelper)
        debhelper lintian dpkg-dev fakeroot
        # benchmark baseline (Debian's 0.0.20220316 predates wireguard-go's GSO/GRO work)
        wireguard-go wireguard-tools
    )
fi
if [ "$profile" = bench ]; then
    packages+=(python3-matplotlib)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-deps ($profile): all ${#packages[@]} packages present"
    exit 0
fi

echo "setup-deps ($profile): installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "setup-deps: must run as root to install packages" >&2
    exit 1
fi
# tshark asks whether non-root users may capture; answer before it is installed.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
# While packages are installed, a policy-rc.d that answers 101 ("action forbidden") keeps
# invoke-rc.d from starting their services (freeradius would listen on the host's 1812/1813);
# an existing policy-rc.d is put back afterwards.
policy=/usr/sbin/policy-rc.d
saved_policy="$policy.setup-deps-saved"
restore_policy() {
    rm -f "$policy"
    if [ -e "$saved_policy" ]; then
        mv "$saved_policy" "$policy"
    fi
}
if [ -e "$policy" ]; then
    mv "$policy" "$saved_policy"
fi
trap restore_policy EXIT
printf '#!/bin/sh\n# scripts/setup-deps.sh: no service starts during the installation\nexit 101\n' >"$policy"
chmod 755 "$policy"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
restore_policy
trap - EXIT
# freeradius stays off on the host: disabled with systemd's tools where they exist (they work
# offline), stopped where systemd runs, else disabled and stopped through its init script.
if printf '%s\n' "${missing[@]}" | grep -qx freeradius; then
    if command -v systemctl >/dev/null 2>&1; then
        systemctl disable freeradius.service >/dev/null 2>&1 || true
    fi
    if [ -d /run/systemd/system ]; then
        systemctl stop freeradius.service >/dev/null 2>&1 || true
    else
        update-rc.d freeradius disable >/dev/null 2>&1 || true
        if [ -x /etc/init.d/freeradius ]; then
            /etc/init.d/freeradius stop >/dev/null 2>&1 || true
        fi
    fi
fi
echo "setup-deps ($profile): done"
