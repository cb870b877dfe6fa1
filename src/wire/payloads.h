// One struct per IKEv2 payload (RFC 7296 §3.3–§3.16, RFC 7383 §2.5), and Payload, their sum.
//
// Payload data is owned (Bytes): messages outlive the datagram they were read from, and the
// engine keeps nonces, KE values and SPIs. Generic-header fields that the writer derives (Next
// Payload, Payload Length) and counts (number of proposals, transforms, TS, SPIs) are not stored;
// the parser checks them against what it read. The bit diagrams sit beside each codec in
// payload_codec_*.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "util/bytes.h"
#include "util/strong_id.h"
#include "wire/constants.h"

namespace ikeplex::wire {

/// RFC 7296 §3.3.5. AF=1 (`tv`): a 16-bit value; AF=0: variable-length `data`.
struct TransformAttribute {
    std::uint16_t type{kAttrKeyLength};  ///< without the AF bit
    bool tv{true};
    std::uint16_t value{0};
    Bytes data;
    bool operator==(const TransformAttribute&) const = default;
};

/// RFC 7296 §3.3.2.
struct Transform {
    TransformType type{TransformType::kEncr};
    std::uint16_t id{0};
    std::vector<TransformAttribute> attributes;

    /// The Key Length attribute (RFC 7296 §3.3.5), if present.
    [[nodiscard]] std::optional<std::uint16_t> key_length() const noexcept;
    bool operator==(const Transform&) const = default;
};

/// RFC 7296 §3.3.1 proposal substructure.
struct Proposal {
    std::uint8_t number{1};
    ProtocolId protocol{ProtocolId::kIke};
    Bytes spi;  ///< empty (IKE_SA_INIT), 8 bytes (IKE rekey) or 4 bytes (ESP/AH)
    std::vector<Transform> transforms;
    bool operator==(const Proposal&) const = default;
};

/// RFC 7296 §3.3 Security Association payload.
struct SaPayload {
    std::vector<Proposal> proposals;
    bool operator==(const SaPayload&) const = default;
};

/// RFC 7296 §3.4 Key Exchange payload.
struct KePayload {
    std::uint16_t group{0};  ///< Key Exchange Method (transform type 4 id)
    Bytes data;
    bool operator==(const KePayload&) const = default;
};

/// RFC 7296 §3.5 Identification payload (IDi and IDr).
struct IdPayload {
    IdType id_type{IdType::kFqdn};
    Bytes data;
    bool operator==(const IdPayload&) const = default;
};

/// RFC 7296 §3.6 Certificate payload.
struct CertPayload {
    CertEncoding encoding{CertEncoding::kX509Signature};
    Bytes data;
    bool operator==(const CertPayload&) const = default;
};

/// RFC 7296 §3.7 Certificate Request payload (data: concatenated SHA-1 hashes of CA keys).
struct CertReqPayload {
    CertEncoding encoding{CertEncoding::kX509Signature};
    Bytes data;
    bool operator==(const CertReqPayload&) const = default;
};

/// RFC 7296 §3.8 Authentication payload.
struct AuthPayload {
    AuthMethod method{AuthMethod::kSharedKeyMic};
    Bytes data;
    bool operator==(const AuthPayload&) const = default;
};

/// RFC 7296 §3.9 Nonce payload (16..256 bytes).
struct NoncePayload {
    Bytes data;
    bool operator==(const NoncePayload&) const = default;
};

/// RFC 7296 §3.10 Notify payload; RFC 9611 §5.1 SA_RESOURCE_INFO and §5.2 TS_MAX_QUEUE are
/// Notify payloads with Protocol ID 0, no SPI, and (for SA_RESOURCE_INFO) optional opaque data.
struct NotifyPayload {
    ProtocolId protocol{ProtocolId::kNone};
    Bytes spi;
    NotifyType type{NotifyType::kInitialContact};
    Bytes data;
    bool operator==(const NotifyPayload&) const = default;
};

/// RFC 7296 §3.11 Delete payload. IKE: no SPIs (the SA is the one the message belongs to);
/// ESP/AH: 4-byte SPIs.
struct DeletePayload {
    ProtocolId protocol{ProtocolId::kEsp};
    std::vector<Spi> spis;
    bool operator==(const DeletePayload&) const = default;
};

/// RFC 7296 §3.12 Vendor ID payload.
struct VendorIdPayload {
    Bytes data;
    bool operator==(const VendorIdPayload&) const = default;
};

/// RFC 7296 §3.13.1 Traffic Selector. For TS_IPV4/IPV6_ADDR_RANGE the address fields are
/// 4 or 16 bytes and `opaque` is empty; for other types (TS_SECLABEL, ...) only `ip_protocol`
/// (the second octet) and `opaque` (everything after the selector length) are used.
struct TrafficSelector {
    TsType type{TsType::kIpv4AddrRange};
    std::uint8_t ip_protocol{0};  ///< 0 = any
    std::uint16_t start_port{0};
    std::uint16_t end_port{65535};
    Bytes start_address;
    Bytes end_address;
    Bytes opaque;
    bool operator==(const TrafficSelector&) const = default;
};

/// RFC 7296 §3.13 Traffic Selector payload (TSi and TSr).
struct TsPayload {
    std::vector<TrafficSelector> selectors;
    bool operator==(const TsPayload&) const = default;
};

/// RFC 7296 §3.14 Encrypted and Authenticated payload: IV, ciphertext (with padding and Pad
/// Length) and ICV, opaque to the codec. Its Next Payload names the first inner payload.
struct SkPayload {
    PayloadType first_inner{PayloadType::kNone};
    Bytes data;
    bool operator==(const SkPayload&) const = default;
};

/// RFC 7383 §2.5 Encrypted Fragment payload. `first_inner` is the type of the first inner
/// payload in fragment 1 and 0 in the others.
struct SkfPayload {
    PayloadType first_inner{PayloadType::kNone};
    std::uint16_t fragment_number{1};
    std::uint16_t total_fragments{1};
    Bytes data;
    bool operator==(const SkfPayload&) const = default;
};

/// RFC 7296 §3.15.1 configuration attribute (15-bit type; the R bit is reserved).
struct ConfigAttribute {
    std::uint16_t type{0};
    Bytes value;
    bool operator==(const ConfigAttribute&) const = default;
};

/// RFC 7296 §3.15 Configuration payload.
struct CpPayload {
    CfgType cfg_type{CfgType::kRequest};
    std::vector<ConfigAttribute> attributes;
    bool operator==(const CpPayload&) const = default;
};

/// RFC 7296 §3.16 EAP payload carrying one EAP message (RFC 3748 §4). `data` holds Type and
/// Type-Data for requests and responses and is empty for Success and Failure.
struct EapPayload {
    EapCode code{EapCode::kRequest};
    std::uint8_t identifier{0};
    Bytes data;
    bool operator==(const EapPayload&) const = default;
};

/// A payload type we do not implement. Kept (not interpreted) so that a non-critical unknown
/// payload is skipped by the engine yet the message still round-trips.
struct UnknownPayload {
    Bytes body;
    bool operator==(const UnknownPayload&) const = default;
};

using PayloadBody =
        std::variant<SaPayload, KePayload, IdPayload, CertPayload, CertReqPayload, AuthPayload,
                     NoncePayload, NotifyPayload, DeletePayload, VendorIdPayload, TsPayload,
                     SkPayload, SkfPayload, CpPayload, EapPayload, UnknownPayload>;

/// One payload: its type (IDi/IDr and TSi/TSr share a body struct), the critical bit as
/// received or to send, and the body.
struct Payload {
    PayloadType type{PayloadType::kNone};
    bool critical{false};
    PayloadBody body;

