"""Just enough RADIUS (RFC 2865 §3/§5, RFC 3579 §3.1-3.2, RFC 2548 §2.4.2-2.4.3) for the EAP
interop tests: attributes, Message-Authenticator, Response Authenticator, and the MS-MPPE key
encryption. Both roles: a NAS (eap_radius_interop.py) and a server (eap_strongswan_radius.py)."""
import hashlib
import hmac
import os
import struct

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE = 1, 2, 3, 11
USER_NAME, STATE, VENDOR_SPECIFIC, EAP_MESSAGE, MESSAGE_AUTHENTICATOR = 1, 24, 26, 79, 80
MICROSOFT, MS_MPPE_SEND_KEY, MS_MPPE_RECV_KEY = 311, 16, 17


class RadiusError(Exception):
    pass


def attr(t, value):
    return bytes([t, len(value) + 2]) + value


def eap_attrs(eap):
    return b"".join(attr(EAP_MESSAGE, eap[i:i + 253]) for i in range(0, len(eap), 253))


def attrs_of(body):
    out = []
    while len(body) >= 2:
        t, n = body[0], body[1]
        if n < 2 or n > len(body):
            raise RadiusError("bad attribute length")
        out.append((t, body[2:n]))
        body = body[n:]
    return out


def first(attrs, t):
    values = [v for k, v in attrs if k == t]
    return values[0] if values else None


def eap_of(attrs):
    return b"".join(v for t, v in attrs if t == EAP_MESSAGE)


def _with_message_authenticator(secret, header_and_auth, attrs):
    """The packet with Message-Authenticator last, computed over the packet with it zeroed."""
    body = attrs + attr(MESSAGE_AUTHENTICATOR, bytes(16))
    length = 20 + len(body)
    pkt = header_and_auth[:2] + struct.pack("!H", length) + header_and_auth[4:20] + body
    mac = hmac.new(secret, pkt, hashlib.md5).digest()
    return pkt[:-16] + mac


# --- NAS side ---------------------------------------------------------------------------------

def access_request(secret, ident, user, eap, state):
    auth = os.urandom(16)
    attrs = attr(USER_NAME, user.encode()) + eap_attrs(eap) + (attr(STATE, state) if state else b"")
    pkt = _with_message_authenticator(secret, bytes([ACCESS_REQUEST, ident, 0, 0]) + auth, attrs)
    return pkt, auth


def check_reply(secret, reply, request_auth):
    code, _, length = struct.unpack("!BBH", reply[:4])
    if length > len(reply) or length < 20:
        raise RadiusError("bad length")
    reply = reply[:length]
    expect = hashlib.md5(reply[:4] + request_auth + reply[20:] + secret).digest()
    if not hmac.compare_digest(expect, reply[4:20]):
        raise RadiusError("wrong Response Authenticator")
    return code, attrs_of(reply[20:])


def mppe_decrypt(secret, value, request_auth):
    """RFC 2548 §2.4.2: Salt (2), then String = MD5-chained XOR of (Key-Length | Key | pad)."""
    salt, cipher = value[:2], value[2:]
    plain, prev = b"", request_auth + salt
    for i in range(0, len(cipher), 16):
        b = hashlib.md5(secret + prev).digest()
        block = cipher[i:i + 16]
        plain += bytes(x ^ y for x, y in zip(block, b))
        prev = block
    return plain[1:1 + plain[0]]


def vendor_attrs(attrs, vendor):
    out = {}
    for t, v in attrs:
        if t == VENDOR_SPECIFIC and len(v) >= 6 and struct.unpack("!I", v[:4])[0] == vendor:
            out[v[4]] = v[6:6 + v[5] - 2]
    return out


# --- server side ------------------------------------------------------------------------------

def parse_request(secret, data):
    """(identifier, Request Authenticator, attributes) of an Access-Request whose
    Message-Authenticator is right; RadiusError otherwise."""
    if len(data) < 20:
        raise RadiusError("short packet")
    code, ident, length = struct.unpack("!BBH", data[:4])
    if code != ACCESS_REQUEST or length > len(data) or length < 20:
        raise RadiusError("not an Access-Request")
    data = data[:length]
    attrs = attrs_of(data[20:])
    mac = first(attrs, MESSAGE_AUTHENTICATOR)
    if mac is None:
        raise RadiusError("no Message-Authenticator")
    i = data.index(bytes([MESSAGE_AUTHENTICATOR, 18]) + mac)
    zeroed = data[:i + 2] + bytes(16) + data[i + 18:]
    if not hmac.compare_digest(hmac.new(secret, zeroed, hashlib.md5).digest(), mac):
        raise RadiusError("wrong Message-Authenticator")
    return ident, data[4:20], attrs


def mppe_encrypt(secret, key, request_auth):
    """RFC 2548 §2.4.2: a random Salt with its top bit set, Key-Length | Key padded to 16."""
    salt = bytes([0x80 | os.urandom(1)[0]]) + os.urandom(1)
    plain = bytes([len(key)]) + key
    plain += bytes(-len(plain) % 16)
    out, prev = b"", request_auth + salt
    for i in range(0, len(plain), 16):
        b = hashlib.md5(secret + prev).digest()
        block = bytes(x ^ y for x, y in zip(plain[i:i + 16], b))
        out += block
        prev = block
    return salt + out


def ms_attr(vendor_type, value):
    return attr(VENDOR_SPECIFIC, struct.pack("!I", MICROSOFT) + bytes([vendor_type, len(value) + 2]) + value)


def reply(secret, code, ident, request_auth, attrs):
    """A reply with Message-Authenticator (over the packet with the Request Authenticator in
    place, RFC 3579 §3.2) and the Response Authenticator."""
    pkt = _with_message_authenticator(secret, bytes([code, ident, 0, 0]) + request_auth, attrs)
    resp_auth = hashlib.md5(pkt[:4] + request_auth + pkt[20:] + secret).digest()
    return pkt[:4] + resp_auth + pkt[20:]
