#include "sample_messages.h"

#include <utility>

#include "crypto/algorithm_ids.h"

namespace ikeplex::test {

using namespace ikeplex::wire;
namespace encr = crypto::encr;
namespace prf = crypto::prf;
namespace integ = crypto::integ;
namespace ke = crypto::ke;
namespace esn = crypto::esn;

namespace {

Bytes pattern(std::size_t n, std::uint8_t seed) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::uint8_t>(seed + i * 7);
    }
    return b;
}

Transform tf(TransformType t, std::uint16_t id, std::optional<std::uint16_t> key_len = {}) {
    Transform x{t, id, {}};
    if (key_len) {
        x.attributes.push_back({kAttrKeyLength, true, *key_len, {}});
    }
    return x;
}

}  // namespace

SaPayload sample_ike_sa() {
    SaPayload sa;
    sa.proposals.push_back(Proposal{1,
                                    ProtocolId::kIke,
                                    {},
                                    {tf(TransformType::kEncr, encr::kAesGcm16, 256),
                                     tf(TransformType::kPrf, prf::kHmacSha2_256),
                                     tf(TransformType::kKe, ke::kCurve25519)}});
    sa.proposals.push_back(Proposal{2,
                                    ProtocolId::kIke,
                                    {},
                                    {tf(TransformType::kEncr, encr::kAesCbc, 128),
                                     tf(TransformType::kPrf, prf::kHmacSha2_256),
                                     tf(TransformType::kInteg, integ::kHmacSha2_256_128),
                                     tf(TransformType::kInteg, integ::kHmacSha2_512_256),
                                     tf(TransformType::kKe, ke::kModp2048)}});
    return sa;
}

SaPayload sample_esp_sa() {
    SaPayload sa;
    sa.proposals.push_back(Proposal{1,
                                    ProtocolId::kEsp,
                                    {0xc1, 0xa2, 0xb3, 0xc4},
                                    {tf(TransformType::kEncr, encr::kAesGcm16, 128),
                                     tf(TransformType::kEsn, esn::kNoEsn)}});
    return sa;
}

