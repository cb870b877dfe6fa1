// MOBIKE (RFC 4555) against a peer the test plays: UPDATE_SA_ADDRESSES refused on an IKE SA
// without MOBIKE and from the IKE SA's responder (§3.5), a COOKIE2 that does not match closes
// the IKE SA (§3.7), and hostile notify data (§4.2 lengths) refused cleanly; plus the parser.
#include <optional>

#include <gtest/gtest.h>

#include "established.h"
#include "exchange_harness.h"
#include "ike/mobike.h"
#include "ike/payload_access.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;
using wire::NotifyType;
using wire::Payload;

IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

using ike::has_notify;

/// The test's half of an IKE SA with the engine on node b (the other node holds nothing).
class MobikePeer : public ::testing::Test {
protected:
    /// `engine_initiator`: b is the IKE SA's original initiator; `mobike`: negotiated.
    void make(bool engine_initiator, bool mobike) {
        PairConfig cfg = psk_pair();
        cfg.b.remote_addrs.clear();
        cfg.b.mobike = true;
        h.b().manager.load({cfg.b});
        h.b().manager.set_credentials(psk_credentials());
        auto made = establish_with_peer(h, h.b(), engine_initiator);
        ASSERT_TRUE(made.has_value());
        peer.emplace(std::move(*made));
        h.drop = [](const Datagram&) { return true; };  // the test reads h.sent
        engine().mobike().on = mobike;
        engine().mobike().mover = engine_initiator;
    }

    ike::IkeSa& engine() { return *h.b().manager.find(peer->ike_id); }

    /// Sends `payloads` to the engine in an INFORMATIONAL (request with `mid`, or the response
    /// to the engine's request `mid`) from `from`; returns the engine's answer, opened.
    std::vector<Payload> send(std::vector<Payload> payloads, std::uint32_t mid, bool response,
                              const Endpoint& from) {
        wire::Header hd;
        hd.spi_i = peer->spi_i;
        hd.spi_r = peer->spi_r;
        hd.exchange = ExchangeType::kInformational;
        hd.flags = static_cast<std::uint8_t>((peer->peer_is_initiator ? wire::kFlagInitiator : 0) |
                                             (response ? wire::kFlagResponse : 0));
        hd.message_id = MessageId(mid);
        const Bytes plain = *wire::write_payload_chain(payloads);
        const Bytes iv(peer->seal.iv_size(), 1);
        const Bytes datagram = *peer->seal.seal(hd, payloads.front().type, plain, iv,
                                                peer->seal.default_padding(plain.size()));
        const std::size_t before = h.sent.size();
        h.act(h.b(), [&](ike::Step& s) {
            h.b().manager.on_datagram(datagram, Endpoint{h.b().address, 4500}, from, s);
        });
        return h.sent.size() > before ? open(h.sent.back().data) : std::vector<Payload>{};
    }

    std::vector<Payload> open(const Bytes& reply) {
        auto parsed = wire::parse_message(reply);
        EXPECT_TRUE(parsed.has_value());
        auto opened = peer->open.open(reply, *parsed);
        EXPECT_TRUE(opened.has_value());
        if (!parsed || !opened || parsed->sk() == nullptr) {
            return {};
        }
        auto ps = wire::parse_payload_chain(parsed->sk()->first_inner, opened->plaintext);
        return ps ? *ps : std::vector<Payload>{};
    }

    /// An update as the original initiator sends it, from `from`, with `cookie2`.
    std::vector<Payload> update(Bytes cookie2) {
        std::vector<Payload> ps{wire::make_notify(NotifyType::kUpdateSaAddresses)};
        ps.push_back(wire::make_notify(NotifyType::kCookie2, std::move(cookie2)));
        ps.push_back(wire::make_notify(NotifyType::kNoAdditionalAddresses));
        return ps;
    }

    Harness h{5};
    std::optional<PeerSide> peer;
    const Endpoint moved{ip("10.99.0.11"), 4500};
};

TEST_F(MobikePeer, UpdateOnAnSaWithoutMobikeIsIgnored) {
    make(false, false);
    const Endpoint before = engine().remote();
    const auto answer = send(update(Bytes(8, 7)), 0, false, moved);
    EXPECT_TRUE(has_notify(answer, NotifyType::kCookie2));  // echoed all the same (§3.7)
    EXPECT_FALSE(has_notify(answer, NotifyType::kNatDetectionSourceIp));
    EXPECT_EQ(engine().remote(), before);
    EXPECT_TRUE(h.b().backend.updates.empty());
    EXPECT_EQ(h.b().manager.counters().mobike_refused, 1U);
}

TEST_F(MobikePeer, UpdateFromTheIkeSasResponderIsRefused) {
    make(true, true);  // b initiated the IKE SA: the peer may not move it
    const Endpoint before = engine().remote();
    const auto answer = send(update(Bytes(8, 7)), 0, false, moved);
    EXPECT_TRUE(has_notify(answer, NotifyType::kUnacceptableAddresses));
    EXPECT_EQ(h.sent.back().dst, moved);  // back the way it came
    EXPECT_EQ(engine().remote(), before);
    EXPECT_TRUE(h.b().backend.updates.empty());
    EXPECT_EQ(h.b().manager.counters().mobike_refused, 1U);
}

