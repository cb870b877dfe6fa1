// RFC 9370 IKE_FOLLOWUP_KE from a hostile peer the test plays against the engine on node b:
// an unknown or stale link is STATE_NOT_FOUND, a wrong KE method or a bad KE value ends the
// pending creation (INVALID_SYNTAX), too many pending creations get TEMPORARY_FAILURE; each
// refusal is counted, the IKE SA stays up and nothing is left behind.
#include <optional>

#include <gtest/gtest.h>

#include "crypto/ke.h"
#include "established.h"
#include "exchange_harness.h"
#include "ike/followup_ke.h"
#include "ike/payload_access.h"
#include "ike/proposal.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;
using wire::NotifyType;
using wire::Payload;

using ike::find_notify;

class FollowupPeer : public ::testing::Test {
protected:
    void SetUp() override {
        PairConfig cfg = psk_pair("aes128gcm16-prfsha256-x25519", "aes128gcm16-x25519-ke1_ecp256");
        cfg.b.remote_addrs.clear();
        h.b().manager.load({cfg.b});
        h.b().manager.set_credentials(psk_credentials());
        auto made = establish_with_peer(h, h.b(), false);
        ASSERT_TRUE(made.has_value());
        peer.emplace(std::move(*made));
        h.drop = [](const Datagram&) { return true; };  // the test reads h.sent
    }

    ike::IkeSa& engine() { return *h.b().manager.find(peer->ike_id); }

    /// A request from the peer; the engine's answer, opened.
    std::vector<Payload> send(ExchangeType type, std::vector<Payload> payloads) {
        wire::Header hd;
        hd.spi_i = peer->spi_i;
        hd.spi_r = peer->spi_r;
        hd.exchange = type;
        hd.flags = static_cast<std::uint8_t>(peer->peer_is_initiator ? wire::kFlagInitiator : 0);
        hd.message_id = MessageId(mid++);
        const Bytes plain = *wire::write_payload_chain(payloads);
        const Bytes iv(peer->seal.iv_size(), 1);
        const Bytes datagram = *peer->seal.seal(hd, payloads.front().type, plain, iv,
                                                peer->seal.default_padding(plain.size()));
        const std::size_t before = h.sent.size();
        h.act(h.b(), [&](ike::Step& s) {
            h.b().manager.on_datagram(datagram, Endpoint{h.b().address, 4500},
                                      Endpoint{h.a().address, 4500}, s);
        });
        if (h.sent.size() == before) {
            return {};
        }
        const Bytes& reply = h.sent.back().data;
        auto parsed = wire::parse_message(reply);
        EXPECT_TRUE(parsed.has_value());
        if (!parsed || parsed->sk() == nullptr) {
            return {};
        }
        auto opened = peer->open.open(reply, *parsed);
        EXPECT_TRUE(opened.has_value());
        if (!opened) {
            return {};
        }
        auto ps = wire::parse_payload_chain(parsed->sk()->first_inner, opened->plaintext);
        return ps ? *ps : std::vector<Payload>{};
    }

    Payload ke(std::uint16_t group) {
        auto k = crypto::KeyExchange::generate(*test_registry().ke(group));
        Bytes pub(k.value()->public_value().begin(), k.value()->public_value().end());
        return wire::make_payload(wire::KePayload{group, std::move(pub)});
    }

    /// A new Child SA with X25519 and ECP-256 as ADDITIONAL_KEY_EXCHANGE_1; the answer.
    std::vector<Payload> create_child() {
        auto proposals =
                *ike::parse_proposals("aes128gcm16-x25519-ke1_ecp256", wire::ProtocolId::kEsp);
        proposals.front().spi = {0xd5, 0, 0, static_cast<std::uint8_t>(++spi)};
        std::vector<Payload> ps;
        ps.push_back(wire::make_payload(wire::SaPayload{proposals}));
        ps.push_back(wire::make_payload(wire::NoncePayload{Bytes(32, 0x42)}));
        ps.push_back(ke(31));
        ps.push_back(wire::make_tsi(ike::to_wire(
                std::vector<ike::TrafficSelector>{*ike::TrafficSelector::parse("10.99.1.0/24")})));
        ps.push_back(wire::make_tsr(ike::to_wire(
                std::vector<ike::TrafficSelector>{*ike::TrafficSelector::parse("10.99.2.0/24")})));
        return send(ExchangeType::kCreateChildSa, std::move(ps));
    }

    std::vector<Payload> followup(Payload ke_payload, Bytes link) {
        std::vector<Payload> ps;
        ps.push_back(std::move(ke_payload));
        ps.push_back(wire::make_notify(NotifyType::kAdditionalKeyExchange, std::move(link)));
        return send(ExchangeType::kIkeFollowupKe, std::move(ps));
    }

    std::uint64_t refused() { return h.b().manager.counters().followup_refused; }

    Harness h{9};
    std::optional<PeerSide> peer;
    std::uint32_t mid{0};
    std::uint8_t spi{0};
};

