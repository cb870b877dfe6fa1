// KE, IDi/IDr, CERT, CERTREQ, AUTH, Nonce, Notify, Delete and Vendor ID bodies (RFC 7296
// §3.4–§3.12).
#include "wire/notify_codes.h"
#include "wire/payload_codec.h"

namespace ikeplex::wire::codec {
namespace {

Bytes copy(ByteView v) {
    return {v.begin(), v.end()};
}

}  // namespace

// Key Exchange, RFC 7296 §3.4:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   Diffie-Hellman Group Num    |           RESERVED            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       Key Exchange Data                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Result<KePayload> parse_ke(ByteView body) {
    Reader r(body);
    KePayload p;
    p.group = IKEPLEX_TRY(r.read_u16("KE: group"));
    IKEPLEX_TRY(r.read_u16("KE: reserved"));
    p.data = copy(r.read_rest());
    return p;
}

Status write_ke(Writer& w, const KePayload& p) {
    w.write_u16(p.group);
    w.write_u16(0);
    w.write_bytes(p.data);
    return ok();
}

// Identification, RFC 7296 §3.5:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   ID Type     |                 RESERVED                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                   Identification Data                         ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Result<IdPayload> parse_id(ByteView body) {
    Reader r(body);
    IdPayload p;
    p.id_type = static_cast<IdType>(IKEPLEX_TRY(r.read_u8("ID: type")));
    IKEPLEX_TRY(r.read_bytes(3, "ID: reserved"));
    p.data = copy(r.read_rest());
    if (p.id_type == IdType::kIpv4Addr && p.data.size() != 4) {
        return invalid_syntax("ID: ID_IPV4_ADDR is not 4 bytes");
    }
    if (p.id_type == IdType::kIpv6Addr && p.data.size() != 16) {
        return invalid_syntax("ID: ID_IPV6_ADDR is not 16 bytes");
    }
    return p;
}

Status write_id(Writer& w, const IdPayload& p) {
    w.write_u8(static_cast<std::uint8_t>(p.id_type));
    w.write_zeros(3);
    w.write_bytes(p.data);
    return ok();
}

// Certificate and Certificate Request, RFC 7296 §3.6 / §3.7:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Cert Encoding |                                               |
// +-+-+-+-+-+-+-+-+                                               |
// ~       Certificate Data / Certification Authority              ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
namespace {
template <class T>
Result<T> parse_encoded(ByteView body, const char* field) {
    Reader r(body);
    T p;
    p.encoding = static_cast<CertEncoding>(IKEPLEX_TRY(r.read_u8(field)));
    p.data = copy(r.read_rest());
    return p;
}

template <class T>
Status write_encoded(Writer& w, const T& p) {
    w.write_u8(static_cast<std::uint8_t>(p.encoding));
    w.write_bytes(p.data);
    return ok();
}
}  // namespace

Result<CertPayload> parse_cert(ByteView body) {
    return parse_encoded<CertPayload>(body, "CERT: encoding");
}
Status write_cert(Writer& w, const CertPayload& p) {
    return write_encoded(w, p);
}
Result<CertReqPayload> parse_certreq(ByteView body) {
    return parse_encoded<CertReqPayload>(body, "CERTREQ: encoding");
}
Status write_certreq(Writer& w, const CertReqPayload& p) {
    return write_encoded(w, p);
}

// Authentication, RFC 7296 §3.8:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Auth Method   |                RESERVED                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                      Authentication Data                      ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Result<AuthPayload> parse_auth(ByteView body) {
    Reader r(body);
    AuthPayload p;
    p.method = static_cast<AuthMethod>(IKEPLEX_TRY(r.read_u8("AUTH: method")));
    IKEPLEX_TRY(r.read_bytes(3, "AUTH: reserved"));
    p.data = copy(r.read_rest());
    return p;
}

Status write_auth(Writer& w, const AuthPayload& p) {
    w.write_u8(static_cast<std::uint8_t>(p.method));
    w.write_zeros(3);
    w.write_bytes(p.data);
    return ok();
}

// Nonce, RFC 7296 §3.9: Nonce Data only, "at least 128 bits in size" and at most 256 octets.
Result<NoncePayload> parse_nonce(ByteView body) {
    if (body.size() < kMinNonceSize || body.size() > kMaxNonceSize) {
        return invalid_syntax("Nonce: size outside 16..256 bytes",
                              static_cast<std::uint32_t>(body.size()));
    }
    return NoncePayload{copy(body)};
}

Status write_nonce(Writer& w, const NoncePayload& p) {
    if (p.data.size() < kMinNonceSize || p.data.size() > kMaxNonceSize) {
        return make_error(Errc::kInvalidArgument, "Nonce: size outside 16..256 bytes");
    }
    w.write_bytes(p.data);
    return ok();
}

// Notify, RFC 7296 §3.10 (and RFC 9611 §5.1/§5.2 for SA_RESOURCE_INFO / TS_MAX_QUEUE):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Protocol ID  |   SPI Size    |      Notify Message Type      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                Security Parameter Index (SPI)                 ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                       Notification Data                       ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Result<NotifyPayload> parse_notify(ByteView body) {
    Reader r(body);
    NotifyPayload p;
    p.protocol = static_cast<ProtocolId>(IKEPLEX_TRY(r.read_u8("Notify: protocol id")));
    const std::uint8_t spi_size = IKEPLEX_TRY(r.read_u8("Notify: SPI size"));
    p.type = static_cast<NotifyType>(IKEPLEX_TRY(r.read_u16("Notify: message type")));
    p.spi = copy(IKEPLEX_TRY(r.read_bytes(spi_size, "Notify: SPI")));
    p.data = copy(r.read_rest());
    IKEPLEX_TRY(verify_notify(p));
    return p;
}

