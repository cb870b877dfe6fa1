// RFC 9611 against real bytes: strongSwan 6.0.6's per-CPU session (tests/vectors/
// strongswan-6.0.6-per-cpu, decrypted with the keys its log dumped).
//  - Our responder, fed strongSwan's member request (its decrypted payloads, sealed under one
//    of our IKE SAs), makes it a group member and answers with SA_RESOURCE_INFO.
//  - The member requests and responses our initiator and responder build carry the same
//    payload sequence as strongSwan's, and so does our rekey of a member (REKEY_SA, no
//    SA_RESOURCE_INFO).
#include <gtest/gtest.h>

#include "exchange_harness.h"
#include "ike/per_resource.h"
#include "log_capture.h"
#include "recorded_session.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

const std::string kDir = "strongswan-6.0.6-per-cpu";

/// Our two engines configured as the recorded peers (addresses, selectors, proposals,
/// per_cpu_sas), the fallback up.
struct Pair {
    Harness h{3, settings()};
    PairConfig cfg = psk_pair("aes256gcm16-prfsha256-x25519", "aes128gcm16");

    static ike::Settings settings() {
        ike::Settings s;
        s.resources = 2;
        return s;
    }

    Pair() {
        for (auto* p : {&cfg.a, &cfg.b}) {
            p->children[0].per_cpu_sas = true;
        }
        load(h, cfg, psk_credentials("interop-test-psk-0123456789"),
             psk_credentials("interop-test-psk-0123456789"));
        h.act(h.a(), [&](ike::Step& s) { (void)h.a().manager.initiate("conn", "net", s); });
        h.run_until([&] { return !h.a().established().empty() && !h.b().established().empty(); },
                    std::chrono::seconds(10));
        h.run_for(std::chrono::seconds(1));
    }

    ike::IkeSa* sa(Node& n) {
        return n.established().empty() ? nullptr : n.manager.find(n.established().front()->id());
    }

    /// Decrypts a datagram `d` that one side sent, with the receiving side's keys.
    RecordedMessage open(const Datagram& d) {
        ike::IkeSa* to = sa(d.from_a ? h.b() : h.a());
        auto m = wire::parse_message(d.data);
        EXPECT_TRUE(m && to != nullptr && m->sk() != nullptr);
        auto opened = to->crypto()->in.open(d.data, *m);
        EXPECT_TRUE(opened);
        auto inner = wire::parse_payload_chain(m->sk()->first_inner, opened->plaintext);
        EXPECT_TRUE(inner);
        return RecordedMessage{m->header, *inner};
    }

    /// The last datagram of an exchange type and direction.
    const Datagram* last(wire::ExchangeType type, bool response) const {
        const Datagram* found = nullptr;
        for (const Datagram& d : h.sent) {
            auto hd = wire::peek_header(d.data);
            if (hd && hd->exchange == type && hd->is_response() == response) {
                found = &d;
            }
        }
        return found;
    }
};

