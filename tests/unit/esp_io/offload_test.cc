// Offloads without a kernel: checksums against a reference implementation and a published
// header, segmentation of crafted TSO/USO super-packets (IPv4 and IPv6) and NEEDS_CSUM completion
// (coalescing on write: coalesce_test.cc).
#include "esp/io/offload.h"

#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "test_packets.h"
#include "util/hex.h"

namespace ikeplex::esp::io {
namespace {

using testing::pattern;
using testing::rd16;
using testing::rd32;
using testing::TcpFields;
using testing::wr16;
using testing::wr32;

constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kPsh = 0x08;
constexpr std::uint8_t kAck = 0x10;
constexpr std::uint8_t kCwr = 0x80;

// The IPv4 header example of the Wikipedia "Internet checksum" / RFC 1071 walk-throughs:
// 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7, checksum 0xb861.
TEST(Checksum, KnownIpv4Header) {
    Bytes h = from_hex("450000730000400040110000c0a80001c0a800c7").value();
    set_ipv4_header_checksum(h);
    EXPECT_EQ(rd16(&h[10]), 0xb861);
    EXPECT_TRUE(ipv4_header_checksum_ok(h));
    h[15] ^= 1;
    EXPECT_FALSE(ipv4_header_checksum_ok(h));
}

TEST(Checksum, MatchesReferenceForOddLengthsAndAlignments) {
    const Bytes data = pattern(1501, 3);
    for (std::size_t off = 0; off < 8; ++off) {
        for (std::size_t len : {0UL, 1UL, 2UL, 3UL, 7UL, 8UL, 9UL, 63UL, 1400UL, 1493UL}) {
            const ByteView v{data.data() + off, len};
            const std::uint16_t ours = csum_fold(csum_add(v));
            // csum_add sums in host order; compare through the bytes it would store.
            std::uint8_t stored[2];
            std::memcpy(stored, &ours, 2);
            EXPECT_EQ(rd16(stored), testing::ref_fold(testing::ref_sum(v.data(), v.size())))
                    << "off " << off << " len " << len;
        }
    }
}

TEST(Checksum, CopyingSumEqualsSumAndCopiesEveryByte) {
    const Bytes data = pattern(1501, 7);
    for (std::size_t off = 0; off < 4; ++off) {
        for (std::size_t len : {0UL, 1UL, 31UL, 32UL, 33UL, 64UL, 95UL, 1348UL, 1400UL, 1493UL}) {
            const ByteView v{data.data() + off, len};
            std::vector<std::uint8_t> dst(len + 2, 0xEE);
            const std::uint64_t start = 0x1234;  // a running sum from earlier pieces
            const std::uint64_t sum = csum_copy(dst.data() + 1, v.data(), len, start);
            EXPECT_EQ(csum_fold(sum), csum_fold(csum_add(v, start)))
                    << "off " << off << " len " << len;
            EXPECT_EQ(0, std::memcmp(dst.data() + 1, v.data(), len)) << "len " << len;
            EXPECT_EQ(dst[0], 0xEE);
            EXPECT_EQ(dst[len + 1], 0xEE);  // nothing written beyond the range
        }
    }
}

TEST(Checksum, L4ChecksumsAgreeWithReference) {
    const auto a4 = testing::v4_addrs(0x0A630001, 0x0A630102);
    const auto a6 = testing::v6_addrs(1, 2);
    for (const auto& a : {a4, a6}) {
        Bytes tcp = testing::tcp_packet(a, TcpFields{}, pattern(777));
        Bytes udp = testing::udp_packet(a, 1111, 2222, pattern(333));
        EXPECT_TRUE(l4_checksum_ok(tcp));
        EXPECT_TRUE(l4_checksum_ok(udp));
        const Bytes tcp_ref = tcp;
        ASSERT_TRUE(set_l4_checksum(tcp));
        EXPECT_EQ(tcp, tcp_ref);
        tcp[tcp.size() - 1] ^= 0x40;
        EXPECT_FALSE(l4_checksum_ok(tcp));
        EXPECT_FALSE(testing::ref_l4_ok(tcp));
    }
}

TEST(VirtioNetHdr, RoundTripsLittleEndian) {
    VirtioNetHdr h;
    h.flags = kVnetNeedsCsum;
    h.gso_type = kGsoTcpV6;
    h.hdr_len = 0x1234;
    h.gso_size = 1360;
    h.csum_start = 40;
    h.csum_offset = 16;
    std::uint8_t b[VirtioNetHdr::kSize];
    h.encode(b);
    EXPECT_EQ(to_hex(ByteView{b, sizeof b}), "01043412500528001000");
    const VirtioNetHdr d = VirtioNetHdr::decode(b);
    EXPECT_EQ(d.flags, h.flags);
    EXPECT_EQ(d.gso_type, h.gso_type);
    EXPECT_EQ(d.hdr_len, h.hdr_len);
    EXPECT_EQ(d.gso_size, h.gso_size);
    EXPECT_EQ(d.csum_start, h.csum_start);
    EXPECT_EQ(d.csum_offset, h.csum_offset);
}

// ---- NEEDS_CSUM completion

TEST(CompleteChecksum, UdpAndTcpBothFamilies) {
    const auto a4 = testing::v4_addrs(0x0A630001, 0x0A630102);
    const auto a6 = testing::v6_addrs(1, 2);
    for (const auto& a : {a4, a6}) {
        const std::uint16_t l4 = a.v6 ? 40 : 20;
        Bytes udp = testing::udp_packet(a, 1000, 2000, pattern(501, 9));
        const Bytes udp_want = udp;
        testing::ref_fill_partial(udp);
        EXPECT_NE(udp, udp_want);
        ASSERT_TRUE(complete_checksum(udp, l4, 6));
        EXPECT_EQ(udp, udp_want);
        EXPECT_TRUE(testing::ref_l4_ok(udp));

        TcpFields t;
        t.options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};  // NOP NOP timestamps
        Bytes tcp = testing::tcp_packet(a, t, pattern(1200, 5));
        const Bytes tcp_want = tcp;
        testing::ref_fill_partial(tcp);
        ASSERT_TRUE(complete_checksum(tcp, l4, 16));
        EXPECT_EQ(tcp, tcp_want);
    }
}

TEST(CompleteChecksum, RefusesOffsetsOutsideThePacket) {
    Bytes p = pattern(40);
    EXPECT_FALSE(complete_checksum(p, 40, 0));
    EXPECT_FALSE(complete_checksum(p, 30, 9));
    EXPECT_TRUE(complete_checksum(p, 30, 8));
}

// ---- segmentation of super-packets (what the kernel hands a TUN reader with TSO/USO)

struct Super {
    Bytes pkt;
    VirtioNetHdr h;
};

// The IPv4 ID wraps inside a super-packet of more than one segment.
constexpr std::uint16_t kSuperId = 0xFFFE;

Super tcp_super(const testing::Addrs& a, const TcpFields& t, const Bytes& payload,
                std::uint16_t mss, std::uint16_t id = kSuperId) {
    Super s;
    s.pkt = testing::tcp_packet(a, t, payload, id);
    testing::ref_fill_partial(s.pkt);  // as the kernel leaves it: CHECKSUM_PARTIAL
    s.h.flags = kVnetNeedsCsum;
    s.h.gso_type = a.v6 ? kGsoTcpV6 : kGsoTcpV4;
    s.h.hdr_len = 0;  // not trusted
    s.h.gso_size = mss;
    s.h.csum_start = a.v6 ? 40 : 20;
    s.h.csum_offset = 16;
    return s;
}

class TsoSegmentation : public ::testing::TestWithParam<bool> {};

TEST_P(TsoSegmentation, SplitsLikeTheKernel) {
    const bool v6 = GetParam();
    const auto a = v6 ? testing::v6_addrs(1, 2) : testing::v4_addrs(0x0A630001, 0x0A630102);
    TcpFields t;
    t.seq = 0xFFFFF000;  // wraps inside the super-packet
    t.flags = kAck | kPsh | kFin | kCwr;
    t.options = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
    const Bytes payload = pattern(5000, 1);
    const std::uint16_t mss = 1348;
    Super s = tcp_super(a, t, payload, mss);

    GsoPlan plan;
    ASSERT_TRUE(segment_plan(s.pkt, s.h, plan));
    ASSERT_EQ(plan.segments, 4U);
    EXPECT_EQ(plan.hdr_len, (v6 ? 40U : 20U) + 32U);
    std::size_t off = 0;
    for (std::size_t i = 0; i < plan.segments; ++i) {
        PacketBuf out;
        ASSERT_TRUE(write_segment(s.pkt, plan, i, out));
        EXPECT_EQ(out.headroom(), PacketBuf::kHeadroom);
        const std::size_t len = std::min<std::size_t>(mss, payload.size() - off);
        // The expected segment, built from scratch with reference checksums.
        TcpFields e = t;
        e.seq = t.seq + static_cast<std::uint32_t>(off);
        e.flags = kAck;
        if (i == 0) {
            e.flags |= kCwr;
        }
        if (i + 1 == plan.segments) {
            e.flags |= kPsh | kFin;
        }
        const Bytes want = testing::tcp_packet(a, e, ByteView{payload.data() + off, len},
                                               static_cast<std::uint16_t>(kSuperId + i));
        EXPECT_EQ(to_hex(out.bytes()), to_hex(want)) << "segment " << i;
        EXPECT_TRUE(testing::ref_l4_ok(out.bytes()));
        if (!v6) {
            EXPECT_TRUE(testing::ref_ipv4_ok(out.bytes()));
        }
        off += len;
    }
    EXPECT_EQ(off, payload.size());
}

// write_segment builds the checksums from per-plan sums and the fields it changes; every
// segment of many shapes must still check against the reference sums.
TEST_P(TsoSegmentation, ChecksumsHoldForAnyShape) {
    const bool v6 = GetParam();
    const auto a = v6 ? testing::v6_addrs(7, 9) : testing::v4_addrs(0xC0A80001, 0x0A630102);
    std::mt19937 rng(20261206);
    for (int round = 0; round < 200; ++round) {
        TcpFields t;
        t.seq = static_cast<std::uint32_t>(rng());
        t.ack = static_cast<std::uint32_t>(rng());
        t.flags = static_cast<std::uint8_t>(kAck | (rng() & (kPsh | kFin | kCwr)));
        t.options.assign(4 * (rng() % 11), 1);  // NOPs: 0..40 bytes of options
        const auto mss = static_cast<std::uint16_t>(500 + rng() % 1000);
        const Bytes payload = pattern(1 + rng() % 9000, static_cast<std::uint8_t>(round));
        const auto id = static_cast<std::uint16_t>(rng());
        Super s = tcp_super(a, t, payload, mss, id);
        GsoPlan plan;
        ASSERT_TRUE(segment_plan(s.pkt, s.h, plan)) << "round " << round;
        for (std::size_t i = 0; i < plan.segments; ++i) {
            PacketBuf out;
            ASSERT_TRUE(write_segment(s.pkt, plan, i, out));
            EXPECT_TRUE(testing::ref_l4_ok(out.bytes())) << "round " << round << " seg " << i;
            if (!v6) {
                EXPECT_TRUE(testing::ref_ipv4_ok(out.bytes())) << "round " << round << " seg " << i;
            }
        }
    }
}

TEST_P(TsoSegmentation, UdpL4Segmentation) {
    const bool v6 = GetParam();
    const auto a = v6 ? testing::v6_addrs(1, 2) : testing::v4_addrs(0x0A630001, 0x0A630102);
    const Bytes payload = pattern(3500, 2);
    Bytes pkt = testing::udp_packet(a, 4500, 4500, payload, 0x100);
    testing::ref_fill_partial(pkt);
    VirtioNetHdr h;
    h.flags = kVnetNeedsCsum;
    h.gso_type = kGsoUdpL4;
    h.gso_size = 1000;
    h.csum_start = v6 ? 40 : 20;
    h.csum_offset = 6;
    GsoPlan plan;
    ASSERT_TRUE(segment_plan(pkt, h, plan));
    ASSERT_EQ(plan.segments, 4U);
    for (std::size_t i = 0; i < 4; ++i) {
        PacketBuf out;
        ASSERT_TRUE(write_segment(pkt, plan, i, out));
        const std::size_t len = i < 3 ? 1000 : 500;
        const Bytes want =
                testing::udp_packet(a, 4500, 4500, ByteView{payload.data() + i * 1000, len},
                                    static_cast<std::uint16_t>(0x100 + i));
        EXPECT_EQ(to_hex(out.bytes()), to_hex(want)) << "segment " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Families, TsoSegmentation, ::testing::Values(false, true),
                         [](const auto& pi) { return pi.param ? "IPv6" : "IPv4"; });

TEST(Segmentation, RefusesMalformedSuperPackets) {
    const auto a = testing::v4_addrs(0x0A630001, 0x0A630102);
    Super s = tcp_super(a, TcpFields{}, pattern(3000), 1000);
    GsoPlan plan;
    ASSERT_TRUE(segment_plan(s.pkt, s.h, plan));

    VirtioNetHdr h = s.h;
    h.gso_size = 0;
    EXPECT_FALSE(segment_plan(s.pkt, h, plan));
    h = s.h;
    h.gso_type = kGsoTcpV6;  // IPv4 packet
    EXPECT_FALSE(segment_plan(s.pkt, h, plan));
    h = s.h;
    h.gso_type = kGsoUdp;  // old UFO
    EXPECT_FALSE(segment_plan(s.pkt, h, plan));
    h = s.h;
    h.gso_type = kGsoUdpL4;  // the packet is TCP
    EXPECT_FALSE(segment_plan(s.pkt, h, plan));
    h = s.h;
    h.csum_start = 24;  // disagrees with the IPv4 header length
    EXPECT_FALSE(segment_plan(s.pkt, h, plan));
    h = s.h;
    h.gso_size = 1;  // 3000 segments
    EXPECT_FALSE(segment_plan(s.pkt, h, plan));
    h = s.h;
    h.gso_size = 9500;  // a segment would not fit a PacketBuf
    Super big = tcp_super(a, TcpFields{}, pattern(20000), 9500);
    EXPECT_FALSE(segment_plan(big.pkt, h, plan));
    EXPECT_FALSE(segment_plan(ByteView{s.pkt.data(), 30}, s.h, plan));  // cut in the TCP header
    Bytes bad_doff = s.pkt;
    bad_doff[20 + 12] = 0x40;  // data offset 4 words
    EXPECT_FALSE(segment_plan(bad_doff, s.h, plan));
}

TEST(Segmentation, EcnBitIsIgnored) {
    const auto a = testing::v4_addrs(0x0A630001, 0x0A630102);
    Super s = tcp_super(a, TcpFields{}, pattern(2500), 1000);
    s.h.gso_type |= kGsoEcn;
    GsoPlan plan;
    ASSERT_TRUE(segment_plan(s.pkt, s.h, plan));
    EXPECT_EQ(plan.segments, 3U);
}

}  // namespace
}  // namespace ikeplex::esp::io