Status write_notify(Writer& w, const NotifyPayload& p) {
    if (p.spi.size() > 0xffU) {
        return make_error(Errc::kTooLarge, "Notify: SPI longer than 255 bytes");
    }
    w.write_u8(static_cast<std::uint8_t>(p.protocol));
    w.write_u8(static_cast<std::uint8_t>(p.spi.size()));
    w.write_u16(static_cast<std::uint16_t>(p.type));
    w.write_bytes(p.spi);
    w.write_bytes(p.data);
    return ok();
}

Status verify_notify(const NotifyPayload& n) {
    if (static_cast<std::uint8_t>(n.protocol) > static_cast<std::uint8_t>(ProtocolId::kEsp)) {
        return invalid_syntax("Notify: unknown protocol id", static_cast<std::uint8_t>(n.protocol));
    }
    const auto size = static_cast<std::uint32_t>(n.data.size());
    switch (n.type) {
        case NotifyType::kInvalidKePayload:  // RFC 7296 §1.2: the accepted group, 2 octets
            if (size != 2) {
                return invalid_syntax("Notify: INVALID_KE_PAYLOAD data is not 2 bytes", size);
            }
            break;
        case NotifyType::kNatDetectionSourceIp:  // RFC 7296 §2.23: SHA-1 digest
        case NotifyType::kNatDetectionDestinationIp:
            if (size != 20) {
                return invalid_syntax("Notify: NAT_DETECTION_* data is not 20 bytes", size);
            }
            break;
        case NotifyType::kSetWindowSize:  // RFC 7296 §3.10.1: 4-octet window size
            if (size != 4) {
                return invalid_syntax("Notify: SET_WINDOW_SIZE data is not 4 bytes", size);
            }
            break;
        case NotifyType::kCookie:  // RFC 7296 §2.6: 1 to 64 octets
            if (size < 1 || size > 64) {
                return invalid_syntax("Notify: COOKIE data is not 1..64 bytes", size);
            }
            break;
        case NotifyType::kSignatureHashAlgorithms:  // RFC 7427 §4: 2-octet identifiers
            if (size % 2 != 0) {
                return invalid_syntax("Notify: SIGNATURE_HASH_ALGORITHMS data has odd size", size);
            }
            break;
        case NotifyType::kRekeySa:  // RFC 7296 §1.3.3: the SPI of the SA being rekeyed
            if (n.spi.size() != 4) {
                return invalid_syntax("Notify: REKEY_SA without a 4-byte SPI");
            }
            break;
        default:
            break;
    }
    return ok();
}

// Delete, RFC 7296 §3.11:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Protocol ID   |   SPI Size    |          Num of SPIs          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~               Security Parameter Index(es) (SPI)              ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// SPI Size "MUST be zero for IKE ... or four for AH and ESP"; Num of SPIs is zero for IKE.
Result<DeletePayload> parse_delete(ByteView body) {
    Reader r(body);
    DeletePayload p;
    p.protocol = static_cast<ProtocolId>(IKEPLEX_TRY(r.read_u8("Delete: protocol id")));
    const std::uint8_t spi_size = IKEPLEX_TRY(r.read_u8("Delete: SPI size"));
    const std::uint16_t count = IKEPLEX_TRY(r.read_u16("Delete: number of SPIs"));
    switch (p.protocol) {
        case ProtocolId::kIke:
            if (spi_size != 0 || count != 0) {
                return invalid_syntax("Delete: IKE SA delete with SPIs");
            }
            break;
        case ProtocolId::kAh:
        case ProtocolId::kEsp:
            if (spi_size != 4) {
                return invalid_syntax("Delete: AH/ESP SPI size is not 4", spi_size);
            }
            break;
        default:
            return invalid_syntax("Delete: unknown protocol id",
                                  static_cast<std::uint8_t>(p.protocol));
    }
    if (r.remaining() != static_cast<std::size_t>(count) * spi_size) {
        return invalid_syntax("Delete: SPI count disagrees with the payload length", count);
    }
    for (std::uint16_t i = 0; i < count; ++i) {
        p.spis.emplace_back(IKEPLEX_TRY(r.read_u32("Delete: SPI")));
    }
    return p;
}

Status write_delete(Writer& w, const DeletePayload& p) {
    const bool ike = p.protocol == ProtocolId::kIke;
    if (ike && !p.spis.empty()) {
        return make_error(Errc::kInvalidArgument, "Delete: IKE SA delete with SPIs");
    }
    if (p.spis.size() > 0xffffU) {
        return make_error(Errc::kTooLarge, "Delete: too many SPIs");
    }
    w.write_u8(static_cast<std::uint8_t>(p.protocol));
    w.write_u8(ike ? 0 : 4);
    w.write_u16(static_cast<std::uint16_t>(p.spis.size()));
    for (Spi spi : p.spis) {
        w.write_u32(spi.value());
    }
    return ok();
}

}  // namespace ikeplex::wire::codec
