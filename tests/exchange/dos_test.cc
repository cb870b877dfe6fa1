// Admission of IKE_SA_INIT requests under load (issue 18; RFC 7296 §2.6, RFC 8019 §4.1):
// COOKIEs from cookie_threshold half-open SAs in all or cookie_threshold_ip from one address,
// requests of an address ignored from block_threshold on, everyone's from
// init_limit_half_open on; each refusal counted, and none of it keeps state.
#include <gtest/gtest.h>

#include "exchange_harness.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using ike::Settings;

/// A responder (b, from any address) and one captured IKE_SA_INIT request of a's, replayed
/// with other SPIs and from other addresses, echoing COOKIEs like a real initiator does.
class Dos : public ::testing::Test {
protected:
    void start(const Settings& s) {
        hh_ = std::make_unique<Harness>(7, s);
        PairConfig c = psk_pair();
        c.b.remote_addrs.clear();  // any address
        load(*hh_, c, psk_credentials(), psk_credentials());
        hh_->drop = [](const Datagram&) { return true; };  // nothing reaches a
        hh_->act(hh_->a(),
                 [&](ike::Step& st) { (void)hh_->a().manager.initiate("conn", "net", st); });
        ASSERT_FALSE(hh_->sent.empty());
        request_ = hh_->sent.front();
    }

    /// Sends the request with SPI variant `k` from `from`; if the answer is a COOKIE and
    /// `echo`, sends it again with the COOKIE. Returns the COOKIEs received.
    int send(std::uint8_t k, const IpAddress& from, bool echo = true) {
        auto m = wire::parse_message(request_.data);
        EXPECT_TRUE(m.has_value());
        m->header.spi_i = IkeSpi(m->header.spi_i.value() ^ k);
        int cookies = 0;
        for (int round = 0; round < 2; ++round) {
            const Bytes d = *wire::write_message(*m);
            const std::size_t before = hh_->sent.size();
            hh_->act(res(), [&](ike::Step& st) {
                res().manager.on_datagram(d, request_.dst, Endpoint{from, 500}, st);
            });
            if (hh_->sent.size() == before) {
                return cookies;  // ignored
            }
            auto reply = wire::parse_message(hh_->sent.back().data);
            EXPECT_TRUE(reply.has_value());
            const wire::NotifyPayload* cookie = nullptr;
            for (const auto& p : reply->payloads) {
                if (const auto* n = p.as<wire::NotifyPayload>();
                    n != nullptr && n->type == wire::NotifyType::kCookie) {
                    cookie = n;
                }
            }
            if (cookie == nullptr) {
                return cookies;
            }
            ++cookies;
            if (!echo) {
                return cookies;
            }
            m->payloads.insert(m->payloads.begin(),
                               wire::make_notify(wire::NotifyType::kCookie, cookie->data));
        }
        return cookies;
    }

    Node& res() { return hh_->b(); }
    const ike::ManagerCounters& counters() { return res().manager.counters(); }

    std::unique_ptr<Harness> hh_;
    Datagram request_;
    const IpAddress one_ = *IpAddress::parse("10.99.7.1");
    const IpAddress two_ = *IpAddress::parse("10.99.7.2");
};

TEST_F(Dos, OneAddressGetsCookiesThenIsBlockedOthersAreNot) {
    start(Settings{});  // charon's defaults: 30, 3 per address, block at 5
    int cookies = 0;
    for (std::uint8_t k = 1; k <= 10; ++k) {
        cookies += send(k, one_);
    }
    // Three without a COOKIE, two more with one, then five ignored after their COOKIE.
    EXPECT_EQ(res().manager.half_open(), 5U);
    EXPECT_EQ(res().manager.half_open_from(one_), 5U);
    EXPECT_EQ(cookies, 7);
    EXPECT_EQ(counters().cookies_sent, 7U);
    EXPECT_EQ(counters().init_blocked, 5U);
    EXPECT_EQ(counters().half_open_dropped, 0U);
    // Another address is served at once, without a COOKIE.
    EXPECT_EQ(send(11, two_), 0);
    EXPECT_EQ(res().manager.half_open_from(two_), 1U);
    // Half-open SAs time out, and the address is welcome again.
    hh_->run_for(std::chrono::seconds(31));
    EXPECT_EQ(res().manager.half_open(), 0U);
    EXPECT_EQ(res().manager.half_open_from(one_), 0U);
    EXPECT_EQ(res().manager.index_sizes().at("half-open-addresses"), 0U);
    EXPECT_EQ(send(12, one_), 0);
    EXPECT_EQ(res().manager.half_open_from(one_), 1U);
}

TEST_F(Dos, SpoofedSourcesNeverPassTheCookie) {
    start(Settings{});
    // A spoofed source cannot echo: it holds at most cookie_threshold_ip half-open SAs and so
    // never reaches block_threshold, which would lock the real owner of the address out.
    for (std::uint8_t k = 1; k <= 10; ++k) {
        (void)send(k, one_, false);
    }
    EXPECT_EQ(res().manager.half_open_from(one_), 3U);
    EXPECT_EQ(counters().cookies_sent, 7U);
    EXPECT_EQ(counters().init_blocked, 0U);
    EXPECT_EQ(send(20, one_), 1);  // the real owner echoes and gets in
    EXPECT_EQ(res().manager.half_open_from(one_), 4U);
}

TEST_F(Dos, GlobalCookieThresholdCountsEveryAddress) {
    Settings s;
    s.cookie_threshold = 4;
    s.cookie_threshold_ip = Settings::kNoLimit;
    start(s);
    for (std::uint8_t k = 1; k <= 4; ++k) {
        EXPECT_EQ(send(k, IpAddress::v4(0x0a630800U + k)), 0) << k;
    }
    EXPECT_EQ(send(5, IpAddress::v4(0x0a630805U)), 1);
    EXPECT_EQ(res().manager.half_open(), 5U);
}

TEST_F(Dos, GlobalLimitIgnoresEveryoneAndDisabledThresholdsDoNothing) {
    Settings s;
    s.cookie_threshold = Settings::kNoLimit;
    s.cookie_threshold_ip = Settings::kNoLimit;
    s.block_threshold = Settings::kNoLimit;
    s.init_limit_half_open = 6;
    start(s);
    for (std::uint8_t k = 1; k <= 9; ++k) {
        EXPECT_EQ(send(k, one_), 0) << k;
    }
    EXPECT_EQ(send(10, two_), 0);
    EXPECT_EQ(res().manager.half_open(), 6U);
    EXPECT_EQ(counters().half_open_dropped, 4U);
    EXPECT_EQ(counters().init_blocked, 0U);
    EXPECT_EQ(counters().cookies_sent, 0U);
}

}  // namespace
}  // namespace ikeplex::test