TsPayload sample_ts() {
    TsPayload ts;
    ts.selectors.push_back(
            {TsType::kIpv4AddrRange, 0, 0, 65535, {10, 99, 1, 0}, {10, 99, 1, 255}, {}});
    Bytes v6_start{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    Bytes v6_end = v6_start;
    for (std::size_t i = 8; i < 16; ++i) {
        v6_end[i] = 0xff;
    }
    ts.selectors.push_back({TsType::kIpv6AddrRange, 6, 443, 443, v6_start, v6_end, {}});
    return ts;
}

Header sample_header(ExchangeType exchange, bool response, std::uint32_t mid) {
    Header h;
    h.spi_i = IkeSpi(0x0123456789abcdefULL);
    h.spi_r = IkeSpi(exchange == ExchangeType::kIkeSaInit && !response ? 0 : 0xfedcba9876543210ULL);
    h.exchange = exchange;
    h.flags = static_cast<std::uint8_t>(response ? kFlagResponse : kFlagInitiator);
    h.message_id = MessageId(mid);
    return h;
}

Message sample_ike_sa_init_request() {
    Message m;
    m.header = sample_header(ExchangeType::kIkeSaInit, false, 0);
    m.payloads.push_back(make_payload(sample_ike_sa()));
    m.payloads.push_back(make_payload(KePayload{ke::kCurve25519, pattern(32, 1)}));
    m.payloads.push_back(make_payload(NoncePayload{pattern(32, 2)}));
    m.payloads.push_back(make_notify(NotifyType::kNatDetectionSourceIp, pattern(20, 3)));
    m.payloads.push_back(make_notify(NotifyType::kNatDetectionDestinationIp, pattern(20, 4)));
    m.payloads.push_back(make_notify(NotifyType::kIkev2FragmentationSupported));
    m.payloads.push_back(make_notify(NotifyType::kSignatureHashAlgorithms,
                                     {0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05}));
    m.payloads.push_back(make_payload(VendorIdPayload{to_bytes("ikeplex")}));
    return m;
}

Message sample_ike_sa_init_response() {
    Message m;
    m.header = sample_header(ExchangeType::kIkeSaInit, true, 0);
    SaPayload sa = sample_ike_sa();
    sa.proposals.resize(1);
    m.payloads.push_back(make_payload(std::move(sa)));
    m.payloads.push_back(make_payload(KePayload{ke::kCurve25519, pattern(32, 5)}));
    m.payloads.push_back(make_payload(NoncePayload{pattern(32, 6)}));
    m.payloads.push_back(make_notify(NotifyType::kNatDetectionSourceIp, pattern(20, 7)));
    m.payloads.push_back(make_notify(NotifyType::kNatDetectionDestinationIp, pattern(20, 8)));
    m.payloads.push_back(
            make_payload(CertReqPayload{CertEncoding::kX509Signature, pattern(20, 9)}));
    m.payloads.push_back(make_notify(NotifyType::kIkev2FragmentationSupported));
    m.payloads.push_back(make_notify(NotifyType::kSignatureHashAlgorithms, {0x00, 0x02}));
    return m;
}

std::vector<Payload> sample_ike_auth_request_inner(ByteView cert_der) {
    std::vector<Payload> p;
    p.push_back(make_idi(IdPayload{IdType::kFqdn, to_bytes("a.test")}));
    p.push_back(make_payload(CertPayload{
            CertEncoding::kX509Signature,
            cert_der.empty() ? pattern(300, 10) : Bytes(cert_der.begin(), cert_der.end())}));
    p.push_back(make_payload(CertReqPayload{CertEncoding::kX509Signature, pattern(40, 11)}));
    p.push_back(make_idr(IdPayload{IdType::kIpv4Addr, {10, 99, 0, 2}}));
    p.push_back(make_payload(AuthPayload{AuthMethod::kDigitalSignature, pattern(80, 12)}));
    p.push_back(make_payload(CpPayload{CfgType::kRequest, {{1, {}}, {3, {}}, {8, {}}}}));
    p.push_back(make_payload(sample_esp_sa()));
    p.push_back(make_tsi(sample_ts()));
    p.push_back(make_tsr(sample_ts()));
    p.push_back(make_notify(NotifyType::kInitialContact));
    p.push_back(make_notify(NotifyType::kSetWindowSize, {0, 0, 0, 16}));
    p.push_back(make_sa_resource_info());
    return p;
}

std::vector<Payload> sample_create_child_sa_member_inner() {
    std::vector<Payload> p;
    p.push_back(make_payload(sample_esp_sa()));
    p.push_back(make_payload(NoncePayload{pattern(32, 13)}));
    p.push_back(make_payload(KePayload{ke::kEcp256, pattern(64, 14)}));
    p.push_back(make_tsi(sample_ts()));
    p.push_back(make_tsr(sample_ts()));
    p.push_back(make_sa_resource_info({0x5a, 0x17, 0x3c, 0x01}));
    return p;
}

std::vector<Payload> sample_ts_max_queue_inner() {
    return {make_ts_max_queue()};
}

std::vector<Payload> sample_informational_inner() {
    std::vector<Payload> p;
    p.push_back(make_payload(DeletePayload{ProtocolId::kEsp, {Spi(0xc1a2b3c4), Spi(0x01020304)}}));
    p.push_back(make_payload(DeletePayload{ProtocolId::kIke, {}}));
    p.push_back(make_payload(
            NotifyPayload{ProtocolId::kEsp, {0xc1, 0xa2, 0xb3, 0xc4}, NotifyType::kRekeySa, {}}));
    p.push_back(make_payload(VendorIdPayload{pattern(16, 15)}));
    return p;
}

std::vector<Payload> sample_eap_inner() {
    Bytes identity{1};  // EAP type Identity (RFC 3748 §5.1)
    const Bytes name = to_bytes("a.test");
    identity.insert(identity.end(), name.begin(), name.end());
    return {make_payload(EapPayload{EapCode::kResponse, 7, identity})};
}

}  // namespace ikeplex::test
