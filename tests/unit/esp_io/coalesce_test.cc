// Coalescing on write without a kernel: crafted TCP segments and UDP datagrams of one flow ->
// one GSO super-packet whose segmentation (segment_plan / write_segment, as the kernel splits
// it) gives them back byte for byte, and every rule that ends a run. tun_test.cc writes such
// super-packets to a real TUN.
#include "esp/io/coalesce.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "esp/io/offload.h"
#include "test_packets.h"
#include "util/hex.h"

namespace ikeplex::esp::io {
namespace {

using testing::pattern;
using testing::rd16;
using testing::TcpFields;

constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kPsh = 0x08;
constexpr std::uint8_t kAck = 0x10;

// ---- TCP

struct Batch {
    std::vector<std::unique_ptr<PacketBuf>> bufs;
    std::vector<PacketBuf*> ptrs;
    void add(const Bytes& b) {
        bufs.push_back(std::make_unique<PacketBuf>());
        ASSERT_TRUE(bufs.back()->assign(b));
        ptrs.push_back(bufs.back().get());
    }
};

/// Segments of one flow: sizes[i] payload bytes each, consecutive sequence numbers and IDs.
Batch flow(const testing::Addrs& a, const std::vector<std::size_t>& sizes, bool psh_last,
           const Bytes& options = {}) {
    Batch b;
    TcpFields t;
    t.options = options;
    std::uint32_t seq = 0x10000;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        t.seq = seq;
        t.flags = (psh_last && i + 1 == sizes.size()) ? (kAck | kPsh) : kAck;
        b.add(testing::tcp_packet(a, t, pattern(sizes[i], i), static_cast<std::uint16_t>(50 + i)));
        seq += static_cast<std::uint32_t>(sizes[i]);
    }
    return b;
}

/// The contiguous super-packet of a run (virtio header first).
Bytes assemble(const Batch& b, const CoalescedRun& run) {
    Bytes out(VirtioNetHdr::kSize + run.hdr_len);
    build_super_header(*b.ptrs[0], run, out.data());
    for (std::size_t i = 0; i < run.count; ++i) {
        const ByteView p = b.ptrs[i]->bytes().subspan(run.hdr_len);
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

/// The super-packet of `run` is consistent (virtio header, IP length, header checksum, partial
/// checksum) and splits, as the kernel splits it, back into the packets of `b` byte for byte.
void expect_round_trip(const Batch& b, const CoalescedRun& run, std::uint8_t gso_type,
                       std::uint16_t csum_offset) {
    const Bytes sp = assemble(b, run);
    const VirtioNetHdr h = VirtioNetHdr::decode(sp.data());
    EXPECT_EQ(h.gso_type, gso_type);
    EXPECT_EQ(h.flags, kVnetNeedsCsum);
    EXPECT_EQ(h.gso_size, run.gso_size);
    EXPECT_EQ(h.csum_start, run.v6 ? 40 : 20);
    EXPECT_EQ(h.csum_offset, csum_offset);
    const ByteView ip{sp.data() + VirtioNetHdr::kSize, sp.size() - VirtioNetHdr::kSize};
    if (run.v6) {
        EXPECT_EQ(rd16(&ip[4]) + 40U, ip.size());
    } else {
        EXPECT_EQ(rd16(&ip[2]), ip.size());
        EXPECT_TRUE(testing::ref_ipv4_ok(ip));
    }
    if (run.udp) {
        EXPECT_EQ(rd16(&ip[run.l4_off + 4]), ip.size() - run.l4_off);  // UDP length
    }
    Bytes full(ip.begin(), ip.end());
    ASSERT_TRUE(complete_checksum(full, h.csum_start, h.csum_offset));
    EXPECT_TRUE(testing::ref_l4_ok(full));

    GsoPlan plan;
    ASSERT_TRUE(segment_plan(ip, h, plan));
    ASSERT_EQ(plan.segments, run.count);
    for (std::size_t i = 0; i < run.count; ++i) {
        PacketBuf out;
        ASSERT_TRUE(write_segment(ip, plan, i, out));
        EXPECT_EQ(to_hex(out.bytes()), to_hex(b.ptrs[i]->bytes())) << "packet " << i;
    }
}

class Coalesce : public ::testing::TestWithParam<bool> {};

TEST_P(Coalesce, RunRoundTripsThroughSegmentation) {
    const bool v6 = GetParam();
    const auto a = v6 ? testing::v6_addrs(1, 2) : testing::v4_addrs(0x0A630102, 0x0A630001);
    const Bytes ts = {1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0};
    Batch b = flow(a, {1200, 1200, 1200, 1200, 700}, true, ts);
    const CoalescedRun run = find_tcp_run(b.ptrs, 64);
    ASSERT_EQ(run.count, 5U);
    EXPECT_EQ(run.gso_size, 1200U);
    EXPECT_EQ(run.payload, 5500U);
    EXPECT_TRUE(run.psh);
    expect_round_trip(b, run, v6 ? kGsoTcpV6 : kGsoTcpV4, 16);
}

TEST_P(Coalesce, StopsWhereTheRulesSay) {
    const bool v6 = GetParam();
    const auto a = v6 ? testing::v6_addrs(1, 2) : testing::v4_addrs(0x0A630102, 0x0A630001);
    {  // a shorter segment ends the run
        Batch b = flow(a, {1000, 1000, 500, 1000}, false);
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 3U);
    }
    {  // a longer segment cannot follow
        Batch b = flow(a, {1000, 1200}, false);
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 1U);
    }
    {  // PSH closes the run
        Batch b = flow(a, {1000, 1000}, true);
        Batch c = flow(a, {1000, 1000, 1000}, false);
        c.ptrs[1]->data()[(v6 ? 40 : 20) + 13] |= kPsh;
        Bytes fixed(c.ptrs[1]->bytes().begin(), c.ptrs[1]->bytes().end());
        testing::ref_fill_checksums(fixed);
        ASSERT_TRUE(c.ptrs[1]->assign(fixed));
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 2U);
        EXPECT_EQ(find_tcp_run(c.ptrs, 64).count, 2U);
    }
    {  // the limit on packets per run
        Batch b = flow(a, {1000, 1000, 1000, 1000}, false);
        EXPECT_EQ(find_tcp_run(b.ptrs, 3).count, 3U);
        EXPECT_EQ(find_tcp_run(b.ptrs, 1).count, 1U);
    }
    {  // a sequence gap
        Batch b = flow(a, {1000, 1000}, false);
        Batch gap = flow(a, {1000, 1000, 1000}, false);
        b.ptrs[1] = gap.ptrs[2];
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 1U);
    }
    {  // another flow (port)
        Batch b = flow(a, {1000, 1000}, false);
        TcpFields t;
        t.sport = 40001;
        t.seq = 0x10000 + 1000;
        Batch other;
        other.add(testing::tcp_packet(a, t, pattern(1000)));
        b.ptrs[1] = other.ptrs[0];
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 1U);
    }
    {  // a wrong TCP checksum is never coalesced
        Batch b = flow(a, {1000, 1000, 1000}, false);
        b.ptrs[2]->data()[b.ptrs[2]->size() - 1] ^= 1;
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 2U);
        b.ptrs[0]->data()[b.ptrs[0]->size() - 1] ^= 1;
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 1U);
    }
    {  // SYN, FIN or no payload: alone
        TcpFields t;
        t.flags = kSyn;
        Batch b;
        b.add(testing::tcp_packet(a, t, {}));
        b.add(testing::tcp_packet(a, t, {}));
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 1U);
        Batch f = flow(a, {1000, 1000}, false);
        f.ptrs[0]->data()[(v6 ? 40 : 20) + 13] |= kFin;
        EXPECT_EQ(find_tcp_run(f.ptrs, 64).count, 1U);
    }
    {  // UDP is never coalesced
        Batch b;
        b.add(testing::udp_packet(a, 1, 2, pattern(100)));
        b.add(testing::udp_packet(a, 1, 2, pattern(100)));
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 1U);
    }
    {  // the result must stay within 65535 bytes of IP length: 64 KiB / 1400 = 46 segments
        std::vector<std::size_t> sizes(60, 1400);
        Batch b = flow(a, sizes, false);
        const CoalescedRun run = find_tcp_run(b.ptrs, 64);
        EXPECT_EQ(run.count, 46U);
        EXPECT_LE(run.hdr_len + run.payload, v6 ? 65535U + 40 : 65535U);
    }
}