TEST_F(MobikePeer, UpdateFromTheOriginalInitiatorMovesTheSa) {
    make(false, true);
    const auto answer = send(update(Bytes(8, 7)), 0, false, moved);
    EXPECT_TRUE(has_notify(answer, NotifyType::kCookie2));
    EXPECT_EQ(engine().remote(), moved);
    EXPECT_EQ(h.b().backend.updates.size(), 2U);
    EXPECT_EQ(h.b().manager.counters().mobike_updates, 1U);
    EXPECT_TRUE(h.b().backend.errors.empty());
}

TEST_F(MobikePeer, HostileNotifyDataIsRefusedCleanly) {
    make(false, true);
    const Endpoint before = engine().remote();
    const std::vector<std::vector<Payload>> hostile = {
            update(Bytes(7, 1)),   // COOKIE2 too short
            update(Bytes(65, 1)),  // too long
            {wire::make_notify(NotifyType::kUpdateSaAddresses),
             wire::make_notify(NotifyType::kAdditionalIp4Address, Bytes(5, 10))},
            {wire::make_notify(NotifyType::kAdditionalIp6Address, Bytes(4, 10))},
            {wire::make_notify(NotifyType::kNoAdditionalAddresses),
             wire::make_notify(NotifyType::kAdditionalIp4Address, Bytes(4, 10))},
            {wire::make_notify(NotifyType::kCookie2, Bytes(8, 1)),
             wire::make_notify(NotifyType::kCookie2, Bytes(8, 2))},
    };
    std::uint32_t mid = 0;
    for (const auto& request : hostile) {
        const auto answer = send(request, mid, false, moved);
        EXPECT_FALSE(has_notify(answer, NotifyType::kCookie2)) << mid;
        ++mid;
    }
    EXPECT_EQ(engine().remote(), before);
    EXPECT_TRUE(engine().mobike().peer_addresses.empty());
    EXPECT_EQ(engine().state(), ike::IkeState::kEstablished);
    EXPECT_TRUE(h.b().backend.updates.empty());
    EXPECT_EQ(h.b().manager.counters().mobike_refused, hostile.size());
}

TEST_F(MobikePeer, Cookie2MismatchInTheAnswerClosesTheIkeSa) {
    make(true, true);  // b moves
    h.move(h.b(), ip("10.99.0.12"));
    h.act(h.b(), [&](ike::Step& s) { h.b().manager.on_local_addresses({ip("10.99.0.12")}, s); });
    const auto sent = h.sent_by(h.b(), ExchangeType::kInformational, false);
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent.front().src, (Endpoint{ip("10.99.0.12"), 4500}));
    const auto mid = wire::parse_message(sent.front().data)->header.message_id.value();
    // The answer echoes another COOKIE2: §3.7 says the IKE SA MUST be closed.
    (void)send({wire::make_notify(NotifyType::kCookie2, Bytes(16, 0xee))}, mid, true,
               Endpoint{h.a().address, 4500});
    EXPECT_EQ(engine().state(), ike::IkeState::kDeleting);
    EXPECT_TRUE(h.b().backend.updates.empty());
    EXPECT_EQ(h.b().manager.counters().mobike_refused, 1U);
}

TEST(MobikeParse, LengthsOfTheNotifyData) {
    using ike::parse_mobike;
    const auto one = [](NotifyType t, std::size_t n) {
        return std::vector<Payload>{wire::make_notify(t, Bytes(n, 1))};
    };
    EXPECT_FALSE(parse_mobike(one(NotifyType::kCookie2, 7)));
    EXPECT_TRUE(parse_mobike(one(NotifyType::kCookie2, 8)));
    EXPECT_TRUE(parse_mobike(one(NotifyType::kCookie2, 64)));
    EXPECT_FALSE(parse_mobike(one(NotifyType::kCookie2, 65)));
    EXPECT_FALSE(parse_mobike(one(NotifyType::kAdditionalIp4Address, 5)));
    EXPECT_FALSE(parse_mobike(one(NotifyType::kAdditionalIp4Address, 0)));
    EXPECT_FALSE(parse_mobike(one(NotifyType::kAdditionalIp6Address, 4)));
    const auto v6 = parse_mobike(one(NotifyType::kAdditionalIp6Address, 16));
    ASSERT_TRUE(v6);
    ASSERT_EQ(v6->additional.size(), 1U);
    EXPECT_FALSE(v6->additional.front().is_v4());
    // MOBIKE_SUPPORTED's data is ignored (§4.2.1).
    EXPECT_TRUE(parse_mobike(one(NotifyType::kMobikeSupported, 3))->supported);
    // More than kMaxAdditionalAddresses is refused.
    std::vector<Payload> many;
    for (std::size_t i = 0; i <= ike::kMaxAdditionalAddresses; ++i) {
        many.push_back(wire::make_notify(NotifyType::kAdditionalIp4Address, Bytes(4, 1)));
    }
    EXPECT_FALSE(parse_mobike(many));
}

}  // namespace
}  // namespace ikeplex::test
