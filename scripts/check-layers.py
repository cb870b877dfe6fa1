#!/usr/bin/env python3
"""The include check: every `#include "x/..."` in src/ must follow an edge that the machine-readable
block of docs/architecture.md allows (the block fenced as ```layers).

Block syntax, one layer a line:  `layer: allowed layer, allowed layer, ...`
A layer is a folder of src/ (a sub-folder such as kernel/xfrm may be a layer of its own: a file
belongs to the longest layer its path starts with). A layer may always include itself.
Exit status 0 when every include is allowed, 1 with one `file:line: ...` per violation otherwise,
2 when the block is missing or names an unknown folder.
Usage: scripts/check-layers.py [--root DIR]
"""
import argparse
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def read_block(doc: pathlib.Path) -> dict[str, set[str]]:
    text = doc.read_text(encoding="utf-8")
    m = re.search(r"^```layers\n(.*?)^```", text, re.S | re.M)
    if not m:
        raise SystemExit(f"{doc}: no ```layers block")
    allowed: dict[str, set[str]] = {}
    start = text[: m.start()].count("\n") + 2
    for n, line in enumerate(m.group(1).splitlines(), start):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if ":" not in line:
            print(f"{doc}:{n}: expected 'layer: allowed, ...'", file=sys.stderr)
            sys.exit(2)
        layer, rest = line.split(":", 1)
        deps = {d.strip() for d in rest.replace(",", " ").split()}
        allowed[layer.strip()] = deps
    return allowed


def layer_of(path: str, layers: list[str]) -> str | None:
    for layer in layers:  # longest first
        if path == layer or path.startswith(layer + "/"):
            return layer
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parent.parent))
    root = pathlib.Path(ap.parse_args().root)
    allowed = read_block(root / "docs" / "architecture.md")
    layers = sorted(allowed, key=len, reverse=True)
    src = root / "src"
    for layer, deps in allowed.items():
        for name in {layer} | deps:
            if not (src / name).is_dir():
                print(f"docs/architecture.md: layer '{name}' is not a folder of src/", file=sys.stderr)
                return 2
    violations = 0
    files = 0
    for f in sorted(src.rglob("*")):
        if f.suffix not in (".h", ".cc"):
            continue
        rel = f.relative_to(src).as_posix()
        own = layer_of(rel, layers)
        if own is None:
            print(f"src/{rel}:1: in no layer of docs/architecture.md", file=sys.stderr)
            violations += 1
            continue
        files += 1
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or "/" not in m.group(1):
                continue
            target = layer_of(m.group(1), layers)
            if target is None or target == own or target in allowed[own]:
                continue
            print(f"src/{rel}:{n}: includes {m.group(1)}: {own} -> {target} is not an allowed "
                  f"edge (docs/architecture.md)", file=sys.stderr)
            violations += 1
    if violations:
        print(f"layers: {violations} include(s) cross a layer the block does not allow",
              file=sys.stderr)
        return 1
    print(f"layers: {files} files, every include follows an allowed edge")
    return 0


if __name__ == "__main__":
    sys.exit(main())