INSTANTIATE_TEST_SUITE_P(Families, Coalesce, ::testing::Values(false, true),
                         [](const auto& pi) { return pi.param ? "IPv6" : "IPv4"; });

// ---- UDP

/// Datagrams of one flow: sizes[i] payload bytes each, IPv4 IDs counting from `id`.
Batch udp_flow(const testing::Addrs& a, const std::vector<std::size_t>& sizes,
               std::uint16_t id = 0xFFFD) {
    Batch b;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        b.add(testing::udp_packet(a, 4500, 443, pattern(sizes[i], i),
                                  static_cast<std::uint16_t>(id + i)));
    }
    return b;
}

/// Rewrites packet `i` of `b` with `edit` applied and its checksums made right again.
template <class Edit>
void edit_packet(Batch& b, std::size_t i, Edit edit) {
    Bytes p(b.ptrs[i]->bytes().begin(), b.ptrs[i]->bytes().end());
    edit(p);
    testing::ref_fill_checksums(p);
    ASSERT_TRUE(b.ptrs[i]->assign(p));
}

class CoalesceUdp : public ::testing::TestWithParam<bool> {};

TEST_P(CoalesceUdp, RunRoundTripsThroughSegmentation) {
    const bool v6 = GetParam();
    const auto a = v6 ? testing::v6_addrs(1, 2) : testing::v4_addrs(0x0A630102, 0x0A630001);
    Batch b = udp_flow(a, {1372, 1372, 1372, 1372, 1372, 1372, 1372, 600});  // IDs wrap at 3
    const CoalescedRun run = find_udp_run(b.ptrs, 64);
    ASSERT_EQ(run.count, 8U);
    EXPECT_TRUE(run.udp);
    EXPECT_EQ(run.gso_size, 1372U);
    EXPECT_EQ(run.payload, 7U * 1372 + 600);
    EXPECT_EQ(run.hdr_len, (v6 ? 40U : 20U) + 8);
    expect_round_trip(b, run, kGsoUdpL4, 6);
}

