// Security Association payload: proposals, transforms, attributes (RFC 7296 §3.3).
#include "wire/notify_codes.h"
#include "wire/payload_codec.h"

namespace ikeplex::wire::codec {
namespace {

// Proposal substructure, RFC 7296 §3.3.1:
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Last Substruc |   RESERVED    |         Proposal Length       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                        SPI (variable)                         ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                        <Transforms>                           ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
constexpr std::uint8_t kLastProposal = 0;
constexpr std::uint8_t kMoreProposals = 2;

// Transform substructure, RFC 7296 §3.3.2:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Last Substruc |   RESERVED    |        Transform Length       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Transform Type |   RESERVED    |          Transform ID         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ~                      Transform Attributes                     ~
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
constexpr std::uint8_t kLastTransform = 0;
constexpr std::uint8_t kMoreTransforms = 3;

// Data attribute, RFC 7296 §3.3.5:
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |A|       Attribute Type        |    AF=0  Attribute Length     |
// |F|                             |    AF=1  Attribute Value      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   AF=0  Attribute Value                       |
// |                   AF=1  Not Transmitted                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
constexpr std::uint16_t kAttrFormatTv = 0x8000;

Result<TransformAttribute> parse_attribute(Reader& r) {
    TransformAttribute a;
    const std::uint16_t type = IKEPLEX_TRY(r.read_u16("SA attribute: type"));
    a.tv = (type & kAttrFormatTv) != 0;
    a.type = static_cast<std::uint16_t>(type & ~kAttrFormatTv);
    if (a.tv) {
        a.value = IKEPLEX_TRY(r.read_u16("SA attribute: value"));
    } else {
        const std::uint16_t len = IKEPLEX_TRY(r.read_u16("SA attribute: length"));
        const ByteView v = IKEPLEX_TRY(r.read_bytes(len, "SA attribute: variable value"));
        a.data.assign(v.begin(), v.end());
    }
    return a;
}

Result<Transform> parse_transform(Reader& body) {
    Transform t;
    t.type = static_cast<TransformType>(IKEPLEX_TRY(body.read_u8("SA transform: type")));
    IKEPLEX_TRY(body.read_u8("SA transform: reserved after type"));
    t.id = IKEPLEX_TRY(body.read_u16("SA transform: id"));
    while (!body.empty()) {
        t.attributes.push_back(IKEPLEX_TRY(parse_attribute(body)));
    }
    return t;
}

Result<Proposal> parse_proposal(Reader& body) {
    Proposal p;
    p.number = IKEPLEX_TRY(body.read_u8("SA proposal: number"));
    p.protocol = static_cast<ProtocolId>(IKEPLEX_TRY(body.read_u8("SA proposal: protocol id")));
    const std::uint8_t spi_size = IKEPLEX_TRY(body.read_u8("SA proposal: SPI size"));
    const std::uint8_t num_transforms = IKEPLEX_TRY(body.read_u8("SA proposal: transform count"));
    const ByteView spi = IKEPLEX_TRY(body.read_bytes(spi_size, "SA proposal: SPI"));
    p.spi.assign(spi.begin(), spi.end());

    std::uint8_t last = kMoreTransforms;
    while (!body.empty()) {
        if (last == kLastTransform) {
            return invalid_syntax("SA transform: data after the last transform");
        }
        last = IKEPLEX_TRY(body.read_u8("SA transform: last substruc"));
        if (last != kLastTransform && last != kMoreTransforms) {
            return invalid_syntax("SA transform: last substruc is neither 0 nor 3", last);
        }
        IKEPLEX_TRY(body.read_u8("SA transform: reserved"));
        const std::uint16_t len = IKEPLEX_TRY(body.read_u16("SA transform: length"));
        Reader tr = IKEPLEX_TRY(substructure(body, len, "SA transform: length below 4",
                                             "SA transform: length exceeds the proposal"));
        p.transforms.push_back(IKEPLEX_TRY(parse_transform(tr)));
    }
    if (p.transforms.empty()) {
        return invalid_syntax("SA proposal: no transform");
    }
    if (last != kLastTransform) {
        return invalid_syntax("SA transform: proposal ends before its last transform");
    }
    if (p.transforms.size() != num_transforms) {
        return invalid_syntax("SA proposal: transform count differs from the transforms present",
                              num_transforms);
    }
    return p;
}

Status write_transform(Writer& w, const Transform& t, bool last) {
    const std::size_t start = w.size();
    w.write_u8(last ? kLastTransform : kMoreTransforms);
    w.write_u8(0);
    const auto mark = w.reserve_u16_length(start);
    w.write_u8(static_cast<std::uint8_t>(t.type));
    w.write_u8(0);
    w.write_u16(t.id);
    for (const TransformAttribute& a : t.attributes) {
        if ((a.type & kAttrFormatTv) != 0) {
            return make_error(Errc::kInvalidArgument, "SA attribute: type above 0x7fff");
        }
        if (a.tv) {
            w.write_u16(static_cast<std::uint16_t>(a.type | kAttrFormatTv));
            w.write_u16(a.value);
        } else {
            if (a.data.size() > 0xffffU) {
                return make_error(Errc::kTooLarge, "SA attribute: value too long");
            }
            w.write_u16(a.type);
            w.write_u16(static_cast<std::uint16_t>(a.data.size()));
            w.write_bytes(a.data);
        }
    }
    return w.patch_length(mark, "SA transform: length");
}

}  // namespace

Result<SaPayload> parse_sa(ByteView body) {
    SaPayload sa;
    Reader r(body);
    if (r.empty()) {
        return invalid_syntax("SA: no proposal");
    }
    std::uint8_t last = kMoreProposals;
    while (!r.empty()) {
        if (last == kLastProposal) {
            return invalid_syntax("SA proposal: data after the last proposal");
        }
        last = IKEPLEX_TRY(r.read_u8("SA proposal: last substruc"));
        if (last != kLastProposal && last != kMoreProposals) {
            return invalid_syntax("SA proposal: last substruc is neither 0 nor 2", last);
        }
        IKEPLEX_TRY(r.read_u8("SA proposal: reserved"));
        const std::uint16_t len = IKEPLEX_TRY(r.read_u16("SA proposal: length"));
        Reader pr = IKEPLEX_TRY(substructure(r, len, "SA proposal: length below 4",
                                             "SA proposal: length exceeds the payload"));
        sa.proposals.push_back(IKEPLEX_TRY(parse_proposal(pr)));
    }
    if (last != kLastProposal) {
        return invalid_syntax("SA proposal: payload ends before its last proposal");
    }
    return sa;
}

Status write_sa(Writer& w, const SaPayload& sa) {
    if (sa.proposals.empty()) {
        return make_error(Errc::kInvalidArgument, "SA: no proposal");
    }
    for (std::size_t i = 0; i < sa.proposals.size(); ++i) {
        const Proposal& p = sa.proposals[i];
        if (p.transforms.empty()) {
            return make_error(Errc::kInvalidArgument, "SA proposal: no transform");
        }
        if (p.spi.size() > 0xffU || p.transforms.size() > 0xffU) {
            return make_error(Errc::kTooLarge, "SA proposal: SPI or transform count too large");
        }
        const std::size_t start = w.size();
        w.write_u8(i + 1 == sa.proposals.size() ? kLastProposal : kMoreProposals);
        w.write_u8(0);
        const auto mark = w.reserve_u16_length(start);
        w.write_u8(p.number);
        w.write_u8(static_cast<std::uint8_t>(p.protocol));
        w.write_u8(static_cast<std::uint8_t>(p.spi.size()));
        w.write_u8(static_cast<std::uint8_t>(p.transforms.size()));
        w.write_bytes(p.spi);
        for (std::size_t t = 0; t < p.transforms.size(); ++t) {
            IKEPLEX_TRY(write_transform(w, p.transforms[t], t + 1 == p.transforms.size()));
        }
        IKEPLEX_TRY(w.patch_length(mark, "SA proposal: length"));
    }
    return ok();
}

}  // namespace ikeplex::wire::codec
