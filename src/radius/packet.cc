// RADIUS packets and attributes (RFC 2865 §3, §5; RFC 3579 §3.1 for EAP-Message).
#include <algorithm>
#include <utility>

#include "radius/radius.h"
#include "util/reader.h"
#include "util/writer.h"

namespace ikeplex::radius {

std::string to_string(Code c) {
    switch (c) {
        case Code::kAccessRequest:
            return "Access-Request";
        case Code::kAccessAccept:
            return "Access-Accept";
        case Code::kAccessReject:
            return "Access-Reject";
        case Code::kAccountingRequest:
            return "Accounting-Request";
        case Code::kAccountingResponse:
            return "Accounting-Response";
        case Code::kAccessChallenge:
            return "Access-Challenge";
    }
    return "Code " + std::to_string(static_cast<unsigned>(c));
}

const Attribute* Packet::find(std::uint8_t type) const noexcept {
    for (const Attribute& a : attributes) {
        if (a.type == type) {
            return &a;
        }
    }
    return nullptr;
}

Status Packet::add(std::uint8_t type, ByteView value) {
    if (value.size() > kMaxValue) {
        return make_error(Errc::kTooLarge, "RADIUS: attribute value over 253 bytes", 0, type);
    }
    attributes.push_back(Attribute{type, Bytes(value.begin(), value.end())});
    return ok();
}

void Packet::add_u32(std::uint8_t type, std::uint32_t v) {
    Writer w;
    w.write_u32(v);
    attributes.push_back(Attribute{type, std::move(w).take()});
}

Status Packet::add_ipv4(std::uint8_t type, const IpAddress& a) {
    if (!a.is_v4()) {
        return make_error(Errc::kInvalidArgument, "RADIUS: address attribute needs IPv4", 0, type);
    }
    return add(type, a.bytes());
}

Result<Bytes> encode(const Packet& p) {
    Writer w;
    w.write_u8(static_cast<std::uint8_t>(p.code));
    w.write_u8(p.identifier);
    const Writer::LengthMark length = w.reserve_u16_length(0);
    w.write_bytes(p.authenticator);
    for (const Attribute& a : p.attributes) {
        if (a.value.size() > kMaxValue) {
            return make_error(Errc::kTooLarge, "RADIUS: attribute value over 253 bytes", 0, a.type);
        }
        w.write_u8(a.type);
        w.write_u8(static_cast<std::uint8_t>(a.value.size() + 2));
        w.write_bytes(a.value);
    }
    if (w.size() > kMaxPacket) {
        return make_error(Errc::kTooLarge, "RADIUS: packet over 4096 bytes");
    }
    IKEPLEX_TRY(w.patch_length(length, "RADIUS Length"));
    return std::move(w).take();
}

Result<Packet> decode(ByteView bytes) {
    Reader r(bytes);
    Packet p;
    p.code = static_cast<Code>(IKEPLEX_TRY(r.read_u8("RADIUS Code")));
    p.identifier = IKEPLEX_TRY(r.read_u8("RADIUS Identifier"));
    const std::uint16_t length = IKEPLEX_TRY(r.read_u16("RADIUS Length"));
    if (length < kMinPacket || length > kMaxPacket) {
        return make_error(Errc::kBadLength, "RADIUS: Length outside 20..4096", 0, length);
    }
    if (length > bytes.size()) {
        return make_error(Errc::kTruncated, "RADIUS: packet shorter than its Length", 0, length);
    }
    const ByteView auth = IKEPLEX_TRY(r.read_bytes(kAuthenticatorSize, "RADIUS Authenticator"));
    std::copy(auth.begin(), auth.end(), p.authenticator.begin());
    Reader attrs = IKEPLEX_TRY(r.sub_reader(length - kHeaderSize, "RADIUS attributes"));
    while (!attrs.empty()) {
        const std::uint8_t type = IKEPLEX_TRY(attrs.read_u8("RADIUS attribute Type"));
        const std::uint8_t len = IKEPLEX_TRY(attrs.read_u8("RADIUS attribute Length"));
        if (len < 2) {
            return make_error(Errc::kBadLength, "RADIUS: attribute Length below 2", 0, type);
        }
        const ByteView value = IKEPLEX_TRY(attrs.read_bytes(len - 2U, "RADIUS attribute Value"));
        p.attributes.push_back(Attribute{type, Bytes(value.begin(), value.end())});
    }
    return p;
}

Result<std::uint32_t> value_u32(const Attribute& a) {
    if (a.value.size() != 4) {
        return make_error(Errc::kBadLength, "RADIUS: integer attribute is not 4 bytes", 0, a.type);
    }
    Reader r(a.value);
    return r.read_u32("RADIUS integer");
}

Result<IpAddress> value_ipv4(const Attribute& a) {
    if (a.value.size() != 4) {
        return make_error(Errc::kBadLength, "RADIUS: address attribute is not 4 bytes", 0, a.type);
    }
    return IpAddress::from_bytes(a.value);
}

void add_eap_message(Packet& p, ByteView eap) {
    if (eap.empty()) {
        p.attributes.push_back(Attribute{attr::kEapMessage, {}});
        return;
    }
    while (!eap.empty()) {
        const std::size_t n = std::min(eap.size(), kMaxValue);
        const ByteView part = eap.first(n);
        p.attributes.push_back(Attribute{attr::kEapMessage, Bytes(part.begin(), part.end())});
        eap = eap.subspan(n);
    }
}

Bytes eap_message(const Packet& p) {
    Bytes out;
    for (const Attribute& a : p.attributes) {
        if (a.type == attr::kEapMessage) {
            out.insert(out.end(), a.value.begin(), a.value.end());
        }
    }
    return out;
}

Result<std::vector<VendorAttribute>> vendor_attributes(const Attribute& a) {
    if (a.type != attr::kVendorSpecific) {
        return make_error(Errc::kInvalidArgument, "RADIUS: not a Vendor-Specific attribute");
    }
    Reader r(a.value);
    const std::uint32_t vendor = IKEPLEX_TRY(r.read_u32("RADIUS Vendor-Id"));
    std::vector<VendorAttribute> out;
    if (r.empty()) {
        return make_error(Errc::kBadLength, "RADIUS: Vendor-Specific without a sub-attribute");
    }
    while (!r.empty()) {
        const std::uint8_t type = IKEPLEX_TRY(r.read_u8("RADIUS Vendor-Type"));
        const std::uint8_t len = IKEPLEX_TRY(r.read_u8("RADIUS Vendor-Length"));
        if (len < 2) {
            return make_error(Errc::kBadLength, "RADIUS: Vendor-Length below 2", 0, type);
        }
        const ByteView value = IKEPLEX_TRY(r.read_bytes(len - 2U, "RADIUS vendor value"));
        out.push_back(VendorAttribute{vendor, type, value});
    }
    return out;
}

Status add_vendor(Packet& p, std::uint32_t vendor, std::uint8_t type, ByteView value) {
    if (value.size() > kMaxValue - 6) {
        return make_error(Errc::kTooLarge, "RADIUS: vendor value over 247 bytes", 0, type);
    }
    Writer w;
    w.write_u32(vendor);
    w.write_u8(type);
    w.write_u8(static_cast<std::uint8_t>(value.size() + 2));
    w.write_bytes(value);
    p.attributes.push_back(Attribute{attr::kVendorSpecific, std::move(w).take()});
    return ok();
}

}  // namespace ikeplex::radius