TEST_P(CoalesceUdp, StopsWhereTheRulesSay) {
    const bool v6 = GetParam();
    const auto a = v6 ? testing::v6_addrs(1, 2) : testing::v4_addrs(0x0A630102, 0x0A630001);
    const std::size_t l4 = v6 ? 40 : 20;
    {  // a shorter datagram ends the run; a longer one cannot follow
        Batch b = udp_flow(a, {1000, 1000, 500, 1000});
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 3U);
        Batch c = udp_flow(a, {1000, 1200});
        EXPECT_EQ(find_udp_run(c.ptrs, 64).count, 1U);
    }
    {  // the limit on packets per run
        Batch b = udp_flow(a, {1000, 1000, 1000, 1000});
        EXPECT_EQ(find_udp_run(b.ptrs, 3).count, 3U);
        EXPECT_EQ(find_udp_run(b.ptrs, 1).count, 1U);
    }
    {  // another flow: port, address, TOS / traffic class, TTL / hop limit
        const auto edits = {
                +[](Bytes& p, std::size_t at) { p[at + 1] ^= 1; },                  // source port
                +[](Bytes& p, std::size_t) { p[p[0] >> 4U == 6 ? 39 : 19] ^= 1; },  // dst address
                +[](Bytes& p, std::size_t) { p[1] ^= 0x10; },                       // TOS / TC
                +[](Bytes& p, std::size_t) { p[p[0] >> 4U == 6 ? 7 : 8] ^= 1; },    // TTL
        };
        for (auto* e : edits) {
            Batch b = udp_flow(a, {1000, 1000, 1000});
            edit_packet(b, 1, [&](Bytes& p) { e(p, l4); });
            EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 1U);
        }
    }
    {  // a wrong checksum is never coalesced, nor a missing one
        Batch b = udp_flow(a, {1000, 1000, 1000});
        b.ptrs[2]->data()[b.ptrs[2]->size() - 1] ^= 1;
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 2U);
        b.ptrs[0]->data()[b.ptrs[0]->size() - 1] ^= 1;
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 1U);
        Batch z = udp_flow(a, {1000, 1000});
        z.ptrs[1]->data()[l4 + 6] = 0;
        z.ptrs[1]->data()[l4 + 7] = 0;
        EXPECT_EQ(find_udp_run(z.ptrs, 64).count, 1U);
    }
    {  // no payload, or a UDP length that is not the IP length: alone
        Batch b = udp_flow(a, {0, 0});
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 1U);
        Batch c = udp_flow(a, {1000, 1000});
        edit_packet(c, 1, [&](Bytes& p) { p[l4 + 5] ^= 1; });
        EXPECT_EQ(find_udp_run(c.ptrs, 64).count, 1U);
    }
    {  // the result must stay within 65535 bytes of IP length: 64 KiB / 1400 = 46 datagrams
        std::vector<std::size_t> sizes(60, 1400);
        Batch b = udp_flow(a, sizes);
        const CoalescedRun run = find_udp_run(b.ptrs, 64);
        EXPECT_EQ(run.count, 46U);
        EXPECT_LE(run.hdr_len + run.payload, v6 ? 65535U + 40 : 65535U);
    }
    {  // TCP is not UDP
        Batch b = flow(a, {1000, 1000}, false);
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 1U);
    }
}

