// The engine answering real strongSwan 6.0.6 messages (tests/vectors): our IKE_SA_INIT
// response to its recorded request chooses what strongSwan's own responder chose, and
// tshark decodes it without a malformed packet or an expert warning.
#include <gtest/gtest.h>

#include "cert_factory.h"
#include "exchange_harness.h"
#include "ike/manager.h"
#include "ike/proposal.h"
#include "log_capture.h"
#include "pcap.h"
#include "tshark.h"
#include "vectors.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

/// The responder of tests/vectors/strongswan-6.0.6-per-cpu/responder.swanctl.conf.
ike::PeerConfig recorded_responder() {
    ike::PeerConfig c;
    c.name = "t";
    c.local_addrs = {*IpAddress::parse("10.99.0.2")};
    c.remote_addrs = {*IpAddress::parse("10.99.0.1")};
    c.ike_proposals = *ike::parse_proposals("aes256gcm16-prfsha256-x25519", wire::ProtocolId::kIke);
    c.local.id = *ike::Identity::parse("b.test");
    c.remote.id = *ike::Identity::parse("%any");
    ike::ChildConfig net;
    net.name = "net";
    net.local_ts = {*ike::TrafficSelector::parse("10.99.2.0/24")};
    net.remote_ts = {*ike::TrafficSelector::parse("10.99.1.0/24")};
    net.esp_proposals = *ike::parse_proposals("aes128gcm16", wire::ProtocolId::kEsp);
    c.children.push_back(std::move(net));
    return c;
}

std::vector<wire::PayloadType> types(const wire::Message& m) {
    std::vector<wire::PayloadType> t;
    for (const auto& p : m.payloads) {
        t.push_back(p.type);
    }
    return t;
}

TEST(EngineVsStrongswan, IkeSaInitResponseToTheRecordedRequest) {
    LogCapture::install();
    const Bytes request = read_vector("strongswan-6.0.6-per-cpu/messages/01-ike_sa_init-req.bin");
    const Bytes theirs = read_vector("strongswan-6.0.6-per-cpu/messages/02-ike_sa_init-resp.bin");
    DeterministicRandom random(1);
    ike::RandomSpiAllocator spis(random);
    ike::IkeSaManager m(test_registry(), random, spis, ike::Settings{});
    m.load({recorded_responder()});
    m.set_credentials(psk_credentials("interop-test-psk-0123456789"));
    ike::Output out;
    ike::Step step{ike::TimePoint{0}, out, kPinnedNow};
    m.on_datagram(request, Endpoint{*IpAddress::parse("10.99.0.2"), 500},
                  Endpoint{*IpAddress::parse("10.99.0.1"), 500}, step);
    ASSERT_EQ(out.datagrams.size(), 1U);
    ASSERT_EQ(m.half_open(), 1U);
    const Bytes& ours = out.datagrams.front().data;

    auto mine = wire::parse_message(ours);
    auto ref = wire::parse_message(theirs);
    ASSERT_TRUE(mine && ref);
    // The same choice as strongSwan's responder, and the request's SPIi echoed.
    EXPECT_EQ(mine->header.spi_i, ref->header.spi_i);
    EXPECT_NE(mine->header.spi_r.value(), 0U);
    const auto* sa_mine = mine->find(wire::PayloadType::kSa)->as<wire::SaPayload>();
    const auto* sa_ref = ref->find(wire::PayloadType::kSa)->as<wire::SaPayload>();
    ASSERT_EQ(sa_mine->proposals.size(), 1U);
    EXPECT_EQ(sa_mine->proposals[0].transforms, sa_ref->proposals[0].transforms);
    EXPECT_EQ(sa_mine->proposals[0].number, sa_ref->proposals[0].number);
    const auto* ke = mine->find(wire::PayloadType::kKe)->as<wire::KePayload>();
    EXPECT_EQ(ke->group, 31);
    EXPECT_EQ(ke->data.size(), 32U);
    // strongSwan answers SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) [CERTREQ]
    // [N(CHDLESS_SUP)] [N(MULT_AUTH)]; ours begins the same way.
    const auto t = types(*mine);
    ASSERT_GE(t.size(), 5U);
    EXPECT_EQ(std::vector<wire::PayloadType>(t.begin(), t.begin() + 3),
              (std::vector<wire::PayloadType>{wire::PayloadType::kSa, wire::PayloadType::kKe,
                                              wire::PayloadType::kNonce}));

    if (tshark_path().empty()) {
        GTEST_SKIP() << "tshark not found at configure time (scripts/setup-deps.sh installs it)";
    }
    TempDir dir;
    const auto pcap = dir.path() / "init.pcap";
    write_pcap(pcap, {UdpDatagram{request, 500, 500}, UdpDatagram{ours, 500, 500}});
    const std::string json = tshark_json(pcap, {});
    for (const auto& p : tshark_problems(json)) {
        ADD_FAILURE() << "tshark: " << p;
    }
    EXPECT_EQ(count_occurrences(json, "\"isakmp.exchangetype\":"), 2U);
    EXPECT_EQ(count_occurrences(json, "\"isakmp.flag_r\": \"1\""), 1U)
            << "our message is a response";
}

}  // namespace
}  // namespace ikeplex::test
