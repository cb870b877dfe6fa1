"""The guest's file system (tests/vm/README.md): an ext4 image made with `mke2fs -d` from an
explicit file list, on virtio-blk, plus a small initramfs that mounts it.

The list: every file of the host packages in guest-packages.txt (`dpkg -L`, so dlopen'ed plugins
such as charon's come along), the shared libraries `ldd` finds for every ELF file taken, the
kernel's modules, the build's binaries and the checkout's tests/ at their host paths (the
scenarios run the same commands with the same paths as on the host), and extra trees (packages
unpacked with `dpkg-deb -x`, e.g. libreswan, which must never be installed on the host).
Files are hard-linked into a staging directory when they can be (same file system), else copied.
"""
import glob
import os
import shutil
import stat
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/",
        "/usr/share/lintian/", "/usr/share/bug/", "/usr/share/bash-completion/")
# Host files every guest needs besides the packages' own (identity, name services, alternatives).
HOST_FILES = ["/bin/sh", "/usr/bin/awk", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/nsswitch.conf", "/etc/protocols",
       "/etc/services", "/etc/ld.so.cache", "/etc/ssl/openssl.cnf", "/etc/mke2fs.conf"]
# The build's files the scenarios run (relative to the build directory; missing ones are skipped).
BUILD_FILES = ["apps/ikeplexd", "apps/ikeplex", "tests/vm/xfrm_sas", "tests/unit/xfrm/xfrm_test", "tests/unit/xfrm/xfrm_backend_test"]


def _read_list(path):
    with open(path) as f:
        return [w for line in f for w in line.split("#")[0].split()]


class Tree:
    """A staging directory that mirrors host paths."""

    def __init__(self, root):
        self.root = root
        os.makedirs(root)
        os.makedirs(os.path.join(root, "usr"))
        for d in ("bin", "sbin", "lib", "lib64"):  # merged /usr, as on the host
            os.makedirs(os.path.join(root, "usr", d), exist_ok=True)
            os.symlink(f"usr/{d}", os.path.join(root, d))
        for d in ("proc", "sys", "dev", "tmp", "run", "var/tmp", "var/run", "etc", "root", "vm"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        self.seen = set()

    def _place(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def add(self, path, src=None):
        """Adds host file `src` (default `path`) at guest path `path`; symlinks keep their target,
        which is added too. Returns the path of the regular file added (a symlink's target), else
        None."""
        src = src or path
        if path in self.seen:
            return None
        self.seen.add(path)
        try:
            st = os.lstat(src)
        except OSError:
            return None
        dst = self._place(path)
        if stat.S_ISDIR(st.st_mode):
            if not os.path.islink(dst):
                os.makedirs(dst, exist_ok=True)
            return None
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            return None
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), dst)
            return self.add(os.path.realpath(path)) if src == path else None
        if not stat.S_ISREG(st.st_mode):
            return None
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return path

    def add_tree(self, top, at=None):
        """Adds everything under host directory `top` at guest path `at` (default: the same)."""
        at = at or top
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            gdir = os.path.normpath(os.path.join(at, rel))
            self.add(gdir, dirpath)
            for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
                self.add(os.path.join(gdir, name), os.path.join(dirpath, name))


def _is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _needed_libs(paths):
    libs = set()
    for p in paths:
        r = subprocess.run(["ldd", p], capture_output=True, text=True, timeout=30)
        for line in r.stdout.splitlines():
            parts = line.split()
            if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
                libs.add(parts[2])
            elif parts and parts[0].startswith("/"):
                libs.add(parts[0])
    return libs


def package_files(packages):
    out = subprocess.run(["dpkg", "-L", *packages], capture_output=True, text=True, timeout=60)
    missing = [p for p in packages if f"package '{p}' is not installed" in out.stderr]
    if missing:
        raise RuntimeError(f"guest packages not installed on the host: {' '.join(missing)} (scripts/setup-deps.sh)")
    return [p for p in out.stdout.splitlines() if p.startswith("/") and not p.startswith(SKIP)]


def stage(root, kernel_version, kernel_dir, build, source, extra_trees=(), extra_files=()):
    """Builds the guest tree in `root`; returns it."""
    t = Tree(root)
    elves = set()

    def take(path, src=None):
        g = t.add(path, src)
        if g and _is_elf(src if src and g == path else g):
            elves.add(src if src and g == path else g)

    for p in package_files(_read_list(os.path.join(HERE, "guest-packages.txt"))):
        take(p)
    for p in HOST_FILES:
        take(p)
    t.add("/usr/bin/busybox")
    for rel in BUILD_FILES:
        take(os.path.join(build, rel))
    for p in extra_files:
        take(p)
    for top in extra_trees:  # unpacked packages: guest path = path inside the tree
        for dirpath, _, filenames in os.walk(top):
            for name in filenames + [d for d in os.listdir(dirpath) if os.path.islink(os.path.join(dirpath, d))]:
                src = os.path.join(dirpath, name)
                g = "/" + os.path.relpath(src, top)
                t.add(g, src)
                if _is_elf(src):
                    elves.add(src)
    t.add_tree(os.path.join(source, "tests"))
    t.add_tree(os.path.join(kernel_dir, "lib", "modules", kernel_version), f"/usr/lib/modules/{kernel_version}")
    done = set()
    while elves - done:  # the shared libraries of everything taken, and of those libraries
        batch = elves - done
        done |= batch
        for lib in _needed_libs(sorted(batch)):
            take(lib)
    os.symlink(os.path.join(source, "tests", "vm", "guest-init.sh"), os.path.join(root, "vm", "init"))
    return t


def make_image(tree_root, image):
    used = int(subprocess.run(["du", "-sk", "--apparent-size", tree_root], capture_output=True, text=True,
                              check=True).stdout.split()[0])
    size_mb = used * 12 // 10 // 1024 + 512  # room for logs, state and the scenarios' files
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-E", "root_owner=0:0",
                    "-d", tree_root, image, f"{size_mb}M"], check=True, timeout=300,
                   capture_output=True)
    return size_mb


INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /dev /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox insmod /virtio_blk.ko
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do /bin/busybox usleep 100000; i=$((i+1)); done
/bin/busybox mount -t ext4 -o rw /dev/vda /newroot || { echo "@@VM no root file system"; /bin/busybox poweroff -f; }
/bin/busybox umount /proc
/bin/busybox umount /dev
exec /bin/busybox switch_root /newroot /vm/init
"""


def make_initramfs(work, kernel_version, kernel_dir, path):
    root = os.path.join(work, "initramfs")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy("/usr/bin/busybox", os.path.join(root, "bin", "busybox"))
    ko = glob.glob(os.path.join(kernel_dir, "lib", "modules", kernel_version, "kernel", "drivers", "block",
                                "virtio_blk.ko"))
    if not ko:
        raise RuntimeError(f"kernel {kernel_version} has no virtio_blk module")
    shutil.copy(ko[0], os.path.join(root, "virtio_blk.ko"))
    with open(os.path.join(root, "init"), "w") as f:
        f.write(INIT)
    with open(os.path.join(root, "probe"), "w") as f:  # rdinit=/probe: does this accelerator boot?
        f.write("#!/bin/busybox sh\necho '@@KVM ok'\n/bin/busybox poweroff -f\n")
    for name in ("init", "probe"):
        os.chmod(os.path.join(root, name), 0o755)
    files = subprocess.run(["find", "."], cwd=root, capture_output=True, text=True, check=True).stdout
    with open(path, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files.encode(), stdout=out,
                       check=True, timeout=60)
    shutil.rmtree(root)
