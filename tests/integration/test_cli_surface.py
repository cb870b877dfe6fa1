#!/usr/bin/env python3
"""`ikeplexd --version` and `ikeplex --version` name the version, the git revision, the
backends and OpenSSL; `ikeplex --completion bash` covers every subcommand and flag that
`ikeplex --help` and `ikeplex <cmd> --help` list, and bash really completes with it (the script
sourced in a bash subprocess, its function found with `complete -p`, called with COMP_WORDS and
COMP_CWORD set); the packaged ikeplexd.conf shows every key and passes --check. No root, no
daemon: about two seconds."""
import argparse
import os
import re
import subprocess
import sys
import tempfile

SOURCE = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: rc {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout


def help_sections(text):
    """{"options": [names], "subcommands": [names]} of a CLI11 help text."""
    out = {"options": [], "subcommands": []}
    section = None
    for line in text.splitlines():
        if line.rstrip().endswith(":") and not line.startswith(" "):
            section = {"Options:": "options", "Subcommands:": "subcommands"}.get(line.strip())
            continue
        if section and line.startswith("  ") and line.strip():
            first = line.split()[0]
            if section == "options" and first.startswith("-"):
                out["options"] += first.split(",")
            elif section == "subcommands":
                out["subcommands"].append(first)
    return out


def git_head():
    r = subprocess.run(["git", "-C", SOURCE, "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def check_version(build, program, version):
    text = run(f"{build}/apps/{program}", "--version")
    lines = text.splitlines()
    if lines[0] != f"{program} {version}":
        raise AssertionError(f"{program} --version: first line {lines[0]!r}, expected '{program} {version}'")
    fields = dict(line.split(": ", 1) for line in lines[1:])
    rev = fields.get("revision", "")
    head = git_head()
    m = re.search(r"(?:^|-g)([0-9a-f]{7,40})(-dirty)?$", rev)
    if head and not (m and head.startswith(m.group(1))):
        raise AssertionError(f"{program}: revision {rev!r} is not HEAD {head} (or the build is older than HEAD)")
    if not head and rev != "unknown":
        raise AssertionError(f"{program}: revision {rev!r} outside git, expected 'unknown'")
    if fields.get("backends") != "userspace, xfrm, none":
        raise AssertionError(f"{program}: backends {fields.get('backends')!r}")
    crypto = fields.get("crypto", "")
    if not re.search(r"OpenSSL \d+\.\d+\.\d+", crypto) or not re.search(r"Intel IPsec-MB \d+\.\d+", crypto):
        raise AssertionError(f"{program}: crypto {crypto!r} lacks OpenSSL or IPsec-MB with versions")
    print(f"ok: {program} --version: {' | '.join(lines)}")


def complete(script, words, cword=None):
    """COMPREPLY of bash for the command line `words` (the cursor in the last word)."""
    cword = len(words) - 1 if cword is None else cword
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    prog = f"""
source '{script}' || exit 3
fn=$(complete -p ikeplex | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')
[ -n "$fn" ] || exit 4
COMP_WORDS=({quoted}); COMP_CWORD={cword}; COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
"$fn" ikeplex "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise AssertionError(f"bash completion for {words}: rc {r.returncode}: {r.stderr}")
    return set(filter(None, r.stdout.splitlines()))


def check_completion(build, tmp):
    ikeplex = f"{build}/apps/ikeplex"
    top = help_sections(run(ikeplex, "--help"))
    if len(top["subcommands"]) < 5 or "--uri" not in top["options"] or "--version" not in top["options"]:
        raise AssertionError(f"ikeplex --help not understood: {top}")
    script = f"{tmp}/ikeplex.bash"
    with open(script, "w") as f:
        f.write(run(ikeplex, "--completion", "bash"))
    text = open(script).read()
    installed = f"{build}/share/bash-completion/completions/ikeplex"
    if not os.path.exists(installed) or open(installed).read() != text:
        raise AssertionError(f"{installed} (made at build time) differs from `ikeplex --completion bash`")
    if complete(script, ["ikeplex", "--c"]):
        raise AssertionError("the hidden --completion option is offered")

    got = complete(script, ["ikeplex", ""])
    want = set(top["options"]) | set(top["subcommands"])
    if got != want:
        raise AssertionError(f"ikeplex <TAB>: {sorted(got)}, expected {sorted(want)}")
    for cmd in top["subcommands"]:
        opts = set(help_sections(run(ikeplex, cmd, "--help"))["options"])
        got = complete(script, ["ikeplex", cmd, ""])
        if got != opts:
            raise AssertionError(f"ikeplex {cmd} <TAB>: {sorted(got)}, expected {sorted(opts)}")
        # the global option's value is skipped when finding the command
        if complete(script, ["ikeplex", "--uri", "unix:///x", cmd, "-"]) != {o for o in opts if o.startswith("-")}:
            raise AssertionError(f"ikeplex --uri X {cmd} -<TAB>")
    print(f"ok: completion offers exactly the {len(want)} top-level words and each command's flags")

    if complete(script, ["ikeplex", "li"]) != {s for s in top["subcommands"] if s.startswith("li")}:
        raise AssertionError("ikeplex li<TAB>")
    open(f"{tmp}/peers.conf", "w").close()
    if complete(script, ["ikeplex", "load-all", "--file", f"{tmp}/pe"]) != {f"{tmp}/peers.conf"}:
        raise AssertionError("ikeplex load-all --file <TAB> does not complete files")
    if complete(script, ["ikeplex", "list-sas", "--ike", ""]):
        raise AssertionError("ikeplex list-sas --ike <TAB> offers words for a connection name")
    print("ok: prefixes, file names for --file, nothing for other values")


def check_default_config(build, tmp):
    """packaging/ikeplexd.conf (installed as /etc/ikeplexd.conf) names every key of the
    reference comment in src/config/daemon_settings.h, and passes --check as it is and with
    every key uncommented (so each default it shows is a valid value)."""
    conf = f"{SOURCE}/packaging/ikeplexd.conf"
    text = open(conf).read()
    header = open(f"{SOURCE}/src/config/daemon_settings.h").read()
    documented = set(re.findall(r"^//\s+([a-z_]+) = ", header, re.M))
    documented |= set(re.findall(r"[;,] ([a-z_]+) = ", header))  # "retransmit_base = 1.8; ..."
    shown = set(re.findall(r"^\s*# ([a-z_]+) = ", text, re.M))
    if not documented or documented - shown:
        raise AssertionError(f"packaging/ikeplexd.conf lacks {sorted(documented - shown)}")
    uncommented = re.sub(r"^(\s*)# ([a-z_]+ = )", r"\1\2", text, flags=re.M)
    # the package's swanctl.conf, here from the tree (its conf.d/*.conf matches nothing)
    uncommented = uncommented.replace("/etc/ikeplexd/swanctl/swanctl.conf", f"{SOURCE}/packaging/swanctl.conf")
    for name, body in (("as-is.conf", text), ("uncommented.conf", uncommented)):
        with open(f"{tmp}/{name}", "w") as f:
            f.write(body)
        r = subprocess.run([f"{build}/apps/ikeplexd", "--check", "-c", f"{tmp}/{name}"],
                           capture_output=True, text=True, timeout=30)
        out = r.stdout + r.stderr
        if r.returncode != 0 or re.search(r"^warning:", out, re.M):
            raise AssertionError(f"ikeplexd --check of packaging/ikeplexd.conf ({name}): rc {r.returncode}\n{out}")
    print(f"ok: packaging/ikeplexd.conf shows all {len(documented)} keys; --check passes, also uncommented")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    build = p.parse_args().build
    with open(f"{build}/CMakeCache.txt") as f:
        version = re.search(r"^CMAKE_PROJECT_VERSION:STATIC=(.*)$", f.read(), re.M).group(1)
    check_version(build, "ikeplexd", version)
    check_version(build, "ikeplex", version)
    with tempfile.TemporaryDirectory(prefix="ikeplex-cli-") as tmp:
        check_completion(build, tmp)
        check_default_config(build, tmp)
    print("PASS: cli_surface")
    return 0


if __name__ == "__main__":
    sys.exit(main())