TEST(CoalesceUdpIds, Ipv4IdsMustCountUnlessDf) {
    const auto a = testing::v4_addrs(0x0A630102, 0x0A630001);
    const auto clear_df = [](Bytes& p) { p[6] = 0; };
    const auto same_id = [](Bytes& p) { testing::wr16(&p[4], 0xFFFD); };
    {  // with DF (as udp_packet makes them) the ID carries nothing: equal IDs coalesce
        Batch b = udp_flow(a, {1000, 1000, 1000});
        edit_packet(b, 1, same_id);
        edit_packet(b, 2, same_id);
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 3U);
    }
    {  // without DF they must count up, across the wrap
        Batch b = udp_flow(a, {1000, 1000, 1000, 1000});
        for (std::size_t i = 0; i < 4; ++i) {
            edit_packet(b, i, clear_df);
        }
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 4U);
        edit_packet(b, 2, same_id);
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 2U);
    }
    {  // DF on one but not the other: another flow
        Batch b = udp_flow(a, {1000, 1000});
        edit_packet(b, 1, clear_df);
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 1U);
    }
    {  // a fragment never coalesces
        Batch b = udp_flow(a, {1000, 1000});
        edit_packet(b, 0, [](Bytes& p) { p[6] = 0x20; });  // MF
        EXPECT_EQ(find_udp_run(b.ptrs, 64).count, 1U);
    }
}

TEST(CoalesceTcpIds, Ipv4IdsMustCountUnlessDf) {
    const auto a = testing::v4_addrs(0x0A630102, 0x0A630001);
    const auto clear_df = [](Bytes& p) { p[6] = 0; };
    const auto same_id = [](Bytes& p) { testing::wr16(&p[4], 50); };
    {  // with DF (as tcp_packet makes them) the ID carries nothing: equal IDs coalesce
        Batch b = flow(a, {1000, 1000, 1000}, false);
        edit_packet(b, 1, same_id);
        edit_packet(b, 2, same_id);
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 3U);
    }
    {  // without DF they must count up: the kernel's segmentation would rewrite others
        Batch b = flow(a, {1000, 1000, 1000, 1000}, false);
        for (std::size_t i = 0; i < 4; ++i) {
            edit_packet(b, i, clear_df);
        }
        const CoalescedRun run = find_tcp_run(b.ptrs, 64);
        ASSERT_EQ(run.count, 4U);
        expect_round_trip(b, run, kGsoTcpV4, 16);
        edit_packet(b, 2, same_id);
        EXPECT_EQ(find_tcp_run(b.ptrs, 64).count, 2U);
    }
}

TEST(CoalesceRun, DispatchesOnTheProtocolAndWhatTheDeviceTook) {
    const auto a = testing::v4_addrs(0x0A630102, 0x0A630001);
    const auto a6 = testing::v6_addrs(1, 2);
    Batch u4 = udp_flow(a, {1000, 1000});
    Batch u6 = udp_flow(a6, {1000, 1000});
    Batch t4 = flow(a, {1000, 1000}, false);
    CoalesceProtocols none;
    EXPECT_EQ(find_run(u4.ptrs, 64, none).count, 1U);
    EXPECT_EQ(find_run(t4.ptrs, 64, none).count, 2U);
    CoalesceProtocols only4;
    only4.udp_v4 = true;
    EXPECT_EQ(find_run(u4.ptrs, 64, only4).count, 2U);
    EXPECT_EQ(find_run(u6.ptrs, 64, only4).count, 1U);
    CoalesceProtocols only6;
    only6.udp_v6 = true;
    EXPECT_EQ(find_run(u6.ptrs, 64, only6).count, 2U);
    EXPECT_EQ(find_run(t4.ptrs, 64, only6).count, 2U);
    Batch one = udp_flow(a, {1000});
    EXPECT_EQ(find_run(one.ptrs, 64, only4).count, 1U);
    EXPECT_EQ(find_run({}, 64, only4).count, 0U);
}

INSTANTIATE_TEST_SUITE_P(Families, CoalesceUdp, ::testing::Values(false, true),
                         [](const auto& pi) { return pi.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace ikeplex::esp::io