TEST(Rfc9611Vectors, OurResponderAcceptsStrongSwansMemberRequest) {
    LogCapture::install();
    auto recorded = open_recorded_session(kDir, "initiator.charon.log");
    ASSERT_TRUE(recorded.contains("05"));
    const RecordedMessage& req = recorded.at("05");
    ASSERT_EQ(payload_sequence(req.header, req.inner), "SA No TSi TSr N(RES_INFO)");

    Pair p;
    ike::IkeSa* ini = p.sa(p.h.a());
    ASSERT_NE(ini, nullptr);
    // strongSwan's payloads (its proposal, nonce, selectors and CPU id 00000000), as the next
    // request of our initiator's IKE SA.
    wire::Header hd;
    hd.spi_i = ini->spi_i();
    hd.spi_r = ini->spi_r();
    hd.exchange = wire::ExchangeType::kCreateChildSa;
    hd.flags = wire::kFlagInitiator;
    hd.message_id = MessageId(2);
    auto plain = wire::write_payload_chain(req.inner);
    ASSERT_TRUE(plain);
    const Bytes iv(ini->crypto()->out.iv_size(), 0x11);
    auto sealed = ini->crypto()->out.seal(hd, req.inner.front().type, *plain, iv,
                                          ini->crypto()->out.default_padding(plain->size()));
    ASSERT_TRUE(sealed);
    const std::size_t before = p.h.sent.size();
    p.h.act(p.h.b(), [&](ike::Step& s) {
        p.h.b().manager.on_datagram(*sealed, Endpoint{p.h.b().address, 500},
                                    Endpoint{p.h.a().address, 500}, s);
    });
    ASSERT_EQ(p.h.sent.size(), before + 1);
    const RecordedMessage resp = p.open(p.h.sent.back());
    // The same answer as strongSwan's responder gave (frame 06), and a group member bound to
    // one of our resources.
    EXPECT_EQ(payload_sequence(resp.header, resp.inner),
              payload_sequence(recorded.at("06").header, recorded.at("06").inner));
    const auto* info = [&]() -> const wire::NotifyPayload* {
        for (const auto& pl : resp.inner) {
            if (const auto* n = pl.as<wire::NotifyPayload>();
                n != nullptr && n->type == wire::NotifyType::kSaResourceInfo) {
                return n;
            }
        }
        return nullptr;
    }();
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->data.size(), 4U);  // our opaque identifier, not the CPU number
    ike::IkeSa* res = p.sa(p.h.b());
    const ike::ChildSa* member = nullptr;
    for (const auto& c : res->children()) {
        if (c->group_member && !c->resource.is_none()) {
            member = c.get();
        }
    }
    ASSERT_NE(member, nullptr);
    EXPECT_EQ(member->resource, ResourceId::cpu(0));
    EXPECT_EQ(info->data, ike::resource_identifier(*res, member->resource));
    EXPECT_NE(info->data, (Bytes{0, 0, 0, 0}));
    EXPECT_TRUE(LogCapture::contains("b", "the peer's id 00000000"));
}

TEST(Rfc9611Vectors, OurMemberExchangesLookLikeStrongSwans) {
    LogCapture::install();
    auto recorded = open_recorded_session(kDir, "initiator.charon.log");
    const auto seq = [&](const char* frame) {
        return payload_sequence(recorded.at(frame).header, recorded.at(frame).inner);
    };
    Pair p;
    // A member on demand (our initiator), then its rekey.
    const ike::ChildConfig& child = p.h.a().manager.configs().front().children.front();
    const ReqId reqid = p.h.a().manager.reqid_for(p.h.a().manager.configs().front(), child);
    p.h.act(p.h.a(), [&](ike::Step& s) {
        p.h.a().manager.on_backend_event(ike::Acquire{reqid, ResourceId::cpu(0), {}, {}}, s);
    });
    p.h.run_for(std::chrono::seconds(1));
    const Datagram* member_req = p.last(wire::ExchangeType::kCreateChildSa, false);
    const Datagram* member_resp = p.last(wire::ExchangeType::kCreateChildSa, true);
    ASSERT_TRUE(member_req != nullptr && member_resp != nullptr);
    EXPECT_EQ(payload_sequence(p.open(*member_req).header, p.open(*member_req).inner), seq("05"));
    EXPECT_EQ(payload_sequence(p.open(*member_resp).header, p.open(*member_resp).inner), seq("06"));

    std::uint32_t member = 0;
    for (const auto& c : p.sa(p.h.a())->children()) {
        if (c->group_member && !c->resource.is_none()) {
            member = c->id;
        }
    }
    ASSERT_NE(member, 0U);
    p.h.act(p.h.a(), [&](ike::Step& s) { ASSERT_TRUE(p.h.a().manager.rekey_child(member, s)); });
    const Datagram* rekey_req = p.last(wire::ExchangeType::kCreateChildSa, false);
    ASSERT_NE(rekey_req, member_req);
    EXPECT_EQ(payload_sequence(p.open(*rekey_req).header, p.open(*rekey_req).inner), seq("13"));
    EXPECT_EQ(seq("13"), "N(REKEY_SA) SA No TSi TSr");
    p.h.run_for(std::chrono::milliseconds(20));
    const Datagram* rekey_resp = p.last(wire::ExchangeType::kCreateChildSa, true);
    EXPECT_EQ(payload_sequence(p.open(*rekey_resp).header, p.open(*rekey_resp).inner), seq("14"));
    // The rekeyed member kept its CPU.
    bool kept = false;
    for (const auto& c : p.sa(p.h.a())->children()) {
        kept = kept || (c->group_member && c->resource == ResourceId::cpu(0) && c->id != member);
    }
    EXPECT_TRUE(kept);
}

}  // namespace
}  // namespace ikeplex::test
