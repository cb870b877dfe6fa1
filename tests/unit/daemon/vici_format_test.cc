// The engine's state as VICI sections (daemon/vici_format.h): an IKE SA with more Child SAs
// than one VICI message holds is listed truncated, with a marker, never left out.
#include "daemon/vici_format.h"

#include <gtest/gtest.h>

#include "exchange_harness.h"
#include "kernel/backend_factory.h"
#include "vici/packet.h"

namespace ikeplex::test {
namespace {

/// An established IKE SA on node a with its Child SA from IKE_AUTH and `extra` copies of it
/// (other ids and SPIs), made without exchanges: only the listing is under test.
class ManyChildren : public ::testing::Test {
protected:
    void establish(std::size_t extra) {
        load(h, cfg, psk_credentials(), psk_credentials());
        h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.initiate("conn", "net", s)); });
        ASSERT_TRUE(h.run_until(
                [&] {
                    const auto est = h.a().established();
                    return est.size() == 1 && !est.front()->children().empty();
                },
                std::chrono::seconds(60)));
        sa = h.a().manager.find(h.a().established().front()->id());
        const ike::ChildSa& first = *sa->children().front();
        for (std::uint32_t i = 0; i < extra; ++i) {
            auto c = std::make_unique<ike::ChildSa>();
            c->id = 100000 + i;
            c->config = first.config;
            c->reqid = first.reqid;
            c->state = ike::ChildState::kInstalled;
            c->spi_in = Spi(0xc1000000U + i);
            c->spi_out = Spi(0xc2000000U + i);
            c->local_ts = first.local_ts;
            c->remote_ts = first.remote_ts;
            c->proposal = first.proposal;
            c->algorithms = first.algorithms;
            sa->add_child(std::move(c));
        }
        auto built = kernel::make_backend(kernel::BackendSettings{.kind = "none"}, test_registry());
        ASSERT_TRUE(built);
        backend = std::move(built->backend);
    }

    /// The list-sa event of the IKE SA, as the daemon builds it.
    vici::Message listing(std::size_t max_bytes = daemon::kMaxEventMessage) {
        vici::Message ev;
        daemon::add_ike_section(ev, h.a().manager, *backend, *sa, h.now().ms, 0, max_bytes);
        return ev;
    }

    static std::size_t listed(const vici::Message& ike) {
        const vici::Message* children = ike.find_section("child-sas");
        return children == nullptr ? 0 : children->size();
    }

    Harness h;
    PairConfig cfg = psk_pair();
    ike::IkeSa* sa{nullptr};
    std::unique_ptr<kernel::Backend> backend;
};

TEST_F(ManyChildren, ListingBeyondAFrameIsTruncatedWithAMarker) {
    establish(2999);
    const vici::Message ev = listing();
    const auto packet = vici::encode_packet(vici::Packet{vici::PacketType::kEvent, "list-sa", ev});
    ASSERT_TRUE(packet) << packet.error().to_string();
    EXPECT_LE(packet->size(), vici::kMaxFrameLength);
    const vici::Message* ike = ev.find_section("conn");
    ASSERT_NE(ike, nullptr);
    EXPECT_EQ(ike->get("child-sas-truncated"), std::optional<std::string_view>("yes"));
    EXPECT_EQ(ike->get("child-sas-total"), std::optional<std::string_view>("3000"));
    EXPECT_EQ(ike->get("state"), std::optional<std::string_view>("ESTABLISHED"));
    // As many as fit: hundreds listed, and the frame nearly full (one more would not fit).
    const std::size_t n = listed(*ike);
    EXPECT_GT(n, 500U);
    EXPECT_LT(n, 3000U);
    const vici::Message* children = ike->find_section("child-sas");
    vici::Message one;
    one.entries.push_back(children->entries.back());
    EXPECT_GT(packet->size() + vici::encode(one)->size(), daemon::kMaxEventMessage);
    // The markers come before child-sas (swanctl prints an IKE SA when its child-sas begin).
    std::size_t marker_at = 0;
    std::size_t children_at = 0;
    for (std::size_t i = 0; i < ike->entries.size(); ++i) {
        const std::string& name = vici::entry_name(ike->entries[i]);
        marker_at = name == "child-sas-truncated" ? i : marker_at;
        children_at = name == "child-sas" ? i : children_at;
    }
    EXPECT_LT(marker_at, children_at);
    // It decodes back as it was.
    auto back = vici::decode_packet(*packet);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->message, ev);
}

TEST_F(ManyChildren, ATighterBoundListsFewer) {
    establish(99);
    const vici::Message whole = listing();
    const vici::Message* ike = whole.find_section("conn");
    ASSERT_NE(ike, nullptr);
    EXPECT_EQ(listed(*ike), 100U);  // all fit: no marker
    EXPECT_FALSE(ike->get("child-sas-truncated"));
    EXPECT_FALSE(ike->get("child-sas-total"));
    const vici::Message small = listing(8000);
    EXPECT_LE(vici::encode(small)->size(), 8000U);
    const vici::Message* cut = small.find_section("conn");
    ASSERT_NE(cut, nullptr);
    EXPECT_LT(listed(*cut), 100U);
    EXPECT_EQ(cut->get("child-sas-total"), std::optional<std::string_view>("100"));
    // Even a bound too small for any Child SA lists the IKE SA itself.
    const vici::Message tiny = listing(10);
    ASSERT_NE(tiny.find_section("conn"), nullptr);
    EXPECT_EQ(listed(*tiny.find_section("conn")), 0U);
    EXPECT_EQ(tiny.find_section("conn")->get("child-sas-truncated"),
              std::optional<std::string_view>("yes"));
}

}  // namespace
}  // namespace ikeplex::test
