#!/usr/bin/env python3
"""VICI recorder: a unix-socket proxy between swanctl and charon that writes every packet.

Python standard library only. Used by record.sh; see README.md in this folder.

  record.py run --upstream SOCK --out DIR --label LABEL [--output FILE] -- swanctl ARGS...
      Listens on a fresh unix socket, runs `swanctl ARGS... --uri unix://<that socket>`,
      connects each accepted client to charon's vici socket SOCK and forwards bytes both ways
      unchanged. Every packet seen in either direction is written to
      DIR/packets/NNN-LABEL-KIND.bin (the packet without its 4-byte length prefix: type byte,
      name for named types, message) and described in DIR/packets.txt. swanctl's stdout and
      stderr go to FILE (if given).

  record.py probe --upstream SOCK --out DIR --label LABEL --send TYPE[:NAME] ...
      Acts as the client itself: sends each packet (empty message) straight to charon and
      records it and whatever charon answers (e.g. CMD_REQUEST for a command charon does not
      know, to record its CMD_UNKNOWN answer).

KIND names what the file holds: req-<command>, resp-<command> (the answer to the last
request), register-<event>, unregister-<event>, confirm-<event> / unknown-event-<event>
(answer to the last (un)registration), event-<event>, unknown-cmd-<command>.
NNN counts packets over the whole recording (kept in DIR/.seq between invocations).
"""

import argparse
import os
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time

MAX_SEGMENT = 512 * 1024  # the README's transport limit, data only

TYPES = {
    0: "CMD_REQUEST",
    1: "CMD_RESPONSE",
    2: "CMD_UNKNOWN",
    3: "EVENT_REGISTER",
    4: "EVENT_UNREGISTER",
    5: "EVENT_CONFIRM",
    6: "EVENT_UNKNOWN",
    7: "EVENT",
}
NAMED = {0, 3, 4, 7}
WITH_MESSAGE = {0, 1, 7}


class DecodeError(Exception):
    pass


def _take(buf, pos, n):
    if pos + n > len(buf):
        raise DecodeError("truncated at offset %d" % pos)
    return buf[pos:pos + n], pos + n


def _text(b):
    try:
        s = b.decode("ascii")
        if all(32 <= ord(c) < 127 for c in s):
            return s
    except UnicodeDecodeError:
        pass
    return "0x" + b.hex()


def describe_message(buf):
    """Independent decoder for the manifest: the message tree as indented text lines."""
    lines, pos, depth, in_list = [], 0, 0, False
    while pos < len(buf):
        t = buf[pos]
        pos += 1
        ind = "  " * (depth + 1)
        if t in (1, 3, 4):
            n, pos = _take(buf, pos, 1)
            name, pos = _take(buf, pos, n[0])
            name = _text(name)
        if t == 1:
            lines.append("%s%s {" % (ind, name))
            depth += 1
        elif t == 2:
            if depth == 0:
                raise DecodeError("SECTION_END at top level")
            depth -= 1
            lines.append("%s}" % ("  " * (depth + 1)))
        elif t == 3:
            ln, pos = _take(buf, pos, 2)
            val, pos = _take(buf, pos, struct.unpack(">H", ln)[0])
            lines.append("%s%s = %s" % (ind, name, _text(val)))
        elif t == 4:
            lines.append("%s%s = [" % (ind, name))
            in_list = True
        elif t == 5:
            if not in_list:
                raise DecodeError("LIST_ITEM outside a list")
            ln, pos = _take(buf, pos, 2)
            val, pos = _take(buf, pos, struct.unpack(">H", ln)[0])
            lines.append("%s  %s" % (ind, _text(val)))
        elif t == 6:
            in_list = False
            lines.append("%s]" % ind)
        else:
            raise DecodeError("unknown element type %d" % t)
    if depth != 0 or in_list:
        raise DecodeError("unbalanced")
    return lines


def split_packet(payload):
    if not payload:
        raise DecodeError("empty packet")
    t = payload[0]
    name, pos = "", 1
    if t in NAMED:
        n, pos = _take(payload, pos, 1)
        raw, pos = _take(payload, pos, n[0])
        name = raw.decode("ascii", "replace")
    return t, name, payload[pos:]


class Recorder:
    def __init__(self, out, label):
        self.out = out
        self.label = label
        os.makedirs(os.path.join(out, "packets"), exist_ok=True)
        self.seq_file = os.path.join(out, ".seq")
        self.last_cmd = "none"
        self.last_event = "none"

    def _next_seq(self):
        seq = 1
        if os.path.exists(self.seq_file):
            with open(self.seq_file) as f:
                seq = int(f.read().strip()) + 1
        with open(self.seq_file, "w") as f:
            f.write(str(seq))
        return seq

    def note(self, text):
        """A line in packets.txt that is not a packet (connections opening and closing)."""
        with open(os.path.join(self.out, "packets.txt"), "a") as f:
            f.write("# %s: %s\n\n" % (self.label, text))

    def packet(self, direction, payload):
        t, name, message = split_packet(payload)
        if t == 0:
            self.last_cmd = name
            kind = "req-" + name
        elif t == 1:
            kind = "resp-" + self.last_cmd
        elif t == 2:
            kind = "unknown-cmd-" + self.last_cmd
        elif t in (3, 4):
            self.last_event = name
            kind = ("register-" if t == 3 else "unregister-") + name
        elif t == 5:
            kind = "confirm-" + self.last_event
        elif t == 6:
            kind = "unknown-event-" + self.last_event
        elif t == 7:
            kind = "event-" + name
        else:
            kind = "type%d" % t
        seq = self._next_seq()
        fname = "%03d-%s-%s.bin" % (seq, self.label, kind)
        with open(os.path.join(self.out, "packets", fname), "wb") as f:
            f.write(payload)
        head = "%s  %s  %s%s  (%d bytes)" % (
            fname, direction, TYPES.get(t, "type %d" % t), (" " + repr(name)) if t in NAMED else "",
            len(payload))
        lines = [head]
        if t in WITH_MESSAGE:
            try:
                lines += describe_message(message)
            except DecodeError as e:
                lines.append("  !! %s" % e)
        elif message:
            lines.append("  !! %d unexpected bytes after the header" % len(message))
        with open(os.path.join(self.out, "packets.txt"), "a") as f:
            f.write("\n".join(lines) + "\n\n")


