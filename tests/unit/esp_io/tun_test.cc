// The TUN device on the real kernel, inside a network namespace of the test's own: offloads,
// CPU steering (packets sent from CPU k arrive on queue k), TCP with TSO super-packets read and
// split, coalesced GSO writes accepted by the kernel's TCP and UDP, and UDP GSO (USO) reads.
#include "esp/io/tun.h"

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include "esp/io/offload.h"
#include "esp/io/rtnl.h"
#include "netns.h"
#include "test_packets.h"

namespace ikeplex::esp::io {
namespace {

using testing::pattern;
using testing::rd16;
using testing::rd32;

constexpr std::uint32_t kLocal = 0x0A630001;  // 10.99.0.1 on the TUN
constexpr std::uint32_t kPeer = 0x0A630102;   // 10.99.1.2, routed into the TUN

IpAddress v4(std::uint32_t a) {
    return IpAddress::v4(a);
}

sockaddr_in sin_of(std::uint32_t addr, std::uint16_t port) {
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    s.sin_addr.s_addr = htonl(addr);
    return s;
}

/// A namespace with a TUN device up, 10.99.0.1/24 on it and 10.99.1.0/24 routed into it.
class TunFixture : public ::testing::Test {
protected:
    void open_tun(unsigned queues) {
        if (!ns_.ok()) {
            GTEST_SKIP() << ns_.why();
        }
        if (!testing::have_tun()) {
            GTEST_SKIP() << "no /dev/net/tun";
        }
        TunOptions o;
        o.name = "ikpio%d";
        o.queues = queues;
        o.mtu = 1400;
        auto t = Tun::open(o);
        ASSERT_TRUE(t) << t.error().to_string();
        tun_ = std::make_unique<Tun>(std::move(*t));
        ASSERT_TRUE(link_up(tun_->ifindex(), 0));
        ASSERT_TRUE(add_address(tun_->ifindex(), v4(kLocal), 24));
        const IpAddress src = v4(kLocal);
        ASSERT_TRUE(add_route(tun_->ifindex(), v4(0x0A630100), 24, &src));
    }

    /// Reads queue `q` until `want` packets passing `keep` arrived or `ms` passed.
    template <class Keep>
    std::vector<Bytes> read_until(unsigned q, std::size_t want, int ms, Keep keep) {
        std::vector<Bytes> got;
        std::vector<PacketBuf> bufs(32);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
            pollfd p{tun_->queue_fd(q), POLLIN, 0};
            static_cast<void>(::poll(&p, 1, 50));
            for (int round = 0; round < 100; ++round) {
                auto n = tun_read_batch(*tun_, q, bufs, 8);
                EXPECT_TRUE(n) << n.error().to_string();
                if (!n || *n == 0) {
                    break;
                }
                for (std::size_t i = 0; i < *n; ++i) {
                    if (keep(bufs[i].bytes())) {
                        got.emplace_back(bufs[i].bytes().begin(), bufs[i].bytes().end());
                    }
                }
            }
        }
        return got;
    }

