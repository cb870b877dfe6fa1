// IKE SAs made directly from stored keys (tests/support/established.h, what the engine fuzz
// targets start from), and a CREATE_CHILD_SA that reuses the SPI of another Child SA
// (found by fuzz_ike_sa).
#include "established.h"

#include <gtest/gtest.h>

#include "exchange_harness.h"
#include "ike/proposal.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;
using wire::NotifyType;

Bytes spi4(Spi spi) {
    const std::uint32_t v = spi.value();
    return Bytes{static_cast<std::uint8_t>(v >> 24U), static_cast<std::uint8_t>(v >> 16U),
                 static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
}

TEST(Established, DirectlyMadeSasAreConsistentAndWork) {
    Harness h(1);
    PairConfig cfg = psk_pair();
    load(h, cfg, psk_credentials(), psk_credentials());
    auto made = establish_directly(h);
    ASSERT_TRUE(made.has_value());
    EXPECT_TRUE(check_consistent(h).empty());
    ASSERT_EQ(h.a().established().size(), 1U);
    ASSERT_EQ(h.b().established().size(), 1U);
    // Both sides use the keys: a rekey of the Child SA goes through and leaves them consistent.
    const std::uint32_t child = made->initiator->children().front()->id;
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.rekey_child(child, s)); });
    h.run_for(std::chrono::seconds(10));
    EXPECT_EQ(h.a().count(ike::EventKind::kChildRekeyed), 1U);
    EXPECT_TRUE(check_consistent(h).empty());
    EXPECT_EQ(h.a().backend.sas.size(), 2U);
}

/// The engine's answer to a CREATE_CHILD_SA from the peer whose SA payload carries `peer_spi`.
std::vector<wire::Payload> answer_to_new_child(Harness& h, const PeerSide& peer, Spi peer_spi) {
    const ike::ChildConfig& cc = h.b().manager.configs().items().front()->children.front();
    auto offer = cc.esp_proposals;
    offer.front().spi = spi4(peer_spi);
    Bytes ke(32, 0);
    ke[0] = 9;
    const std::vector<wire::Payload> request{
            wire::make_payload(wire::SaPayload{offer}),
            wire::make_payload(wire::NoncePayload{Bytes(32, 0x42)}),
            wire::make_payload(wire::KePayload{31, ke}), wire::make_tsi(ike::to_wire(cc.remote_ts)),
            wire::make_tsr(ike::to_wire(cc.local_ts))};
    wire::Header hd;
    hd.spi_i = peer.spi_i;
    hd.spi_r = peer.spi_r;
    hd.exchange = ExchangeType::kCreateChildSa;
    hd.flags = wire::kFlagInitiator;
    hd.message_id = MessageId(0);
    const Bytes plain = *wire::write_payload_chain(request);
    const Bytes iv(peer.seal.iv_size(), 1);
    const Bytes datagram = *peer.seal.seal(hd, request.front().type, plain, iv,
                                           peer.seal.default_padding(plain.size()));
    const std::size_t before = h.sent.size();
    h.act(h.b(), [&](ike::Step& s) {
        h.b().manager.on_datagram(datagram, Endpoint{h.b().address, 500},
                                  Endpoint{h.a().address, 500}, s);
    });
    EXPECT_EQ(h.sent.size(), before + 1);
    if (h.sent.size() != before + 1) {
        return {};
    }
    const Bytes& reply = h.sent.back().data;
    auto parsed = wire::parse_message(reply);
    EXPECT_TRUE(parsed.has_value());
    auto opened = peer.open.open(reply, *parsed);
    EXPECT_TRUE(opened.has_value());
    auto payloads = wire::parse_payload_chain(parsed->sk()->first_inner, opened->plaintext);
    EXPECT_TRUE(payloads.has_value());
    return payloads ? *payloads : std::vector<wire::Payload>{};
}

bool has_notify(const std::vector<wire::Payload>& payloads, NotifyType type) {
    for (const auto& p : payloads) {
        const auto* n = p.as<wire::NotifyPayload>();
        if (n != nullptr && n->type == type) {
            return true;
        }
    }
    return false;
}

/// Node b as the responder of an IKE SA whose initiator is played by the test.
Result<PeerSide> responder_with_peer(Harness& h) {
    PairConfig cfg = psk_pair("aes128gcm16-prfsha256-x25519", "aes128gcm16-x25519");
    h.b().manager.load({cfg.b});
    h.b().manager.set_credentials(psk_credentials());
    h.drop = [](const Datagram&) { return true; };
    return establish_with_peer(h, h.b(), false);
}

TEST(Established, NewChildSaWithTheSpiOfAnotherIsRefused) {
    Harness h(1);
    auto peer = responder_with_peer(h);
    ASSERT_TRUE(peer.has_value());
    // The peer's inbound SPI of the existing Child SA, offered again for a new one.
    const auto answer = answer_to_new_child(h, *peer, peer->peer_spi);
    EXPECT_TRUE(has_notify(answer, NotifyType::kNoProposalChosen));
    EXPECT_TRUE(h.b().backend.errors.empty());
    EXPECT_EQ(h.b().backend.sas.size(), 2U);
    EXPECT_EQ(h.b().manager.sa(peer->ike_id)->children().size(), 1U);
}

TEST(Established, NewChildSaWithAFreshSpiIsAccepted) {
    Harness h(1);
    auto peer = responder_with_peer(h);
    ASSERT_TRUE(peer.has_value());
    const auto answer = answer_to_new_child(h, *peer, Spi(0xc0000002U));
    EXPECT_FALSE(has_notify(answer, NotifyType::kNoProposalChosen));
    EXPECT_TRUE(h.b().backend.errors.empty());
    EXPECT_EQ(h.b().backend.sas.size(), 4U);
}

}  // namespace
}  // namespace ikeplex::test
