#!/bin/bash
# PID 1 of the VM guest (tests/vm/README.md), after the initramfs has switched to the ext4 root:
# mounts the kernel's file systems, loads the IPsec modules, then runs each scenario of /vm/plan
# ("name timeout command...") with its own timeout, printing markers the host runner reads:
#   @@VM ready <kernel> cpus=<n>      @@VM begin <name>      @@VM end <name> rc=<rc> secs=<s>
# and powers off. Each scenario's output goes to the console as it runs.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# /tmp stays on the image (which has room for it): the checkout and its build may live under
# /tmp on the host, and they are in the image at their host paths.
chmod 1777 /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2> /dev/null
mkdir -p /run/netns /var/run/netns /run/strongswan
ip link set lo up
echo ikeplex-vm > /proc/sys/kernel/hostname
for m in esp4 esp6 xfrm_user xfrm_interface veth tun nf_tables nft_nat nft_chain_nat nf_nat \
    af_key sch_fq_codel; do
    modprobe "$m" 2> /dev/null
done
set -a
# shellcheck disable=SC1091
. /vm/env
set +a
# ikeplex.skip=K (a new boot after a guest kernel failure): the first K scenarios already ran
skip=$(sed -n 's/.*ikeplex\.skip=\([0-9]*\).*/\1/p' /proc/cmdline)
skip=${skip:-0}
echo "@@VM ready $(uname -r) cpus=$(nproc)"
while read -r name limit cmd; do
    [ -z "$name" ] && continue
    if [ "$skip" -gt 0 ]; then
        skip=$((skip - 1))
        continue
    fi
    echo "@@VM begin $name"
    t0=$(date +%s)
    (cd /tmp && timeout -k 10 "$limit" bash -c "$cmd" < /dev/null 2>&1)
    rc=$?
    echo "@@VM end $name rc=$rc secs=$(($(date +%s) - t0))"
    # nothing of a scenario outlives it: namespaces, daemons
    pkill -9 -x ikeplexd 2> /dev/null
    pkill -9 -x charon 2> /dev/null
    pkill -9 -x pluto 2> /dev/null
    for ns in $(ip netns list 2> /dev/null | cut -d' ' -f1); do ip netns del "$ns"; done
done < /vm/plan
sync
echo "@@VM done"
busybox poweroff -f
