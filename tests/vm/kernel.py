"""The guest kernel of the VM runner (tests/vm/README.md): Debian unstable's cloud kernel, which
has ESP (esp4, esp6, xfrm_user) and per-CPU SAs (Linux 6.13+), fetched with a private apt state
and cached outside the clone.

The apt state (sources list, package lists, archives) lives in the cache, never in the system's
own configuration: adding sid to the machine's sources would upgrade it. The sources line uses
the mirror the system already has (/etc/apt/sources.list.d/*.sources or /etc/apt/sources.list),
so no host name is written here. A kernel already in the cache is preferred; a machine with none
fetches the current one. Modules are stored decompressed with their depmod index.
"""
import fcntl
import glob
import os
import re
import shutil
import subprocess

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
META = "linux-image-cloud-amd64"


class SetupError(Exception):
    """A set-up step failed (like apt): reported in one line, the label fails."""


def cache_dir():
    base = os.environ.get("IKEPLEX_VM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ikeplex-vm")
    os.makedirs(base, exist_ok=True)
    return base


def _version_key(v):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", v)]


def cached_kernels():
    """(version, directory) of every complete cached kernel, newest first."""
    found = []
    for d in glob.glob(os.path.join(cache_dir(), "kernels", "*")):
        v = os.path.basename(d)
        if os.path.exists(os.path.join(d, "vmlinuz")) and os.path.exists(
                os.path.join(d, "lib", "modules", v, "modules.dep")):
            found.append((v, d))
    return sorted(found, key=lambda x: _version_key(x[0]), reverse=True)


def mirror_uri():
    """The first Debian (not security) mirror URI configured on this machine."""
    uris = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            for stanza in f.read().split("\n\n"):
                fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
                if "deb" in fields.get("Types", "").split() and "security" not in fields.get("Suites", ""):
                    uris += fields.get("URIs", "").split()
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    m = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
                    if m and "security" not in m.group(2):
                        uris.append(m.group(1))
    uris = [u for u in uris if "security" not in u]
    if not uris:
        raise SetupError("no Debian mirror in /etc/apt/sources.list{,.d}: cannot fetch the guest kernel")
    return uris[0]


class _Apt:
    def __init__(self, root):
        self.root = root
        for d in ("lists/partial", "cache/archives/partial", "etc"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        self.sources = os.path.join(root, "etc", "sources.list")
        with open(self.sources, "w") as f:
            f.write(f"deb [signed-by={KEYRING}] {mirror_uri()} sid main\n")
        self.opts = ["-o", f"Dir::Etc::sourcelist={self.sources}", "-o", "Dir::Etc::sourceparts=-",
                     "-o", f"Dir::State::Lists={root}/lists", "-o", f"Dir::Cache={root}/cache",
                     "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1"]

    def run(self, tool, *args, cwd=None, timeout=600):
        r = subprocess.run([tool, *self.opts, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)
        if r.returncode != 0:
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise SetupError(f"{tool} {' '.join(args)} failed: {tail[0]}")
        return r.stdout

    def depends(self, package):
        out = self.run("apt-cache", "show", "--no-all-versions", package)
        m = re.search(r"^Depends:\s*(.*)$", out, re.M)
        return [alt.split()[0] for dep in (m.group(1).split(",") if m else []) for alt in [dep.split("|")[0]]]


def fetch_kernel(log):
    """Downloads the current sid cloud kernel into the cache; returns (version, directory)."""
    apt = _Apt(os.path.join(cache_dir(), "apt"))
    log(f"vm: fetching {META} from sid (private apt state in {apt.root})")
    apt.run("apt-get", "update", "--error-on=any")
    image = next((d for d in apt.depends(META) if d.startswith("linux-image-")), None)
    if image is None:
        raise SetupError(f"{META} depends on no linux-image package")
    wanted = [d for d in apt.depends(image) if re.match(r"linux-(binary|modules)-", d)] or [image]
    dl = os.path.join(apt.root, "download")
    shutil.rmtree(dl, ignore_errors=True)
    os.makedirs(dl)
    apt.run("apt-get", "download", *wanted, cwd=dl)
    tree = os.path.join(dl, "tree")
    for deb in glob.glob(os.path.join(dl, "*.deb")):
        subprocess.run(["dpkg-deb", "-x", deb, tree], check=True, timeout=300)
    mods = glob.glob(os.path.join(tree, "usr", "lib", "modules", "*")) + glob.glob(os.path.join(tree, "lib", "modules", "*"))
    if len(mods) != 1:
        raise SetupError(f"{' '.join(wanted)}: expected one modules directory, found {len(mods)}")
    version = os.path.basename(mods[0])
    vmlinuz = next((p for p in [os.path.join(mods[0], "vmlinuz"), os.path.join(tree, "boot", f"vmlinuz-{version}")]
                    if os.path.exists(p)), None)
    if vmlinuz is None:
        raise SetupError(f"{' '.join(wanted)}: no vmlinuz for {version}")
    dest = os.path.join(cache_dir(), "kernels", version)
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "lib", "modules"))
    shutil.copy(vmlinuz, os.path.join(tmp, "vmlinuz"))
    shutil.move(mods[0], os.path.join(tmp, "lib", "modules", version))
    kdir = os.path.join(tmp, "lib", "modules", version)
    if os.path.exists(os.path.join(kdir, "vmlinuz")):
        os.remove(os.path.join(kdir, "vmlinuz"))
    for ext, tool in ((".xz", ["xz", "-d", "-f"]), (".zst", ["zstd", "-d", "-q", "--rm", "-f"])):
        files = [p for p in glob.glob(os.path.join(kdir, "**", f"*.ko{ext}"), recursive=True)]
        for i in range(0, len(files), 500):
            subprocess.run(tool + files[i:i + 500], check=True, timeout=600)
    subprocess.run(["depmod", "-b", tmp, version], check=True, timeout=300, capture_output=True)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    shutil.rmtree(dl, ignore_errors=True)
    return version, dest


def ensure_kernel(log):
    """A cached kernel (the newest), or the current one fetched now. IKEPLEX_VM_KERNEL_REFRESH=1
    fetches even when one is cached."""
    with open(os.path.join(cache_dir(), "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = cached_kernels()
        if cached and os.environ.get("IKEPLEX_VM_KERNEL_REFRESH") != "1":
            log(f"vm: kernel {cached[0][0]} (cached in {cached[0][1]})")
            return cached[0]
        try:
            version, d = fetch_kernel(log)
        except (SetupError, subprocess.SubprocessError, OSError) as e:
            if cached:
                log(f"vm: kernel fetch failed ({e}); using the cached {cached[0][0]}")
                return cached[0]
            raise SetupError(f"cannot fetch the guest kernel and none is cached: {e}") from e
        log(f"vm: kernel {version} (fetched into {d})")
        return version, d
