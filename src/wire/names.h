// Names of every IKEv2 code point: full names (IANA / RFC spelling, e.g. SA_RESOURCE_INFO) for
// logs and errors, and strongSwan's short names (e.g. RES_INFO, No, TSi) for the one-line message
// summaries of describe.h. Unknown values get a descriptive name with the number in it, e.g.
// "STATUS_TYPE(40000)": no enum is ever printed as a bare number.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "wire/constants.h"

namespace ikeplex::wire {

std::string to_string(ExchangeType v);
std::string to_string(PayloadType v);
std::string to_string(ProtocolId v);
std::string to_string(TransformType v);
std::string to_string(NotifyType v);
std::string to_string(IdType v);
std::string to_string(AuthMethod v);
std::string to_string(CertEncoding v);
std::string to_string(TsType v);
std::string to_string(CfgType v);
std::string to_string(EapCode v);

/// strongSwan's short payload name: SA KE IDi IDr CERT CERTREQ AUTH No N D V TSi TSr E CP EAP EF.
std::string short_name(PayloadType v);
/// strongSwan's short notify name, e.g. NATD_S_IP, FRAG_SUP, RES_INFO.
std::string short_name(NotifyType v);
/// strongSwan's short names in message summaries: CPRQ/CPRP/CPS/CPA, REQ/RES/SUCC/FAIL.
std::string short_name(CfgType v);
std::string short_name(EapCode v);
/// Transform id name in strongSwan's spelling, e.g. AES_GCM_16, PRF_HMAC_SHA2_256, CURVE_25519.
std::string transform_name(TransformType type, std::uint16_t id);
/// RFC 7427 §7 hash algorithm name, e.g. SHA2_256 (the numbers: crypto/algorithm_ids.h).
std::string hash_algorithm_name(std::uint16_t id);
/// Configuration attribute (RFC 7296 §3.15.1) full and short names.
std::string config_attribute_name(std::uint16_t type);
std::string config_attribute_short_name(std::uint16_t type);
/// EAP method type (IANA "Method Types") short name, e.g. ID, MD5, MSCHAPV2.
std::string eap_type_short_name(std::uint8_t type);

}  // namespace ikeplex::wire

#define IKEPLEX_WIRE_ENUM_FORMATTER(Enum)                                           \
    template <>                                                                     \
    struct fmt::formatter<ikeplex::wire::Enum> : fmt::formatter<std::string_view> { \
        template <class Ctx>                                                        \
        auto format(ikeplex::wire::Enum v, Ctx& ctx) const {                        \
            return fmt::format_to(ctx.out(), "{}", ikeplex::wire::to_string(v));    \
        }                                                                           \
    }

IKEPLEX_WIRE_ENUM_FORMATTER(ExchangeType);
IKEPLEX_WIRE_ENUM_FORMATTER(PayloadType);
IKEPLEX_WIRE_ENUM_FORMATTER(ProtocolId);
IKEPLEX_WIRE_ENUM_FORMATTER(TransformType);
IKEPLEX_WIRE_ENUM_FORMATTER(NotifyType);
IKEPLEX_WIRE_ENUM_FORMATTER(IdType);
IKEPLEX_WIRE_ENUM_FORMATTER(AuthMethod);
IKEPLEX_WIRE_ENUM_FORMATTER(CertEncoding);
IKEPLEX_WIRE_ENUM_FORMATTER(TsType);
IKEPLEX_WIRE_ENUM_FORMATTER(CfgType);
IKEPLEX_WIRE_ENUM_FORMATTER(EapCode);
