// Raw ESP sockets on the real kernel (loopback in a namespace of the test's own): two worker
// sockets with their filters; ESP packets with various SPIs land only on the right one.
#include "esp/io/raw_esp.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <poll.h>

#include "esp/io/steering.h"
#include "netns.h"
#include "test_packets.h"

namespace ikeplex::esp::io {
namespace {

TEST(EspFilter, ProgramShape) {
    for (const bool v4 : {true, false}) {
        const auto p = esp_socket_filter(v4, 1, 2);
        ASSERT_EQ(p.size(), 12U);
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (BPF_CLASS(p[i].code) == BPF_JMP) {
                EXPECT_LT(i + 1 + p[i].jt, p.size());
                EXPECT_LT(i + 1 + p[i].jf, p.size());
            }
        }
    }
    EXPECT_FALSE(RawEspSocket::open(4, 2, 2));
    EXPECT_FALSE(RawEspSocket::open(5, 0, 2));
}

Bytes esp_packet(std::uint32_t spi, std::uint32_t seq, std::size_t len) {
    Bytes b = testing::pattern(std::max<std::size_t>(len, 8), spi & 0xFF);
    testing::wr32(b.data(), spi);
    testing::wr32(b.data() + 4, seq);
    b.resize(len);
    return b;
}

class RawEsp : public ::testing::TestWithParam<bool> {};

TEST_P(RawEsp, EachWorkerGetsItsSpis) {
    testing::ScopedNetns ns;
    if (!ns.ok()) {
        GTEST_SKIP() << ns.why();
    }
    const bool v6 = GetParam();
    const int family = v6 ? 6 : 4;
    const IpAddress lo = v6 ? IpAddress::parse("::1").value() : IpAddress::v4(0x7F000001);
    auto w0 = RawEspSocket::open(family, 0, 2);
    ASSERT_TRUE(w0) << w0.error().to_string();
    auto w1 = RawEspSocket::open(family, 1, 2, &lo);
    ASSERT_TRUE(w1) << w1.error().to_string();

    struct Case {
        Bytes pkt;
        int worker;  // -1: nobody
    };
    const std::vector<Case> cases = {
            {esp_packet(0x00000101, 1, 100), 0},
            {esp_packet(0x01000102, 2, 120), 1},
            {esp_packet(0x01FFFFFF, 3, 1400), 1},
            {esp_packet(0x05000103, 4, 60), 0},   // no worker 5: worker 0
            {esp_packet(0x00000000, 5, 80), -1},  // SPI 0 is reserved
            {esp_packet(0x01000104, 6, 7), -1},   // shorter than SPI + sequence number
            {esp_packet(0x00000105, 7, 8), 0},
    };
    std::vector<PacketBuf> bufs(cases.size());
    std::vector<Datagram> d;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        ASSERT_TRUE(bufs[i].assign(cases[i].pkt));
        d.push_back(Datagram{&bufs[i], Endpoint{lo, 4500}, {}});  // the port must not matter
    }
    auto sent = w0->send_batch(d);
    ASSERT_TRUE(sent) << sent.error().to_string();
    EXPECT_EQ(*sent, cases.size());
    EXPECT_EQ(w0->stats().tx_packets, cases.size());

    std::vector<std::vector<Bytes>> got(2);
    std::vector<PacketBuf> rx(16);
    std::vector<Endpoint> from(16);
    std::size_t expected = 0;
    for (const Case& c : cases) {
        expected += c.worker >= 0 ? 1 : 0;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
    while (std::chrono::steady_clock::now() < deadline) {  // also waits for strays
        pollfd pf[2] = {{w0->fd(), POLLIN, 0}, {w1->fd(), POLLIN, 0}};
        static_cast<void>(::poll(pf, 2, 50));
        RawEspSocket* socks[2] = {&*w0, &*w1};
        for (int w = 0; w < 2; ++w) {
            auto n = socks[w]->recv_batch(rx, from);
            ASSERT_TRUE(n) << n.error().to_string();
            for (std::size_t i = 0; i < *n; ++i) {
                EXPECT_EQ(from[i], (Endpoint{lo, 0}));
                got[static_cast<std::size_t>(w)].emplace_back(rx[i].bytes().begin(),
                                                              rx[i].bytes().end());
            }
        }
    }
    EXPECT_EQ(got[0].size() + got[1].size(), expected);
    for (int w = 0; w < 2; ++w) {
        std::vector<Bytes> want;
        for (const Case& c : cases) {
            if (c.worker == w) {
                want.push_back(c.pkt);
            }
        }
        EXPECT_EQ(got[static_cast<std::size_t>(w)], want) << "worker " << w;
    }
}

INSTANTIATE_TEST_SUITE_P(Families, RawEsp, ::testing::Values(false, true),
                         [](const auto& pi) { return pi.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace ikeplex::esp::io
