"""Peer IKE daemons for the VM guest that must never be installed on the host
(tests/vm/README.md): Debian's libreswan conflicts with strongSwan (installing it removes
strongswan-charon, which the other tests need). It is fetched with `apt-get download` from the
system's own sources, together with the library packages it depends on that the host lacks,
unpacked with `dpkg-deb -x` into a tree cached outside the clone
(<cache>/peers/<peer>/tree; remove the directory to fetch anew) and added to the guest image.

A scenario asks for a peer with a header line `# vm-peers: libreswan`; only then is it fetched.
"""
import fcntl
import glob
import os
import re
import shutil
import subprocess

import guest
import kernel

# peer -> (the package, host packages the guest needs besides, files ldd must resolve in the tree)
PEERS = {
    # NSS dlopen()s its soft token and freebl (libnss3), which ldd does not see.
    "libreswan": ("libreswan", ["libnss3"], ["usr/libexec/ipsec/pluto", "usr/libexec/ipsec/whack",
                                             "usr/libexec/ipsec/addconn", "usr/bin/certutil"]),
}


def needed(specs, scenarios):
    """The peers the scenarios of `specs` ("name" or "name:args") name in `# vm-peers:`."""
    out = []
    for spec in specs:
        name = spec.partition(":")[0]
        for path in (os.path.join(scenarios, name + ext) for ext in (".py", ".sh")):
            if os.path.exists(path):
                with open(path) as f:
                    m = re.search(r"^# vm-peers:\s*(.*)$", f.read(), re.M)
                for peer in (m.group(1).split() if m else []):
                    if peer not in PEERS:
                        raise SystemExit(f"vm: {path}: unknown peer {peer} (known: {' '.join(PEERS)})")
                    if peer not in out:
                        out.append(peer)
    return out


def _apt(*args, cwd=None):
    r = subprocess.run(["apt-get", "-o", "APT::Sandbox::User=root", *args], capture_output=True, text=True,
                       cwd=cwd, timeout=600)
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise kernel.SetupError(f"apt-get {' '.join(args)} failed: {tail[0]}")


def _installed(package):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status}", package], capture_output=True, text=True,
                       timeout=30)
    return r.returncode == 0 and r.stdout.strip() == "installed"


def _depends(package):
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", package], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0 or not r.stdout.strip():
        raise kernel.SetupError(f"apt-cache show {package} failed: {(r.stderr or 'no such package').strip()}")
    deps = []
    for field in ("Pre-Depends", "Depends"):
        m = re.search(rf"^{field}:\s*(.*)$", r.stdout, re.M)
        deps += [d.split("|")[0].split()[0] for d in (m.group(1).split(",") if m else [])]
    return deps


def packages(top):
    """`top` and the library packages it needs (recursively) that the host has not installed.
    Only lib* packages are followed: the others (dns-root-data, host, iptables, debconf...)
    serve features the scenarios do not use."""
    out, todo = [], [top]
    while todo:
        p = todo.pop(0)
        if p in out:
            continue
        out.append(p)
        todo += [d for d in _depends(p) if d.startswith("lib") and d not in out and not _installed(d)]
    return out


def _check_libraries(tree, files):
    """Every shared library of `files` (inside `tree`) resolves on the host or in the tree."""
    libdirs = ":".join(d for d in glob.glob(os.path.join(tree, "usr", "lib", "*-linux-gnu")) if os.path.isdir(d))
    env = dict(os.environ, LD_LIBRARY_PATH=libdirs)
    for rel in files:
        path = os.path.join(tree, rel)
        if not os.path.exists(path):
            raise kernel.SetupError(f"the unpacked packages have no /{rel}")
        r = subprocess.run(["ldd", path], capture_output=True, text=True, env=env, timeout=30)
        missing = [line.split()[0] for line in r.stdout.splitlines() if "not found" in line]
        if missing:
            raise kernel.SetupError(f"/{rel} needs {', '.join(missing)}, neither on the host nor fetched")


def fetch(peer, dest, log):
    package, _, files = PEERS[peer]
    wanted = packages(package)
    log(f"vm: fetching {' '.join(wanted)} (apt-get download; never installed on the host)")
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    debs = os.path.join(tmp, "debs")
    os.makedirs(debs)
    try:
        _apt("download", *wanted, cwd=debs)
    except kernel.SetupError:  # stale package lists: the archive moved on
        _apt("update")
        _apt("download", *wanted, cwd=debs)
    tree = os.path.join(tmp, "tree")
    for deb in sorted(glob.glob(os.path.join(debs, "*.deb"))):
        subprocess.run(["dpkg-deb", "-x", deb, tree], check=True, timeout=300)
    _check_libraries(tree, files)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)


def ensure(peers, log):
    """(trees, host files) for the guest: the unpacked tree of each peer (cached, or fetched
    now) and the files of the host packages it needs. A failed fetch with nothing cached raises
    kernel.SetupError."""
    trees, files = [], []
    if not peers:
        return trees, files
    base = os.path.join(kernel.cache_dir(), "peers")
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for peer in peers:
            dest = os.path.join(base, peer)
            if os.path.isdir(os.path.join(dest, "tree")):
                log(f"vm: {peer} (cached in {dest})")
            else:
                try:
                    fetch(peer, dest, log)
                except (kernel.SetupError, subprocess.SubprocessError, OSError) as e:
                    raise kernel.SetupError(f"cannot fetch {peer} and none is cached: {e}") from e
                log(f"vm: {peer} (fetched into {dest})")
            trees.append(os.path.join(dest, "tree"))
    for peer in peers:
        try:
            files += guest.package_files(PEERS[peer][1])
        except RuntimeError as e:
            raise kernel.SetupError(f"{peer}: {e}") from e
    return trees, files
