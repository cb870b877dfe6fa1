// Reuseport SPI steering on the real kernel (a namespace of the test's own): a control socket
// and three worker sockets on 127.0.0.1:4500 with the classic BPF program; each datagram must
// land on the socket its first bytes name.
#include "esp/io/steering.h"

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/socket.h>

#include <gtest/gtest.h>
#include <poll.h>

#include "esp/io/udp_io.h"
#include "netns.h"
#include "test_packets.h"

namespace ikeplex::esp::io {
namespace {

static_assert(spi_worker(0x00000100, 3) == 0);
static_assert(spi_worker(0x01ABCDEF, 3) == 1);
static_assert(spi_worker(0x02000100, 3) == 2);
static_assert(spi_worker(0x03000100, 3) == 0);
static_assert(spi_worker(0xFF000100, 3) == 0);
static_assert(spi_worker(0x07000100, 8) == 7);

TEST(SpiSteering, ProgramShape) {
    const auto p = spi_reuseport_program(3);
    ASSERT_EQ(p.size(), 10U);
    // Every jump lands inside the program and the program ends in returns.
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (BPF_CLASS(p[i].code) == BPF_JMP) {
            EXPECT_LT(i + 1 + p[i].jt, p.size());
            EXPECT_LT(i + 1 + p[i].jf, p.size());
        }
    }
    EXPECT_EQ(BPF_CLASS(p.back().code), BPF_RET);
    EXPECT_FALSE(attach_spi_steering(-1, 0));
    EXPECT_FALSE(attach_spi_steering(-1, 256));
}

Endpoint loopback(std::uint16_t port) {
    return Endpoint{IpAddress::v4(0x7F000001), port};
}

TEST(SpiSteering, DatagramsLandOnTheirWorker) {
    testing::ScopedNetns ns;
    if (!ns.ok()) {
        GTEST_SKIP() << ns.why();
    }
    std::vector<UdpSocket> group;  // [0] control (IKE), [1 + w] worker w
    for (int i = 0; i < 4; ++i) {
        auto s = UdpSocket::open(loopback(4500), true, false);
        ASSERT_TRUE(s) << s.error().to_string();
        group.push_back(std::move(*s));
    }
    ASSERT_TRUE(attach_spi_steering(group[2].fd(), 3));  // any member will do

    auto sender = UdpSocket::open(loopback(0), false, false);
    ASSERT_TRUE(sender);
    struct Case {
        std::string name;
        Bytes payload;
        std::size_t socket;
    };
    const auto esp = [](std::uint32_t spi, std::uint8_t tag) {
        Bytes b(16, tag);
        testing::wr32(b.data(), spi);
        return b;
    };
    std::vector<Case> cases = {
            {"worker 0", esp(0x00000101, 1), 1},
            {"worker 1", esp(0x01000102, 2), 2},
            {"worker 2", esp(0x02FFFFFF, 3), 3},
            {"top byte 7 (no such worker)", esp(0x07000104, 4), 1},
            {"IKE (non-ESP marker)", Bytes{0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 5}, 0},
            {"NAT keepalive 0xFF", Bytes{0xFF}, 0},
            {"3 bytes", Bytes{1, 2, 3}, 0},
            {"worker 1 again", esp(0x01FFFF00, 6), 2},
    };
    std::vector<PacketBuf> bufs(cases.size());
    std::vector<Datagram> d;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        ASSERT_TRUE(bufs[i].assign(cases[i].payload));
        d.push_back(Datagram{&bufs[i], loopback(4500), {}});
    }
    auto sent = sender->send_batch(d, false);
    ASSERT_TRUE(sent);
    ASSERT_EQ(*sent, cases.size());

    std::map<std::string, std::size_t> landed;
    std::vector<PacketBuf> rx(16);
    std::vector<Endpoint> from(16);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (landed.size() < cases.size() && std::chrono::steady_clock::now() < deadline) {
        std::vector<pollfd> pf;
        for (auto& s : group) {
            pf.push_back(pollfd{s.fd(), POLLIN, 0});
        }
        static_cast<void>(::poll(pf.data(), pf.size(), 50));
        for (std::size_t g = 0; g < group.size(); ++g) {
            auto n = group[g].recv_batch(rx, from);
            ASSERT_TRUE(n);
            for (std::size_t i = 0; i < *n; ++i) {
                EXPECT_EQ(from[i], sender->local());
                for (const Case& c : cases) {
                    if (equal_bytes(rx[i].bytes(), c.payload)) {
                        landed[c.name] = g;
                    }
                }
            }
        }
    }
    for (const Case& c : cases) {
        ASSERT_TRUE(landed.count(c.name) == 1) << c.name << " never arrived";
        EXPECT_EQ(landed[c.name], c.socket) << c.name;
    }
}

}  // namespace
}  // namespace ikeplex::esp::io
