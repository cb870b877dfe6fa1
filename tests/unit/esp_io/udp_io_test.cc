// UDP GSO and GRO on the real kernel (loopback in a namespace of the test's own): a batch of
// equal-size datagrams sent as UDP_SEGMENT messages to a UDP_GRO socket comes back intact and in
// order; the per-datagram path gives the same; a GSO message the kernel refuses falls back.
#include "esp/io/udp_io.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>
#include <poll.h>

#include "esp/io/rtnl.h"
#include "netns.h"
#include "test_packets.h"

namespace ikeplex::esp::io {
namespace {

Endpoint lo(bool v6, std::uint16_t port = 0) {
    return Endpoint{v6 ? IpAddress::parse("::1").value() : IpAddress::v4(0x7F000001), port};
}

/// Sizes: `n` datagrams of `size` bytes and a shorter last one.
std::vector<Bytes> payloads(std::size_t n, std::size_t size, std::size_t last) {
    std::vector<Bytes> p;
    for (std::size_t i = 0; i < n; ++i) {
        p.push_back(testing::pattern(size, i + 1));
    }
    p.push_back(testing::pattern(last, 99));
    return p;
}

/// Receives until `want` datagrams arrived (or 2 s), `chunk` buffers per call.
std::vector<Bytes> receive(UdpSocket& s, std::size_t want, std::size_t chunk,
                           const Endpoint& expect_from) {
    std::vector<Bytes> got;
    std::vector<PacketBuf> bufs(chunk);
    std::vector<Endpoint> from(chunk);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
        if (!s.pending()) {
            pollfd p{s.fd(), POLLIN, 0};
            static_cast<void>(::poll(&p, 1, 50));
        }
        auto n = s.recv_batch(bufs, from);
        EXPECT_TRUE(n) << n.error().to_string();
        if (!n) {
            break;
        }
        for (std::size_t i = 0; i < *n; ++i) {
            EXPECT_EQ(from[i], expect_from);
            EXPECT_EQ(bufs[i].headroom(), PacketBuf::kHeadroom);
            got.emplace_back(bufs[i].bytes().begin(), bufs[i].bytes().end());
        }
    }
    return got;
}

struct Sent {
    std::vector<PacketBuf> bufs;
    std::vector<Datagram> d;
};
Sent to_datagrams(const std::vector<Bytes>& p, const Endpoint& peer) {
    Sent s;
    s.bufs.resize(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
        EXPECT_TRUE(s.bufs[i].assign(p[i]));
    }
    for (auto& b : s.bufs) {
        s.d.push_back(Datagram{&b, peer, {}});
    }
    return s;
}

class UdpIo : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        if (!ns_.ok()) {
            GTEST_SKIP() << ns_.why();
        }
    }
    testing::ScopedNetns ns_;
};

TEST_P(UdpIo, GsoToGroRoundTrip) {
    const bool v6 = GetParam();
    auto rx = UdpSocket::open(lo(v6), false, true);
    ASSERT_TRUE(rx) << rx.error().to_string();
    ASSERT_TRUE(rx->gro());
    auto tx = UdpSocket::open(lo(v6), false, false);
    ASSERT_TRUE(tx);
    const auto p = payloads(40, 1200, 333);
    Sent s = to_datagrams(p, rx->local());
    auto n = tx->send_batch(s.d, true);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, p.size());
    EXPECT_EQ(tx->stats().tx_datagrams, p.size());
    EXPECT_EQ(tx->stats().tx_gso_messages, 1U);  // one run: 40 x 1200 + 333 < 64 KiB

    // 7 buffers per call: super-datagrams are handed out across calls.
    const auto got = receive(*rx, p.size(), 7, tx->local());
    ASSERT_EQ(got.size(), p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
        EXPECT_EQ(got[i], p[i]) << "datagram " << i;
    }
    EXPECT_GE(rx->stats().rx_gro_batches, 1U) << "loopback delivered no GRO super-datagram";
    EXPECT_FALSE(rx->pending());
}

TEST_P(UdpIo, PerDatagramPathGivesTheSame) {
    const bool v6 = GetParam();
    auto rx = UdpSocket::open(lo(v6), false, true);
    auto rx_plain = UdpSocket::open(lo(v6), false, false);
    auto tx = UdpSocket::open(lo(v6), false, false);
    ASSERT_TRUE(rx && rx_plain && tx);
    const auto p = payloads(20, 900, 100);
    Sent s = to_datagrams(p, rx->local());
    auto n = tx->send_batch(s.d, false);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, p.size());
    EXPECT_EQ(tx->stats().tx_gso_messages, 0U);
    EXPECT_EQ(receive(*rx, p.size(), 64, tx->local()), p);

    // GSO-sent datagrams to a socket without GRO: the kernel splits them.
    Sent s2 = to_datagrams(p, rx_plain->local());
    n = tx->send_batch(s2.d, true);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, p.size());
    EXPECT_EQ(receive(*rx_plain, p.size(), 5, tx->local()), p);
}