TEST_F(FollowupPeer, UnknownLinkIsStateNotFound) {
    for (const Bytes& link : {Bytes(8, 0x55), Bytes{1, 2, 3}, Bytes(64, 0)}) {
        const auto answer = followup(ke(19), link);
        EXPECT_NE(find_notify(answer, NotifyType::kStateNotFound), nullptr);
    }
    EXPECT_EQ(refused(), 3U);
    EXPECT_EQ(engine().state(), ike::IkeState::kEstablished);
    EXPECT_EQ(engine().children().size(), 1U);
}

TEST_F(FollowupPeer, WrongMethodEndsThePendingCreation) {
    const auto answer = create_child();
    const auto* link = find_notify(answer, NotifyType::kAdditionalKeyExchange);
    ASSERT_NE(link, nullptr);
    EXPECT_EQ(engine().children().size(), 2U);  // the new one CREATING
    const Bytes data = link->data;
    EXPECT_NE(find_notify(followup(ke(31), data), NotifyType::kInvalidSyntax), nullptr);
    EXPECT_EQ(engine().children().size(), 1U);
    EXPECT_EQ(refused(), 1U);
    // The link is gone with it.
    EXPECT_NE(find_notify(followup(ke(19), data), NotifyType::kStateNotFound), nullptr);
    EXPECT_EQ(refused(), 2U);
    EXPECT_EQ(engine().state(), ike::IkeState::kEstablished);
}

TEST_F(FollowupPeer, BadKeValueEndsThePendingCreation) {
    const auto answer = create_child();
    const auto* link = find_notify(answer, NotifyType::kAdditionalKeyExchange);
    ASSERT_NE(link, nullptr);
    const Bytes data = link->data;
    EXPECT_NE(find_notify(followup(wire::make_payload(wire::KePayload{19, Bytes(5, 1)}), data),
                          NotifyType::kInvalidSyntax),
              nullptr);
    EXPECT_EQ(engine().children().size(), 1U);
    EXPECT_EQ(refused(), 1U);
    EXPECT_EQ(engine().state(), ike::IkeState::kEstablished);
    // A good round afterwards completes a new creation.
    const auto again = create_child();
    const auto* link2 = find_notify(again, NotifyType::kAdditionalKeyExchange);
    ASSERT_NE(link2, nullptr);
    const auto done = followup(ke(19), link2->data);
    EXPECT_EQ(ike::first_error(done), nullptr);
    EXPECT_EQ(engine().children().size(), 2U);
    for (const auto& c : engine().children()) {
        EXPECT_EQ(c->state, ike::ChildState::kInstalled);
    }
}

TEST_F(FollowupPeer, PendingCreationsAreBounded) {
    for (std::size_t i = 0; i < ike::kMaxPendingFollowups; ++i) {
        EXPECT_NE(find_notify(create_child(), NotifyType::kAdditionalKeyExchange), nullptr) << i;
    }
    EXPECT_NE(find_notify(create_child(), NotifyType::kTemporaryFailure), nullptr);
    EXPECT_EQ(engine().children().size(), 1U + ike::kMaxPendingFollowups);
    // The timeout clears them all; the IKE SA stays.
    h.run_for(ike::kFollowupTimeout + std::chrono::seconds(1));
    EXPECT_EQ(engine().children().size(), 1U);
    EXPECT_EQ(refused(), ike::kMaxPendingFollowups);
    EXPECT_EQ(engine().state(), ike::IkeState::kEstablished);
}

TEST_F(FollowupPeer, NoIkeRekeyWhileACreationIsPending) {
    // RFC 7296 §2.25.1 applied to RFC 9370: the Child SA the peer is still creating here would
    // not move to a new IKE SA, so an IKE rekey waits (TEMPORARY_FAILURE) until it is done.
    const auto answer = create_child();
    const auto* link = find_notify(answer, NotifyType::kAdditionalKeyExchange);
    ASSERT_NE(link, nullptr);
    const Bytes data = link->data;
    const auto rekey = [&] {
        auto proposals =
                *ike::parse_proposals("aes128gcm16-prfsha256-x25519", wire::ProtocolId::kIke);
        proposals.front().spi = Bytes{1, 2, 3, 4, 5, 6, 7, static_cast<std::uint8_t>(mid)};
        std::vector<Payload> ps;
        ps.push_back(wire::make_payload(wire::SaPayload{proposals}));
        ps.push_back(wire::make_payload(wire::NoncePayload{Bytes(32, 0x43)}));
        ps.push_back(ke(31));
        return send(ExchangeType::kCreateChildSa, std::move(ps));
    };
    EXPECT_NE(find_notify(rekey(), NotifyType::kTemporaryFailure), nullptr);
    EXPECT_EQ(h.b().manager.sas().size(), 1U);
    // Once the round is done, the IKE rekey goes through.
    EXPECT_EQ(ike::first_error(followup(ke(19), data)), nullptr);
    const auto again = rekey();
    EXPECT_EQ(ike::first_error(again), nullptr);
    EXPECT_EQ(h.b().manager.sas().size(), 2U);  // the new IKE SA and the rekeyed one
}

}  // namespace
}  // namespace ikeplex::test
