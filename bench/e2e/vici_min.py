"""The smallest VICI client the benchmarks need (strongSwan's VICI protocol, as ikeplexd speaks it):
named requests with flat key/value messages over the daemon's Unix socket. Used where the CLI's
process start is too slow, e.g. to issue two rekeys within the same millisecond. Python 3.11
standard library only."""
import socket
import struct

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
KEY_VALUE = 3


def _message(kv):
    out = b""
    for k, v in kv.items():
        kb, vb = k.encode(), str(v).encode()
        out += bytes([KEY_VALUE, len(kb)]) + kb + struct.pack(">H", len(vb)) + vb
    return out


def _values(msg):
    """Flat key/value pairs of a response (sections and lists are skipped over)."""
    out, i = {}, 0
    while i < len(msg):
        t = msg[i]
        i += 1
        if t in (1, 4):  # section / list start: a name follows
            n = msg[i]
            i += 1 + n
        elif t in (2, 6):  # section / list end
            pass
        elif t == KEY_VALUE:
            n = msg[i]
            k = msg[i + 1:i + 1 + n].decode(errors="replace")
            i += 1 + n
            (m,) = struct.unpack(">H", msg[i:i + 2])
            out[k] = msg[i + 2:i + 2 + m].decode(errors="replace")
            i += 2 + m
        elif t == 5:  # list item
            (m,) = struct.unpack(">H", msg[i:i + 2])
            i += 2 + m
        else:
            raise ValueError(f"VICI: unknown element type {t}")
    return out


class Session:
    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)

    def send(self, command, **kv):
        name = command.encode()
        pkt = bytes([CMD_REQUEST, len(name)]) + name + _message({k.replace("_", "-"): v for k, v in kv.items()})
        self.s.sendall(struct.pack(">I", len(pkt)) + pkt)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise OSError("VICI: connection closed")
            buf += chunk
        return buf

    def receive(self):
        """The response to the last request: its key/values (event packets are skipped)."""
        while True:
            (n,) = struct.unpack(">I", self._read(4))
            pkt = self._read(n)
            if pkt[0] == CMD_RESPONSE:
                return _values(pkt[1:])
            if pkt[0] == CMD_UNKNOWN:
                raise ValueError("VICI: unknown command")

    def close(self):
        self.s.close()