    testing::ScopedNetns ns_;
    std::unique_ptr<Tun> tun_;
};

bool is_v4_proto(ByteView p, std::uint8_t proto) {
    return p.size() >= 28 && (p[0] >> 4) == 4 && p[9] == proto;
}
std::uint16_t dport(ByteView p) {
    return rd16(&p[(p[0] & 0x0Fu) * 4u + 2]);
}
/// Where the payload of an IPv4 TCP segment (20-byte IP header) starts.
std::size_t tcp_payload_at(ByteView p) {
    return 20 + (p[20 + 12] >> 4) * 4u;
}

TEST_F(TunFixture, OpensWithOffloads) {
    open_tun(2);
    if (tun_ == nullptr) {
        return;
    }
    EXPECT_EQ(tun_->queues(), 2U);
    EXPECT_EQ(tun_->name().rfind("ikpio", 0), 0U) << tun_->name();
    EXPECT_GT(tun_->ifindex(), 0U);
    EXPECT_GE(tun_->queue_fd(0), 0);
    EXPECT_GE(tun_->queue_fd(1), 0);
    EXPECT_EQ(tun_->queue_fd(2), -1);
    ASSERT_TRUE(tun_->vnet_hdr());
    // Linux 6.18 takes checksum, TSO and USO offloads.
    EXPECT_EQ(tun_->offloads(), kTunFCsum | kTunFTso4 | kTunFTso6 | kTunFUso4 | kTunFUso6);
}

TEST_F(TunFixture, WithoutVnetHeaderPacketsArePlain) {
    if (!ns_.ok() || !testing::have_tun()) {
        GTEST_SKIP() << "no namespace or TUN";
    }
    TunOptions o;
    o.name = "ikpplain0";
    o.vnet_hdr = false;
    auto t = Tun::open(o);
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->vnet_hdr());
    EXPECT_EQ(t->offloads(), 0U);
    ASSERT_TRUE(link_up(t->ifindex(), 0));
    ASSERT_TRUE(add_address(t->ifindex(), v4(kLocal), 24));
    ASSERT_TRUE(add_route(t->ifindex(), v4(0x0A630100), 24, nullptr));
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM, 0));
    const sockaddr_in to = sin_of(kPeer, 7777);
    const Bytes payload = pattern(300);
    ASSERT_EQ(::sendto(s.get(), payload.data(), payload.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof to),
              300);
    std::vector<PacketBuf> bufs(4);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; ++i) {
        pollfd p{t->queue_fd(0), POLLIN, 0};
        static_cast<void>(::poll(&p, 1, 20));
        auto n = tun_read_batch(*t, 0, bufs, 4);
        ASSERT_TRUE(n);
        for (std::size_t k = 0; k < *n; ++k) {
            if (is_v4_proto(bufs[k].bytes(), 17) && dport(bufs[k].bytes()) == 7777) {
                seen = true;
                EXPECT_TRUE(testing::ref_l4_ok(bufs[k].bytes()));  // the kernel computed it
                EXPECT_EQ(bufs[k].size(), 328U);
            }
        }
    }
    EXPECT_TRUE(seen);
}

