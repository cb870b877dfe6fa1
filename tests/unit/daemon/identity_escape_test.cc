// A peer's IKE identity with control characters (issue 21's leftover): the initiator names
// itself "a.test<LF>forged line<ESC>[2J" (an FQDN, RFC 7296 §3.5 leaves its octets open) to a
// responder that accepts %any. The responder's log lines and its list-sas (the VICI list-sa
// section swanctl and ikeplex print) carry the identity escaped (util/escape.h), never raw.
#include <gtest/gtest.h>

#include "daemon/vici_format.h"
#include "exchange_harness.h"
#include "kernel/backend_factory.h"
#include "log_capture.h"

namespace ikeplex::test {
namespace {

constexpr const char* kRawId = "a.test\n00[IKE] forged line\x1b[2J";
constexpr const char* kEscapedId = "a.test\\x0a00[IKE] forged line\\x1b[2J";

TEST(IdentityEscape, ControlCharactersOfAPeersIdentityAreEscapedInLogsAndListSas) {
    LogCapture::install();
    LogCapture::clear();
    Harness h;
    PairConfig cfg = psk_pair();
    cfg.a.local.id = *ike::Identity::parse(kRawId);
    cfg.a.remote.id = *ike::Identity::parse("b.test");
    cfg.b.local.id = *ike::Identity::parse("b.test");
    cfg.b.remote.id = *ike::Identity::parse("%any");
    load(h, cfg, psk_credentials(), psk_credentials());
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.initiate("conn", "net", s)); });
    ASSERT_TRUE(h.run_until(
            [&] { return h.a().established().size() == 1 && h.b().established().size() == 1; },
            std::chrono::seconds(60)));
    const ike::IkeSa& sa = *h.b().established().front();
    ASSERT_EQ(sa.remote_id().to_string(), kRawId);  // the engine keeps the identity as sent

    // Logs: the responder names the peer, escaped; no line holds a raw control character.
    EXPECT_TRUE(LogCapture::contains(
            h.b().name, std::string("authentication of '") + kEscapedId + "' with pre-shared key"));
    for (const std::string& line : LogCapture::lines(h.b().name)) {
        EXPECT_EQ(line.find_first_of("\n\x1b"), std::string::npos) << line;
    }
    EXPECT_FALSE(LogCapture::lines(h.a().name).empty());
    for (const std::string& line : LogCapture::lines(h.a().name)) {
        EXPECT_EQ(line.find_first_of("\n\x1b"), std::string::npos) << line;
    }

    // list-sas: remote-id on the responder, local-id on the initiator.
    auto built = kernel::make_backend(kernel::BackendSettings{.kind = "none"}, test_registry());
    ASSERT_TRUE(built);
    vici::Message ev;
    daemon::add_ike_section(ev, h.b().manager, *built->backend, sa, h.now().ms, 0,
                            daemon::kMaxEventMessage);
    const vici::Message* ike = ev.find_section("conn");
    ASSERT_NE(ike, nullptr);
    EXPECT_EQ(ike->get("remote-id"), std::optional<std::string_view>(kEscapedId));
    EXPECT_EQ(ike->get("local-id"), std::optional<std::string_view>("b.test"));
    vici::Message mine;
    daemon::add_ike_section(mine, h.a().manager, *built->backend, *h.a().established().front(),
                            h.now().ms, 0, daemon::kMaxEventMessage);
    ASSERT_NE(mine.find_section("conn"), nullptr);
    EXPECT_EQ(mine.find_section("conn")->get("local-id"),
              std::optional<std::string_view>(kEscapedId));
}

}  // namespace
}  // namespace ikeplex::test