TEST_P(UdpIo, RunsBreakAtPeerAndSize) {
    const bool v6 = GetParam();
    auto a = UdpSocket::open(lo(v6), false, true);
    auto b = UdpSocket::open(lo(v6), false, true);
    auto tx = UdpSocket::open(lo(v6), false, false);
    ASSERT_TRUE(a && b && tx);
    // a a a b b a(larger) a a: runs {a a a} {b b} {a} {a a}
    const std::vector<std::size_t> sizes = {500, 500, 500, 500, 500, 800, 500, 500};
    const std::vector<int> peer = {0, 0, 0, 1, 1, 0, 0, 0};
    std::vector<Bytes> p;
    Sent s;
    s.bufs.resize(sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        p.push_back(testing::pattern(sizes[i], i));
        ASSERT_TRUE(s.bufs[i].assign(p[i]));
        s.d.push_back(Datagram{&s.bufs[i], peer[i] == 0 ? a->local() : b->local(), {}});
    }
    auto n = tx->send_batch(s.d, true);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, sizes.size());
    EXPECT_EQ(tx->stats().tx_gso_messages, 3U);
    const auto got_a = receive(*a, 6, 16, tx->local());
    const auto got_b = receive(*b, 2, 16, tx->local());
    EXPECT_EQ(got_a, (std::vector<Bytes>{p[0], p[1], p[2], p[5], p[6], p[7]}));
    EXPECT_EQ(got_b, (std::vector<Bytes>{p[3], p[4]}));
}

TEST_P(UdpIo, RefusedGsoFallsBackPerDatagram) {
    const bool v6 = GetParam();
    // Datagrams larger than the MTU: the kernel refuses UDP_SEGMENT (EINVAL) but fragments
    // single datagrams.
    ASSERT_TRUE(set_mtu(::if_nametoindex("lo"), 1500));
    auto rx = UdpSocket::open(lo(v6), false, true);
    auto tx = UdpSocket::open(lo(v6), false, false);
    ASSERT_TRUE(rx && tx);
    const auto p = payloads(4, 2000, 2000);
    Sent s = to_datagrams(p, rx->local());
    auto n = tx->send_batch(s.d, true);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, p.size());
    EXPECT_EQ(tx->stats().tx_gso_fallbacks, 1U);
    EXPECT_EQ(tx->stats().tx_gso_messages, 0U);
    EXPECT_EQ(tx->stats().tx_datagrams, p.size());
    EXPECT_EQ(receive(*rx, p.size(), 64, tx->local()), p);
}

TEST_P(UdpIo, DatagramErrorsAreDroppedNotFatal) {
    const bool v6 = GetParam();
    auto rx = UdpSocket::open(lo(v6), false, false);
    auto tx = UdpSocket::open(lo(v6), false, false);
    ASSERT_TRUE(rx && tx);
    // The middle datagram goes to an address of the other family: refused for itself.
    const std::vector<Bytes> p = {testing::pattern(100, 1), testing::pattern(100, 2),
                                  testing::pattern(100, 3)};
    std::vector<PacketBuf> small(3);
    for (std::size_t i = 0; i < 3; ++i) {
        ASSERT_TRUE(small[i].assign(p[i]));
    }
    const Endpoint wrong = lo(!v6, rx->local().port);
    std::vector<Datagram> d = {
            {&small[0], rx->local(), {}}, {&small[1], wrong, {}}, {&small[2], rx->local(), {}}};
    auto n = tx->send_batch(d, true);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 3U);
    EXPECT_EQ(tx->stats().tx_dropped, 1U);
    EXPECT_EQ(tx->stats().tx_datagrams, 2U);
    EXPECT_EQ(receive(*rx, 2, 8, tx->local()), (std::vector<Bytes>{p[0], p[2]}));
}

// MOBIKE: a worker socket bound to the wildcard address sends each datagram from the SA's outer
// local address (IP_PKTINFO / IPV6_PKTINFO), not the one the route would pick, also in a GSO run;
// a socket bound to one address ignores the source.
TEST_P(UdpIo, WildcardSocketSendsFromTheGivenSource) {
    const bool v6 = GetParam();
    const IpAddress second = IpAddress::parse(v6 ? "fd99:151::2" : "10.99.151.2").value();
    ASSERT_TRUE(add_address(1, second, v6 ? 128 : 32));
    auto rx = UdpSocket::open(lo(v6), false, false);
    ASSERT_TRUE(rx) << rx.error().to_string();
    auto tx = UdpSocket::open(Endpoint{IpAddress::any(v6 ? 6 : 4), 0}, false, false);
    ASSERT_TRUE(tx) << tx.error().to_string();
    const auto p = payloads(3, 200, 100);
    Sent s = to_datagrams(p, rx->local());
    for (auto& d : s.d) {
        d.source = second;
    }
    auto n = tx->send_batch(s.d, true);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, p.size());
    EXPECT_EQ(receive(*rx, p.size(), 8, Endpoint{second, tx->local().port}).size(), p.size());
    auto bound = UdpSocket::open(lo(v6), false, false);
    ASSERT_TRUE(bound);
    Sent t = to_datagrams(p, rx->local());
    for (auto& d : t.d) {
        d.source = second;
    }
    ASSERT_TRUE(bound->send_batch(t.d, false));
    EXPECT_EQ(receive(*rx, p.size(), 8, bound->local()).size(), p.size());
}

INSTANTIATE_TEST_SUITE_P(Families, UdpIo, ::testing::Values(false, true),
                         [](const auto& pi) { return pi.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace ikeplex::esp::io
