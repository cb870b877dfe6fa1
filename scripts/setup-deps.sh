#!/usr/bin/env bash
# Installs everything ikeplex needs to build, test, benchmark and run its demo on Debian 12.
# Idempotent: when every package is already present it does nothing (no apt-get update).
# See docs (design.md §6) for why each package is here.
set -euo pipefail

packages=(
    # toolchain (a fresh machine has most of these; listed so a bare image works too)
    build-essential g++ cmake ninja-build clang-14 libclang-rt-14-dev lld-14 clang-format-14
    clang-tidy-14 pkg-config xxd git ccache
    # libraries
    libssl-dev libipsec-mb-dev libasio-dev libspdlog-dev libfmt-dev libcli11-dev
    # tests and benchmarks
    libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev python3-cryptography-vectors
    # peers and network tools used by vector recording, interop and integration tests
    tshark tcpdump iproute2 iputils-ping iperf3 strace procps nftables
    strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
    # the VM runner (tests/vm/README.md): qemu boots Debian unstable's cloud kernel (ESP, per-CPU
    # SAs) with a guest made of busybox, the kernel's modules (kmod's depmod) and an ext4 image
    # (e2fsprogs' mke2fs -d); the initramfs is a cpio archive
    qemu-system-x86 busybox-static kmod cpio e2fsprogs xz-utils zstd
    # the Debian package (scripts/package.sh, docs/packaging.md): debhelper builds it, lintian
    # checks it (dpkg-dev and fakeroot come with build-essential and debhelper)
    debhelper lintian dpkg-dev fakeroot
    # benchmark baseline (Debian's 0.0.20220316 predates wireguard-go's GSO/GRO work)
    wireguard-go wireguard-tools
)

# --bench: also what only the benchmarks need (scripts/bench.sh): the plots of bench/ike.
if [ "${1:-}" = "--bench" ]; then
    packages+=(python3-matplotlib)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "setup-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "setup-deps: must run as root to install packages" >&2
    exit 1
fi
# tshark asks whether non-root users may capture; answer before it is installed.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-deps: done"