    template <class T>
    [[nodiscard]] const T* as() const noexcept {
        return std::get_if<T>(&body);
    }
    template <class T>
    [[nodiscard]] T* as() noexcept {
        return std::get_if<T>(&body);
    }
    bool operator==(const Payload&) const = default;
};

/// Whether `body` holds the struct that payload type `t` uses (UnknownPayload for types the
/// codec does not implement).
bool body_matches_type(PayloadType t, const PayloadBody& body) noexcept;
/// Whether the codec implements payload type `t`.
bool is_known_payload_type(PayloadType t) noexcept;

Payload make_payload(SaPayload p);
Payload make_payload(KePayload p);
Payload make_payload(CertPayload p);
Payload make_payload(CertReqPayload p);
Payload make_payload(AuthPayload p);
Payload make_payload(NoncePayload p);
Payload make_payload(NotifyPayload p);
Payload make_payload(DeletePayload p);
Payload make_payload(VendorIdPayload p);
Payload make_payload(SkPayload p);
Payload make_payload(SkfPayload p);
Payload make_payload(CpPayload p);
Payload make_payload(EapPayload p);
Payload make_idi(IdPayload p);
Payload make_idr(IdPayload p);
Payload make_tsi(TsPayload p);
Payload make_tsr(TsPayload p);

/// A Notify without SPI (Protocol ID 0), e.g. NAT_DETECTION_SOURCE_IP.
Payload make_notify(NotifyType type, Bytes data = {});
/// RFC 9611 §5.1: SA_RESOURCE_INFO, with an optional opaque resource identifier.
Payload make_sa_resource_info(Bytes identifier = {});
/// RFC 9611 §5.2: TS_MAX_QUEUE (error, no data).
Payload make_ts_max_queue();

}  // namespace ikeplex::wire