TEST_F(TunFixture, SteerByCpuPutsEachCpuOnItsQueue) {
    open_tun(2);
    if (tun_ == nullptr) {
        return;
    }
    ASSERT_TRUE(tun_->steer_by_cpu());
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
    std::vector<std::size_t> cpus;
    for (std::size_t c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c) {
        if (CPU_ISSET(c, &allowed)) {
            cpus.push_back(c);
        }
    }
    ASSERT_FALSE(cpus.empty());
    if (cpus.size() < 2) {
        std::cout << "only one CPU: checking CPU " << cpus[0] << " alone\n";
    }
    // 8 flows per CPU (distinct ports), so flow hashing could not pass by chance.
    constexpr int kFlows = 8;
    constexpr int kPerFlow = 5;
    std::atomic<int> wrong_cpu{0};
    std::vector<std::thread> threads;
    for (const std::size_t cpu : cpus) {
        threads.emplace_back([cpu, &wrong_cpu] {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (::sched_setaffinity(0, sizeof one, &one) != 0) {
                ++wrong_cpu;
                return;
            }
            UniqueFd s(::socket(AF_INET, SOCK_DGRAM, 0));
            const Bytes payload = pattern(100, cpu);
            for (int f = 0; f < kFlows; ++f) {
                const sockaddr_in to = sin_of(
                        kPeer,
                        static_cast<std::uint16_t>(6000 + cpu * 100 + static_cast<std::size_t>(f)));
                for (int i = 0; i < kPerFlow; ++i) {
                    if (::sched_getcpu() != static_cast<int>(cpu)) {
                        ++wrong_cpu;
                    }
                    static_cast<void>(::sendto(s.get(), payload.data(), payload.size(), 0,
                                               reinterpret_cast<const sockaddr*>(&to), sizeof to));
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    ASSERT_EQ(wrong_cpu.load(), 0);
    std::map<std::size_t, std::map<unsigned, int>> seen;  // cpu -> queue -> packets
    const auto ours = [](ByteView p) {
        return is_v4_proto(p, 17) && dport(p) >= 6000 && dport(p) < 6200;
    };
    const std::size_t total = cpus.size() * static_cast<std::size_t>(kFlows * kPerFlow);
    std::size_t count = 0;
    for (unsigned q = 0; q < 2; ++q) {
        for (const Bytes& p : read_until(q, total, 300, ours)) {
            EXPECT_TRUE(testing::ref_l4_ok(p));  // NEEDS_CSUM completed on read
            seen[static_cast<std::size_t>(dport(p) - 6000) / 100][q]++;
            ++count;
        }
    }
    EXPECT_EQ(count, total);
    for (const std::size_t cpu : cpus) {
        const auto q = static_cast<unsigned>(cpu % 2);
        EXPECT_EQ(seen[cpu][q], kFlows * kPerFlow) << "CPU " << cpu << " on queue " << q;
        EXPECT_EQ(seen[cpu][1 - q], 0) << "CPU " << cpu << " leaked to queue " << 1 - q;
    }
}

/// The fake peer's side of a TCP connection through the TUN.
struct Peer {
    std::uint16_t port{5001};
    std::uint16_t client_port{0};
    std::uint32_t seq{0x50000000};  // next sequence number we send
    std::uint32_t ack{0};           // next we expect

    Bytes packet(std::uint8_t flags, ByteView payload, const Bytes& options = {}) const {
        testing::TcpFields t;
        t.sport = port;
        t.dport = client_port;
        t.seq = seq;
        t.ack = ack;
        t.flags = flags;
        t.options = options;
        return testing::tcp_packet(testing::v4_addrs(kPeer, kLocal), t, payload, 0);
    }
};

Result<std::size_t> write_one(const Tun& tun, const Bytes& b) {
    PacketBuf buf;
    EXPECT_TRUE(buf.assign(b));
    PacketBuf* p = &buf;
    return tun_write_batch(tun, 0, std::span<PacketBuf*>(&p, 1));
}

TEST_F(TunFixture, TcpSuperPacketsBothWays) {
    open_tun(1);
    if (tun_ == nullptr) {
        return;
    }
    UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    const sockaddr_in to = sin_of(kPeer, 5001);
    ASSERT_NE(::connect(client.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
    ASSERT_EQ(errno, EINPROGRESS);

    const auto tcp_to_peer = [](ByteView p) { return is_v4_proto(p, 6) && dport(p) == 5001; };
    const auto tcp_to_peer_data = [&](ByteView p) {
        return tcp_to_peer(p) && p.size() > tcp_payload_at(p);
    };
    const auto syn = read_until(0, 1, 2000, tcp_to_peer);
    ASSERT_EQ(syn.size(), 1U);
    ASSERT_EQ(syn[0][20 + 13], 0x02);  // SYN
    EXPECT_TRUE(testing::ref_l4_ok(syn[0]));
    EXPECT_TRUE(testing::ref_ipv4_ok(syn[0]));
    Peer peer;
    peer.client_port = rd16(&syn[0][20]);
    const std::uint32_t client_isn = rd32(&syn[0][24]);
    peer.ack = client_isn + 1;
    ASSERT_TRUE(write_one(*tun_, peer.packet(0x12, {}, {2, 4, 0x05, 0x50})));  // SYN-ACK, MSS 1360
    ++peer.seq;
    pollfd pc{client.get(), POLLOUT, 0};
    ASSERT_EQ(::poll(&pc, 1, 2000), 1);
    int err = -1;
    socklen_t elen = sizeof err;
    ASSERT_EQ(::getsockopt(client.get(), SOL_SOCKET, SO_ERROR, &err, &elen), 0);
    ASSERT_EQ(err, 0);

    // Client -> peer: the kernel hands TSO super-packets to the TUN; we see MTU-sized segments.
    const Bytes data = pattern(120000, 11);
    std::size_t sent = 0;
    Bytes received;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (received.size() < data.size() && std::chrono::steady_clock::now() < deadline) {
        if (sent < data.size()) {
            const ssize_t n = ::send(client.get(), data.data() + sent, data.size() - sent, 0);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
            }
        }
        const auto segs = read_until(0, 1, 20, tcp_to_peer);
        for (const Bytes& s : segs) {
            ASSERT_LE(s.size(), 1400U);
            ASSERT_TRUE(testing::ref_ipv4_ok(s));
            ASSERT_TRUE(testing::ref_l4_ok(s)) << "bad TCP checksum, " << s.size() << " bytes";
            const std::size_t hl = tcp_payload_at(s);
            const std::uint32_t seq = rd32(&s[24]);
            if (s.size() > hl && seq == peer.ack) {
                received.insert(received.end(), s.begin() + static_cast<long>(hl), s.end());
                peer.ack += static_cast<std::uint32_t>(s.size() - hl);
            }
        }
        if (!segs.empty()) {
            ASSERT_TRUE(write_one(*tun_, peer.packet(0x10, {})));  // ACK
        }
    }
    ASSERT_EQ(received.size(), data.size());
    EXPECT_TRUE(received == data);
    EXPECT_GT(tun_->stats(0).rx_gso, 0U) << "the kernel sent no TSO super-packet";
    EXPECT_EQ(tun_->stats(0).rx_dropped, 0U);
    // Ten full segments in one super-packet, then a small segment: read into the scratch
    // buffer (the read before was a super-packet) and copied out whole.
    const Bytes ten = pattern(std::size_t{10} * 1360, 8);
    const std::uint64_t gso_seen = tun_->stats(0).rx_gso;
    ASSERT_EQ(::send(client.get(), ten.data(), ten.size(), 0), static_cast<ssize_t>(ten.size()));
    const auto tens = read_until(0, 10, 2000, tcp_to_peer_data);
    ASSERT_EQ(tens.size(), 10U);
    ASSERT_EQ(tun_->stats(0).rx_gso, gso_seen + 1) << "not one super-packet";
    peer.ack += static_cast<std::uint32_t>(ten.size());
    ASSERT_TRUE(write_one(*tun_, peer.packet(0x10, {})));  // ACK
    const Bytes small = pattern(100, 3);
    ASSERT_EQ(::send(client.get(), small.data(), small.size(), 0), 100);
    // The first IPv4 packet read must be it (not a retransmission after a bad copy).
    const auto last =
            read_until(0, 1, 2000, [](ByteView p) { return p.empty() || (p[0] >> 4) != 6; });
    ASSERT_EQ(last.size(), 1U);
    ASSERT_TRUE(tcp_to_peer(last[0]) && rd32(&last[0][24]) == peer.ack);
    EXPECT_TRUE(testing::ref_l4_ok(last[0]));
    const std::size_t small_hl = tcp_payload_at(last[0]);
    EXPECT_TRUE(std::equal(last[0].begin() + static_cast<long>(small_hl), last[0].end(),
                           small.begin(), small.end()));
    peer.ack += 100;
    ASSERT_TRUE(write_one(*tun_, peer.packet(0x10, {})));  // ACK

    // Peer -> client: 30 segments coalesced into GSO writes; the kernel's TCP takes them.
    const Bytes back = pattern(30 * 1360, 5);
    std::vector<std::unique_ptr<PacketBuf>> bufs;
    std::vector<PacketBuf*> ptrs;
    for (std::size_t i = 0; i < 30; ++i) {
        const ByteView chunk{back.data() + i * 1360, 1360};
        bufs.push_back(std::make_unique<PacketBuf>());
        ASSERT_TRUE(bufs.back()->assign(peer.packet(i == 29 ? 0x18 : 0x10, chunk)));
        ptrs.push_back(bufs.back().get());
        peer.seq += 1360;
    }
    const std::uint64_t gso_before = tun_->stats(0).tx_gso;
    auto w = tun_write_batch(*tun_, 0, ptrs);
    ASSERT_TRUE(w) << w.error().to_string();
    EXPECT_EQ(*w, 30U);
    EXPECT_GE(tun_->stats(0).tx_gso - gso_before, 1U);
    EXPECT_EQ(tun_->stats(0).tx_dropped, 0U);
    Bytes got;
    const auto deadline2 = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::vector<std::uint8_t> rx(65536);
    while (got.size() < back.size() && std::chrono::steady_clock::now() < deadline2) {
        pollfd p{client.get(), POLLIN, 0};
        static_cast<void>(::poll(&p, 1, 50));
        const ssize_t n = ::recv(client.get(), rx.data(), rx.size(), MSG_DONTWAIT);
        if (n > 0) {
            got.insert(got.end(), rx.begin(), rx.begin() + n);
        }
    }
    ASSERT_EQ(got.size(), back.size());
    EXPECT_TRUE(got == back);
}

TEST_F(TunFixture, UdpGsoSuperPacketIsSplit) {
    open_tun(1);
    if (tun_ == nullptr) {
        return;
    }
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM, 0));
    const int seg = 1000;
    ASSERT_EQ(::setsockopt(s.get(), IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg), 0);
    const Bytes payload = pattern(5500, 4);
    const sockaddr_in to = sin_of(kPeer, 7000);
    ASSERT_EQ(::sendto(s.get(), payload.data(), payload.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof to),
              5500);
    const auto pkts = read_until(0, 6, 2000,
                                 [](ByteView p) { return is_v4_proto(p, 17) && dport(p) == 7000; });
    ASSERT_EQ(pkts.size(), 6U);
    for (std::size_t i = 0; i < 6; ++i) {
        const std::size_t len = i < 5 ? 1000 : 500;
        ASSERT_EQ(pkts[i].size(), 28 + len);
        EXPECT_TRUE(testing::ref_ipv4_ok(pkts[i]));
        EXPECT_TRUE(testing::ref_l4_ok(pkts[i]));
        EXPECT_TRUE(std::equal(pkts[i].begin() + 28, pkts[i].end(),
                               payload.begin() + static_cast<long>(i * 1000)));
    }
    if ((tun_->offloads() & kTunFUso4) != 0) {
        EXPECT_GE(tun_->stats(0).rx_gso, 1U);
    }
}

TEST_F(TunFixture, UdpDatagramsGoAsOneSuperPacketAndArriveAsSent) {
    open_tun(1);
    if (tun_ == nullptr) {
        return;
    }
    UniqueFd rx(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
    const sockaddr_in at = sin_of(kLocal, 7001);
    ASSERT_EQ(::bind(rx.get(), reinterpret_cast<const sockaddr*>(&at), sizeof at), 0);
    const int big = 4 << 20;
    ::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);

    // 41 datagrams of one flow (the last shorter); number 20 has a wrong UDP checksum, so the
    // runs are 0..19 and 21..40 and the kernel itself drops number 20.
    const auto a = testing::v4_addrs(kPeer, kLocal);
    std::vector<Bytes> payloads;
    std::vector<std::unique_ptr<PacketBuf>> bufs;
    std::vector<PacketBuf*> ptrs;
    for (std::size_t i = 0; i < 41; ++i) {
        payloads.push_back(pattern(i == 40 ? 300 : 1000, i));
        Bytes p = testing::udp_packet(a, 4500, 7001, payloads.back(),
                                      static_cast<std::uint16_t>(0xFFF0 + i));
        if (i == 20) {
            p.back() ^= 1;
        }
        bufs.push_back(std::make_unique<PacketBuf>());
        ASSERT_TRUE(bufs.back()->assign(p));
        ptrs.push_back(bufs.back().get());
    }
    auto w = tun_write_batch(*tun_, 0, ptrs);
    ASSERT_TRUE(w) << w.error().to_string();
    EXPECT_EQ(*w, 41U);
    EXPECT_EQ(tun_->stats(0).tx_dropped, 0U);
    if ((tun_->offloads() & kTunFUso4) != 0) {
        EXPECT_EQ(tun_->stats(0).tx_gso, 2U) << "USO on this kernel, yet not coalesced";
    }

    std::vector<Bytes> got;
    std::vector<std::uint8_t> buf(65536);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (got.size() < 40 && std::chrono::steady_clock::now() < deadline) {
        pollfd p{rx.get(), POLLIN, 0};
        static_cast<void>(::poll(&p, 1, 50));
        sockaddr_in from{};
        socklen_t flen = sizeof from;
        const ssize_t n = ::recvfrom(rx.get(), buf.data(), buf.size(), MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&from), &flen);
        if (n >= 0) {
            EXPECT_EQ(ntohs(from.sin_port), 4500);
            EXPECT_EQ(ntohl(from.sin_addr.s_addr), kPeer);
            got.emplace_back(buf.begin(), buf.begin() + n);
        }
    }
    ASSERT_EQ(got.size(), 40U);
    for (std::size_t i = 0, k = 0; i < 41; ++i) {
        if (i == 20) {
            continue;
        }
        EXPECT_TRUE(got[k] == payloads[i]) << "datagram " << i << ": " << got[k].size();
        ++k;
    }
    // Nothing more: the bad one stayed dropped.
    pollfd p{rx.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 100), 0);
}

TEST_F(TunFixture, BadQueueAndBadPacket) {
    open_tun(1);
    if (tun_ == nullptr) {
        return;
    }
    std::vector<PacketBuf> bufs(1);
    EXPECT_FALSE(tun_read_batch(*tun_, 1, bufs, 1));
    PacketBuf junk;
    ASSERT_TRUE(junk.assign(pattern(3)));  // not an IP packet
    PacketBuf* p = &junk;
    auto w = tun_write_batch(*tun_, 0, std::span<PacketBuf*>(&p, 1));
    ASSERT_TRUE(w);
    EXPECT_EQ(*w, 0U);
    EXPECT_EQ(tun_->stats(0).tx_dropped, 1U);
}

}  // namespace
}  // namespace ikeplex::esp::io