class Stream:
    """Frames one direction of a connection (4-byte big-endian length + data)."""

    def __init__(self, recorder, direction):
        self.buf = b""
        self.recorder = recorder
        self.direction = direction

    def feed(self, data):
        """Records every packet completed by `data`; returns how many there were."""
        self.buf += data
        done = 0
        while len(self.buf) >= 4:
            (n,) = struct.unpack(">I", self.buf[:4])
            if n > MAX_SEGMENT:
                raise DecodeError("segment of %d bytes exceeds the limit" % n)
            if len(self.buf) < 4 + n:
                break
            self.recorder.packet(self.direction, self.buf[4:4 + n])
            self.buf = self.buf[4 + n:]
            done += 1
        return done


def proxy_run(args, cmd):
    rec = Recorder(args.out, args.label)
    tmpdir = tempfile.mkdtemp(prefix="vici-proxy.")
    listen_path = os.path.join(tmpdir, "proxy.vici")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(listen_path)
    srv.listen(4)
    out = open(args.output, "wb") if args.output else subprocess.DEVNULL
    proc = subprocess.Popen(cmd + ["--uri", "unix://" + listen_path], stdout=out,
                            stderr=subprocess.STDOUT)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ, ("accept", None))
    peers = {}  # socket -> (other socket, Stream of what this socket sends)
    deadline = time.monotonic() + args.timeout
    try:
        while True:
            if proc.poll() is not None and not peers:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("record.py: %s timed out" % args.label)
            for key, _ in sel.select(timeout=0.1):
                what, _unused = key.data
                if what == "accept":
                    client, _addr = srv.accept()
                    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    upstream.connect(args.upstream)
                    rec.note("swanctl connected")
                    peers[client] = (upstream, Stream(rec, "swanctl->charon"))
                    peers[upstream] = (client, Stream(rec, "charon->swanctl"))
                    sel.register(client, selectors.EVENT_READ, ("data", None))
                    sel.register(upstream, selectors.EVENT_READ, ("data", None))
                    continue
                s = key.fileobj
                other, stream = peers[s]
                data = s.recv(65536)
                if data:
                    stream.feed(data)
                    other.sendall(data)
                    continue
                # One side closed: close both, after checking nothing was left half-framed.
                rec.note("%s closed the connection" % stream.direction.split("->")[0])
                for x in (s, other):
                    if peers[x][1].buf:
                        raise SystemExit("record.py: %d bytes of an incomplete frame" %
                                         len(peers[x][1].buf))
                    sel.unregister(x)
                    x.close()
                    del peers[x]
        return proc.wait()
    finally:
        srv.close()
        os.unlink(listen_path)
        os.rmdir(tmpdir)
        if args.output:
            out.close()


def probe(args):
    rec = Recorder(args.out, args.label)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.upstream)
    s.settimeout(args.timeout)
    names = {v: k for k, v in TYPES.items()}
    answers = Stream(rec, "charon->probe")
    rec.note("probe connected")
    for spec in args.send:
        tname, _, name = spec.partition(":")
        t = names[tname]
        payload = bytes([t])
        if t in NAMED:
            payload += bytes([len(name)]) + name.encode("ascii")
        rec.packet("probe->charon", payload)
        s.sendall(struct.pack(">I", len(payload)) + payload)
        # Every probe gets exactly one answer packet.
        got = 0
        while got == 0:
            data = s.recv(65536)
            if not data:
                raise SystemExit("record.py: charon closed the connection")
            got = answers.feed(data)
    s.close()
    rec.note("probe closed the connection")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    for m in ("run", "probe"):
        sp = sub.add_parser(m)
        sp.add_argument("--upstream", required=True, help="charon's vici socket path")
        sp.add_argument("--out", required=True, help="output folder")
        sp.add_argument("--label", required=True, help="label in the file names")
        sp.add_argument("--timeout", type=float, default=30.0)
        if m == "run":
            sp.add_argument("--output", help="file for swanctl's stdout and stderr")
            sp.add_argument("cmd", nargs=argparse.REMAINDER)
        else:
            sp.add_argument("--send", action="append", required=True,
                            help="TYPE[:NAME], e.g. CMD_REQUEST:no-such-command")
    args = p.parse_args()
    if args.mode == "run":
        cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
        if not cmd:
            p.error("run needs a swanctl command after --")
        return proxy_run(args, cmd)
    return probe(args)


if __name__ == "__main__":
    sys.exit(main())
