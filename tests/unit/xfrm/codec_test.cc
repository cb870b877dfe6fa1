// The XFRM codec without a kernel: builders checked field by field against the uapi structs
// (<linux/xfrm.h>), builder -> parser round trips, parsers fed crafted kernel messages and
// broken ones, the algorithm table and message names.
#include "kernel/xfrm/codec/codec.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include "kernel/xfrm/codec/uapi.h"

namespace ikeplex::kernel::xfrm {
namespace {

IpAddress ip(const char* s) {
    return IpAddress::parse(s).value();
}

SecretBytes key(std::size_t n, std::uint8_t first) {
    SecretBytes k(n);
    for (std::size_t i = 0; i < n; ++i) {
        k.mut_view()[i] = static_cast<std::uint8_t>(first + i);
    }
    return k;
}

Algorithm alg(const char* name, std::uint32_t icv, std::size_t key_len) {
    Algorithm a;
    a.name = name;
    a.icv_bits = icv;
    a.key = key(key_len, 0x10);
    return a;
}

Bytes ip_bytes(const char* s) {
    const IpAddress a = ip(s);
    return {a.bytes().begin(), a.bytes().end()};
}

/// The first n bytes of an xfrm_address_t.
Bytes addr_bytes(const xfrm_address_t& a, std::size_t n) {
    Bytes b(sizeof a);
    std::memcpy(b.data(), &a, sizeof a);
    b.resize(n);
    return b;
}

template <class T>
T read_at(ByteView b, std::size_t off = 0) {
    T t{};
    std::memset(&t, 0, sizeof t);
    EXPECT_LE(off + sizeof t, b.size());
    if (off + sizeof t <= b.size()) {
        std::memcpy(&t, b.data() + off, sizeof t);
    }
    return t;
}

/// The attributes after a fixed header of `header_len`, which must parse.
std::vector<netlink::Attr> attrs_of(ByteView body, std::size_t header_len) {
    auto a = netlink::parse_attrs(body, header_len);
    EXPECT_TRUE(a) << a.error().to_string();
    return a ? *a : std::vector<netlink::Attr>{};
}

SaSpec tunnel_sa() {
    SaSpec sa;
    sa.src = ip("192.0.2.1");
    sa.dst = ip("198.51.100.2");
    sa.spi = Spi(0xc1a2b3c4);
    sa.mode = XfrmMode::kTunnel;
    sa.reqid = 7;
    sa.aead = alg("rfc4106(gcm(aes))", 128, 36);
    return sa;
}

void put_addr(xfrm_address_t& a, const IpAddress& ipa) {
    std::memset(&a, 0, sizeof a);
    std::memcpy(&a, ipa.bytes().data(), ipa.size());
}

/// A payload: the fixed struct, then attributes (type, bytes) each padded to 4.
template <class T>
Bytes payload(const T& fixed, const std::vector<std::pair<std::uint16_t, Bytes>>& attrs = {}) {
    Bytes out(sizeof fixed);
    std::memcpy(out.data(), &fixed, sizeof fixed);
    for (const auto& [type, data] : attrs) {
        nlattr a{};
        a.nla_len = static_cast<std::uint16_t>(sizeof a + data.size());
        a.nla_type = type;
        const std::size_t at = out.size();
        out.resize(at + ((a.nla_len + 3U) & ~3U), 0);
        std::memcpy(out.data() + at, &a, sizeof a);
        std::copy(data.begin(), data.end(), out.begin() + static_cast<std::ptrdiff_t>(at + 4));
    }
    return out;
}

template <class T>
Bytes bytes_of(const T& t) {
    Bytes b(sizeof t);
    std::memcpy(b.data(), &t, sizeof t);
    return b;
}

// ---------------------------------------------------------------------------------------------
// SAs

TEST(BuildSa, FixedHeaderFields) {
    SaSpec sa = tunnel_sa();
    sa.seq = 99;
    sa.lifetime.soft_bytes = 1000;
    sa.lifetime.hard_packets = 5000;
    sa.lifetime.soft_add_seconds = 3000;
    sa.lifetime.hard_add_seconds = 3600;
    netlink::Request r = build_new_sa(sa, false);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.type(), XFRM_MSG_NEWSA);
    EXPECT_EQ(r.flags(), NLM_F_REQUEST);  // as iproute2: no CREATE / EXCL
    EXPECT_EQ(build_new_sa(sa, true).type(), XFRM_MSG_UPDSA);

    const auto info = read_at<xfrm_usersa_info>(r.body());
    EXPECT_EQ(info.family, AF_INET);
    EXPECT_EQ(info.id.proto, IPPROTO_ESP);
    EXPECT_EQ(info.mode, XFRM_MODE_TUNNEL);
    EXPECT_EQ(info.reqid, 7U);
    EXPECT_EQ(info.seq, 99U);
    // SPI big-endian on the wire.
    const auto* spi = reinterpret_cast<const std::uint8_t*>(&info.id.spi);
    EXPECT_EQ(spi[0], 0xc1);
    EXPECT_EQ(spi[3], 0xc4);
    EXPECT_EQ(addr_bytes(info.id.daddr, 4), ip_bytes("198.51.100.2"));
    EXPECT_EQ(addr_bytes(info.saddr, 4), ip_bytes("192.0.2.1"));
    // Lifetime: 0 = no limit (XFRM_INF) for bytes and packets, 0 = never for seconds.
    EXPECT_EQ(info.lft.soft_byte_limit, 1000U);
    EXPECT_EQ(info.lft.hard_byte_limit, XFRM_INF);
    EXPECT_EQ(info.lft.soft_packet_limit, XFRM_INF);
    EXPECT_EQ(info.lft.hard_packet_limit, 5000U);
    EXPECT_EQ(info.lft.soft_add_expires_seconds, 3000U);
    EXPECT_EQ(info.lft.hard_add_expires_seconds, 3600U);
    EXPECT_EQ(info.lft.soft_use_expires_seconds, 0U);
    EXPECT_EQ(info.lft.hard_use_expires_seconds, 0U);
    // Tunnel mode without selector: zero selector of the SA's family.
    EXPECT_EQ(info.sel.family, AF_INET);
    EXPECT_EQ(info.sel.prefixlen_d, 0);
    EXPECT_EQ(info.sel.proto, 0);

    SaSpec none = tunnel_sa();
    const auto lft = read_at<xfrm_usersa_info>(build_new_sa(none, false).body()).lft;
    EXPECT_EQ(lft.soft_byte_limit, XFRM_INF);
    EXPECT_EQ(lft.hard_packet_limit, XFRM_INF);
    EXPECT_EQ(lft.soft_add_expires_seconds, 0U);
    EXPECT_EQ(lft.hard_add_expires_seconds, 0U);
}

TEST(BuildSa, AeadAttribute) {
    netlink::Request r = build_new_sa(tunnel_sa(), false);
    const auto attrs = attrs_of(r.body(), sizeof(xfrm_usersa_info));
    ASSERT_EQ(attrs.size(), 1U);
    EXPECT_EQ(attrs[0].type, XFRMA_ALG_AEAD);
    ASSERT_EQ(attrs[0].data.size(), sizeof(xfrm_algo_aead) + 36);
    const auto a = read_at<xfrm_algo_aead>(attrs[0].data);
    EXPECT_STREQ(a.alg_name, "rfc4106(gcm(aes))");
    EXPECT_EQ(a.alg_key_len, 36U * 8);
    EXPECT_EQ(a.alg_icv_len, 128U);
    EXPECT_EQ(attrs[0].data[sizeof(xfrm_algo_aead)], 0x10);
    EXPECT_EQ(attrs[0].data[sizeof(xfrm_algo_aead) + 35], 0x10 + 35);
}

TEST(BuildSa, EncryptionAndIntegrityAttributes) {
    SaSpec sa = tunnel_sa();
    sa.aead.reset();
    sa.encryption = alg("cbc(aes)", 0, 16);
    sa.integrity = alg("hmac(sha256)", 128, 32);
    netlink::Request r = build_new_sa(sa, false);
    ASSERT_TRUE(r.ok());
    const auto attrs = attrs_of(r.body(), sizeof(xfrm_usersa_info));
    const auto crypt = netlink::find_attr(attrs, XFRMA_ALG_CRYPT);
    const auto auth = netlink::find_attr(attrs, XFRMA_ALG_AUTH_TRUNC);
    ASSERT_TRUE(crypt && auth);
    EXPECT_FALSE(netlink::find_attr(attrs, XFRMA_ALG_AEAD));
    ASSERT_EQ(crypt->size(), sizeof(xfrm_algo) + 16);
    const auto c = read_at<xfrm_algo>(*crypt);
    EXPECT_STREQ(c.alg_name, "cbc(aes)");
    EXPECT_EQ(c.alg_key_len, 128U);
    ASSERT_EQ(auth->size(), sizeof(xfrm_algo_auth) + 32);
    const auto a = read_at<xfrm_algo_auth>(*auth);
    EXPECT_STREQ(a.alg_name, "hmac(sha256)");
    EXPECT_EQ(a.alg_key_len, 256U);
    EXPECT_EQ(a.alg_trunc_len, 128U);
    EXPECT_EQ((*auth)[sizeof(xfrm_algo_auth) + 31], 0x10 + 31);
}

TEST(BuildSa, EsnUsesReplayEsnAttribute) {
    SaSpec sa = tunnel_sa();
    sa.esn = true;
    sa.replay_window = 1024;
    netlink::Request r = build_new_sa(sa, false);
    ASSERT_TRUE(r.ok());
    const auto info = read_at<xfrm_usersa_info>(r.body());
    EXPECT_EQ(info.flags & XFRM_STATE_ESN, XFRM_STATE_ESN);
    EXPECT_EQ(info.replay_window, 0);  // the kernel refuses it together with the attribute
    const auto attrs = attrs_of(r.body(), sizeof info);
    const auto esn = netlink::find_attr(attrs, XFRMA_REPLAY_ESN_VAL);
    ASSERT_TRUE(esn);
    const auto e = read_at<xfrm_replay_state_esn>(*esn);
    EXPECT_EQ(e.bmp_len, 1024U / 32);
    EXPECT_EQ(e.replay_window, 1024U);
    EXPECT_EQ(e.oseq, 0U);
    EXPECT_EQ(e.seq, 0U);
    EXPECT_EQ(e.oseq_hi, 0U);
    EXPECT_EQ(e.seq_hi, 0U);
    ASSERT_EQ(esn->size(), sizeof(xfrm_replay_state_esn) + std::size_t{32} * 4);
    for (std::size_t i = sizeof(xfrm_replay_state_esn); i < esn->size(); ++i) {
        ASSERT_EQ((*esn)[i], 0);
    }
}

TEST(BuildSa, WideNonEsnWindowUsesAttributeWithoutEsnFlag) {
    SaSpec sa = tunnel_sa();
    sa.replay_window = 100;  // beyond the 32-bit legacy bitmap
    netlink::Request r = build_new_sa(sa, false);
    const auto info = read_at<xfrm_usersa_info>(r.body());
    EXPECT_EQ(info.flags & XFRM_STATE_ESN, 0);
    EXPECT_EQ(info.replay_window, 0);
    const auto esn = netlink::find_attr(attrs_of(r.body(), sizeof info), XFRMA_REPLAY_ESN_VAL);
    ASSERT_TRUE(esn);
    EXPECT_EQ(read_at<xfrm_replay_state_esn>(*esn).bmp_len, 4U);  // ceil(100 / 32)
    EXPECT_EQ(read_at<xfrm_replay_state_esn>(*esn).replay_window, 100U);
}

TEST(BuildSa, SmallWindowUsesLegacyField) {
    SaSpec sa = tunnel_sa();
    sa.replay_window = 32;
    netlink::Request r = build_new_sa(sa, false);
    const auto info = read_at<xfrm_usersa_info>(r.body());
    EXPECT_EQ(info.replay_window, 32);
    EXPECT_EQ(info.flags, 0);
    EXPECT_FALSE(netlink::find_attr(attrs_of(r.body(), sizeof info), XFRMA_REPLAY_ESN_VAL));
}

TEST(BuildSa, OutboundSaWithDirectionHasNoWindow) {
    SaSpec sa = tunnel_sa();
    sa.replay_window = 32;
    sa.direction = kXfrmSaDirOut;
    netlink::Request r = build_new_sa(sa, false);
    auto info = read_at<xfrm_usersa_info>(r.body());
    EXPECT_EQ(info.replay_window, 0);
    auto attrs = attrs_of(r.body(), sizeof info);
    EXPECT_FALSE(netlink::find_attr(attrs, XFRMA_REPLAY_ESN_VAL));
    const auto dir = netlink::find_attr(attrs, kXfrmaSaDir);
    ASSERT_TRUE(dir);
    ASSERT_EQ(dir->size(), 1U);
    EXPECT_EQ((*dir)[0], kXfrmSaDirOut);

    sa.esn = true;
    sa.replay_window = 1024;
    netlink::Request esn = build_new_sa(sa, false);
    info = read_at<xfrm_usersa_info>(esn.body());
    EXPECT_EQ(info.flags & XFRM_STATE_ESN, XFRM_STATE_ESN);
    attrs = attrs_of(esn.body(), sizeof info);
    const auto e = netlink::find_attr(attrs, XFRMA_REPLAY_ESN_VAL);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->size(), sizeof(xfrm_replay_state_esn));
    EXPECT_EQ(read_at<xfrm_replay_state_esn>(*e).bmp_len, 0U);
    EXPECT_EQ(read_at<xfrm_replay_state_esn>(*e).replay_window, 0U);
}

TEST(BuildSa, EncapPcpuAndDirection) {
    SaSpec sa = tunnel_sa();
    sa.encap = Encap{4500, 4501, IpAddress{}};
    sa.pcpu = 3;
    sa.direction = kXfrmSaDirIn;
    netlink::Request r = build_new_sa(sa, false);
    const auto attrs = attrs_of(r.body(), sizeof(xfrm_usersa_info));
    const auto encap = netlink::find_attr(attrs, XFRMA_ENCAP);
    ASSERT_TRUE(encap);
    ASSERT_EQ(encap->size(), sizeof(xfrm_encap_tmpl));
    EXPECT_EQ(read_at<xfrm_encap_tmpl>(*encap).encap_type, UDP_ENCAP_ESPINUDP);
    // struct xfrm_encap_tmpl: u16 type, be16 sport, be16 dport.
    EXPECT_EQ((*encap)[2], 0x11);  // 4500 = 0x1194
    EXPECT_EQ((*encap)[3], 0x94);
    EXPECT_EQ((*encap)[4], 0x11);
    EXPECT_EQ((*encap)[5], 0x95);
    const auto pcpu = netlink::find_attr(attrs, kXfrmaSaPcpu);
    ASSERT_TRUE(pcpu);
    EXPECT_EQ(read_at<std::uint32_t>(*pcpu), 3U);
    const auto dir = netlink::find_attr(attrs, kXfrmaSaDir);
    ASSERT_TRUE(dir);
    EXPECT_EQ((*dir)[0], kXfrmSaDirIn);
    // u8 attribute: nla_len 5, padded to 8 in the message.
    EXPECT_EQ(r.body().size() % 4, 0U);
}

TEST(BuildSa, RoundTripThroughParseSa) {
    for (const bool v6 : {false, true}) {
        SaSpec sa = tunnel_sa();
        if (v6) {
            sa.src = ip("2001:db8::1");
            sa.dst = ip("2001:db8::2");
        }
        sa.mode = XfrmMode::kTransport;
        sa.selector.src = sa.src;
        sa.selector.dst = sa.dst;
        sa.selector.src_len = v6 ? 128 : 32;
        sa.selector.dst_len = v6 ? 128 : 32;
        sa.selector.proto = IPPROTO_UDP;
        sa.selector.sport = 53;
        sa.selector.sport_mask = 0xffff;
        sa.selector.family = v6 ? AF_INET6 : AF_INET;
        sa.encap = Encap{4500, 4500, v6 ? ip("2001:db8::99") : ip("10.0.0.99")};
        sa.pcpu = 5;
        sa.direction = kXfrmSaDirIn;
        sa.replay_window = 256;
        sa.esn = true;
        sa.seq = 1234;
        netlink::Request r = build_new_sa(sa, false);
        ASSERT_TRUE(r.ok());
        auto info = parse_sa(r.body());
        ASSERT_TRUE(info) << info.error().to_string();
        EXPECT_EQ(info->src, sa.src);
        EXPECT_EQ(info->dst, sa.dst);
        EXPECT_EQ(info->spi, sa.spi);
        EXPECT_EQ(info->proto, IPPROTO_ESP);
        EXPECT_EQ(info->mode, XfrmMode::kTransport);
        EXPECT_EQ(info->reqid, sa.reqid);
        EXPECT_EQ(info->seq, 1234U);
        EXPECT_EQ(info->flags, XFRM_STATE_ESN);
        EXPECT_EQ(info->replay_window, 256U);
        EXPECT_EQ(info->selector, sa.selector);
        EXPECT_EQ(info->encap, sa.encap);
        EXPECT_EQ(info->pcpu, sa.pcpu);
        EXPECT_EQ(info->direction, sa.direction);
    }

    SaSpec plain = tunnel_sa();
    plain.replay_window = 16;
    auto info = parse_sa(build_new_sa(plain, false).body());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->replay_window, 16U);
    EXPECT_EQ(info->mode, XfrmMode::kTunnel);
    EXPECT_FALSE(info->encap);
    EXPECT_FALSE(info->pcpu);
    EXPECT_FALSE(info->direction);
}

// MOBIKE moves an SA by delete and re-add: the new SA carries the old one's replay state and
// used lifetime (XFRMA_REPLAY_VAL / XFRMA_REPLAY_ESN_VAL, XFRMA_LTIME_VAL), only the fields its
// direction may have (Linux 6.10+ refuses the others with XFRMA_SA_DIR); UPDSA carries none.
TEST(BuildSa, CarriedOverReplayStateAndLifetime) {
    SaSpec legacy = tunnel_sa();
    legacy.replay_window = 32;
    legacy.replay = ReplayState{7, 41, {0xfffffff0U}};
    legacy.used = LifetimeUsed{1400, 12, 1700000000, 1700000100};
    netlink::Request r = build_new_sa(legacy, false);
    ASSERT_TRUE(r.ok());
    auto info = parse_sa(r.body());
    ASSERT_TRUE(info) << info.error().to_string();
    EXPECT_EQ(info->replay, legacy.replay);  // no direction: everything as it was
    const auto attrs = netlink::parse_attrs(r.body(), sizeof(xfrm_usersa_info)).value();
    const auto lt = netlink::find_attr(attrs, XFRMA_LTIME_VAL);
    ASSERT_TRUE(lt.has_value());
    const auto cur = read_at<xfrm_lifetime_cur>(*lt);
    EXPECT_EQ(cur.bytes, 1400U);
    EXPECT_EQ(cur.packets, 12U);
    EXPECT_EQ(cur.add_time, 1700000000U);
    const auto upd =
            netlink::parse_attrs(build_new_sa(legacy, true).body(), sizeof(xfrm_usersa_info))
                    .value();
    EXPECT_FALSE(netlink::find_attr(upd, XFRMA_REPLAY_VAL).has_value());
    EXPECT_FALSE(netlink::find_attr(upd, XFRMA_LTIME_VAL).has_value());

    SaSpec esn_in = tunnel_sa();
    esn_in.esn = true;
    esn_in.replay_window = 64;
    esn_in.direction = kXfrmSaDirIn;
    esn_in.replay = ReplayState{
            (std::uint64_t{1} << 32) + 5, (std::uint64_t{2} << 32) + 9, {0x1U, 0x80000000U}};
    info = parse_sa(build_new_sa(esn_in, false).body());
    ASSERT_TRUE(info) << info.error().to_string();
    ASSERT_TRUE(info->replay.has_value());
    EXPECT_EQ(info->replay->oseq, 0U);  // inbound: no oseq
    EXPECT_EQ(info->replay->seq, (std::uint64_t{2} << 32) + 9);
    EXPECT_EQ(info->replay->bitmap, (std::vector<std::uint32_t>{0x1U, 0x80000000U}));
    EXPECT_EQ(info->replay_window, 64U);

    SaSpec esn_out = tunnel_sa();
    esn_out.esn = true;
    esn_out.replay_window = 64;
    esn_out.replay = esn_in.replay;
    esn_out.direction = kXfrmSaDirOut;
    info = parse_sa(build_new_sa(esn_out, false).body());
    ASSERT_TRUE(info) << info.error().to_string();
    ASSERT_TRUE(info->replay.has_value());
    EXPECT_EQ(info->replay->oseq, (std::uint64_t{1} << 32) + 5);
    EXPECT_EQ(info->replay->seq, 0U);
    EXPECT_TRUE(std::all_of(info->replay->bitmap.begin(), info->replay->bitmap.end(),
                            [](std::uint32_t w) { return w == 0; }));
}

TEST(BuildSa, RefusesWhatTheKernelCannotTake) {
    SaSpec mixed = tunnel_sa();
    mixed.dst = ip("2001:db8::2");
    EXPECT_FALSE(build_new_sa(mixed, false).ok());

    SaSpec unset = tunnel_sa();
    unset.src = IpAddress{};
    EXPECT_FALSE(build_new_sa(unset, false).ok());

    SaSpec both = tunnel_sa();
    both.encryption = alg("cbc(aes)", 0, 16);
    EXPECT_FALSE(build_new_sa(both, false).ok());

    SaSpec long_name = tunnel_sa();
    long_name.aead->name = std::string(64, 'a');
    EXPECT_FALSE(build_new_sa(long_name, false).ok());
    long_name.aead->name = std::string(63, 'a');
    EXPECT_TRUE(build_new_sa(long_name, false).ok());

    SaSpec huge_window = tunnel_sa();
    huge_window.replay_window = XFRMA_REPLAY_ESN_MAX + 1;
    EXPECT_FALSE(build_new_sa(huge_window, false).ok());
    huge_window.replay_window = XFRMA_REPLAY_ESN_MAX;
    EXPECT_TRUE(build_new_sa(huge_window, false).ok());
}

TEST(BuildSa, IdRequests) {
    for (const bool del : {true, false}) {
        netlink::Request r = del ? build_del_sa(ip("2001:db8::2"), Spi(0x01020304))
                                 : build_get_sa(ip("2001:db8::2"), Spi(0x01020304));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.type(), del ? XFRM_MSG_DELSA : XFRM_MSG_GETSA);
        EXPECT_EQ(r.flags(), NLM_F_REQUEST);
        ASSERT_EQ(r.body().size(), sizeof(xfrm_usersa_id));  // 23 bytes + 1 of padding
        const auto id = read_at<xfrm_usersa_id>(r.body());
        EXPECT_EQ(id.family, AF_INET6);
        EXPECT_EQ(id.proto, IPPROTO_ESP);
        EXPECT_EQ(ntohl(id.spi), 0x01020304U);
        EXPECT_EQ(addr_bytes(id.daddr, 16), ip_bytes("2001:db8::2"));
        auto parsed = parse_sa_id(r.body());
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->dst, ip("2001:db8::2"));
        EXPECT_EQ(parsed->spi, Spi(0x01020304));
        EXPECT_EQ(parsed->proto, IPPROTO_ESP);
    }
    netlink::Request dump = build_dump_sa();
    EXPECT_EQ(dump.type(), XFRM_MSG_GETSA);
    EXPECT_EQ(dump.flags(), NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_TRUE(dump.body().empty());
}

TEST(BuildSa, AllocSpi) {
    netlink::Request r = build_alloc_spi(ip("192.0.2.1"), ip("198.51.100.2"), 0x100, 0x200, 9, 2u);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.type(), XFRM_MSG_ALLOCSPI);
    const auto u = read_at<xfrm_userspi_info>(r.body());
    EXPECT_EQ(u.min, 0x100U);
    EXPECT_EQ(u.max, 0x200U);
    EXPECT_EQ(u.info.family, AF_INET);
    EXPECT_EQ(u.info.reqid, 9U);
    EXPECT_EQ(u.info.id.proto, IPPROTO_ESP);
    EXPECT_EQ(u.info.id.spi, 0U);
    EXPECT_EQ(addr_bytes(u.info.id.daddr, 4), ip_bytes("198.51.100.2"));
    EXPECT_EQ(addr_bytes(u.info.saddr, 4), ip_bytes("192.0.2.1"));
    const auto pcpu = netlink::find_attr(attrs_of(r.body(), sizeof u), kXfrmaSaPcpu);
    ASSERT_TRUE(pcpu);
    EXPECT_EQ(read_at<std::uint32_t>(*pcpu), 2U);

    netlink::Request no_cpu = build_alloc_spi(ip("192.0.2.1"), ip("198.51.100.2"), 1, 2);
    EXPECT_EQ(no_cpu.body().size(), sizeof(xfrm_userspi_info));
    EXPECT_FALSE(build_alloc_spi(ip("192.0.2.1"), ip("2001:db8::2"), 1, 2).ok());
}

// ---------------------------------------------------------------------------------------------
// Policies

PolicySpec tunnel_policy() {
    PolicySpec p;
    p.selector.src = ip("10.1.0.0");
    p.selector.src_len = 16;
    p.selector.dst = ip("10.2.0.0");
    p.selector.dst_len = 16;
    p.selector.proto = IPPROTO_TCP;
    p.selector.sport = 1000;
    p.selector.sport_mask = 0xffff;
    p.selector.dport = 2000;
    p.selector.dport_mask = 0xffff;
    p.selector.family = AF_INET;
    p.dir = Dir::kOut;
    p.priority = 100;
    Template t;
    t.src = ip("2001:db8::1");  // IPv4 in IPv6
    t.dst = ip("2001:db8::2");
    t.reqid = 5;
    t.mode = XfrmMode::kTunnel;
    p.templates.push_back(t);
    return p;
}

TEST(BuildPolicy, FieldsAsIproute2SendsThem) {
    netlink::Request r = build_new_policy(tunnel_policy(), false);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.type(), XFRM_MSG_NEWPOLICY);
    EXPECT_EQ(r.flags(), NLM_F_REQUEST);
    EXPECT_EQ(build_new_policy(tunnel_policy(), true).type(), XFRM_MSG_UPDPOLICY);
    const auto info = read_at<xfrm_userpolicy_info>(r.body());
    EXPECT_EQ(info.sel.family, AF_INET);
    EXPECT_EQ(info.sel.prefixlen_s, 16);
    EXPECT_EQ(info.sel.prefixlen_d, 16);
    // Ports big-endian: 2000 = 0x07d0, 1000 = 0x03e8 (struct order: dport, mask, sport, mask).
    const ByteView b = r.body();
    EXPECT_EQ(b[32], 0x07);
    EXPECT_EQ(b[33], 0xd0);
    EXPECT_EQ(b[34], 0xff);
    EXPECT_EQ(b[36], 0x03);
    EXPECT_EQ(b[37], 0xe8);
    EXPECT_EQ(info.lft.soft_byte_limit, XFRM_INF);
    EXPECT_EQ(info.lft.hard_packet_limit, XFRM_INF);
    EXPECT_EQ(info.lft.hard_add_expires_seconds, 0U);
    EXPECT_EQ(info.priority, 100U);
    EXPECT_EQ(info.dir, XFRM_POLICY_OUT);
    EXPECT_EQ(info.action, XFRM_POLICY_ALLOW);
    const auto tmpl = netlink::find_attr(attrs_of(b, sizeof info), XFRMA_TMPL);
    ASSERT_TRUE(tmpl);
    ASSERT_EQ(tmpl->size(), sizeof(xfrm_user_tmpl));
    const auto t = read_at<xfrm_user_tmpl>(*tmpl);
    EXPECT_EQ(t.family, AF_INET6);  // the outer family, not the selector's
    EXPECT_EQ(t.reqid, 5U);
    EXPECT_EQ(t.mode, XFRM_MODE_TUNNEL);
    EXPECT_EQ(t.id.proto, IPPROTO_ESP);
    EXPECT_EQ(t.aalgos, ~0U);
    EXPECT_EQ(t.ealgos, ~0U);
    EXPECT_EQ(t.calgos, ~0U);
    EXPECT_EQ(t.optional, 0);
}

TEST(BuildPolicy, RoundTripThroughParsePolicy) {
    PolicySpec tunnel = tunnel_policy();
    tunnel.flags = kXfrmPolicyCpuAcquire;
    tunnel.index = 0x1234;

    PolicySpec transport;
    transport.selector.src = ip("2001:db8::1");
    transport.selector.dst = ip("2001:db8::2");
    transport.selector.src_len = 128;
    transport.selector.dst_len = 128;
    transport.selector.family = AF_INET6;
    transport.dir = Dir::kIn;
    Template t;
    t.mode = XfrmMode::kTransport;
    t.reqid = 3;
    t.spi = Spi(0xabcdef01);
    transport.templates.push_back(t);

    PolicySpec block;
    block.selector.src = ip("10.9.0.0");
    block.selector.src_len = 24;
    block.selector.dst = ip("0.0.0.0");
    block.selector.family = AF_INET;
    block.dir = Dir::kFwd;
    block.action = XFRM_POLICY_BLOCK;

    PolicySpec two = tunnel_policy();
    two.templates.push_back(two.templates.front());
    two.templates.back().reqid = 6;
    two.templates.back().optional = true;

    for (const PolicySpec& p : {tunnel, transport, block, two}) {
        netlink::Request r = build_new_policy(p, false);
        ASSERT_TRUE(r.ok());
        auto back = parse_policy(r.body());
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_EQ(*back, p);
    }
    // The transport template travels with the selector's family and zero addresses.
    const netlink::Request tr = build_new_policy(transport, false);
    const auto tmpl =
            netlink::find_attr(attrs_of(tr.body(), sizeof(xfrm_userpolicy_info)), XFRMA_TMPL);
    ASSERT_TRUE(tmpl);
    EXPECT_EQ(read_at<xfrm_user_tmpl>(*tmpl).family, AF_INET6);
    EXPECT_EQ(ntohl(read_at<xfrm_user_tmpl>(*tmpl).id.spi), 0xabcdef01U);
}

TEST(BuildPolicy, SelectorFamilyFromAddresses) {
    PolicySpec p = tunnel_policy();
    p.selector.family = 0;
    netlink::Request r = build_new_policy(p, false);
    EXPECT_EQ(read_at<xfrm_userpolicy_info>(r.body()).sel.family, AF_INET);
    auto back = parse_policy(r.body());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->selector.family, AF_INET);  // the parser reports the message's
}

TEST(BuildPolicy, DeleteAndDump) {
    Selector sel = tunnel_policy().selector;
    netlink::Request r = build_del_policy(sel, Dir::kFwd);
    EXPECT_EQ(r.type(), XFRM_MSG_DELPOLICY);
    EXPECT_EQ(r.flags(), NLM_F_REQUEST);
    ASSERT_EQ(r.body().size(), sizeof(xfrm_userpolicy_id));
    const auto id = read_at<xfrm_userpolicy_id>(r.body());
    EXPECT_EQ(id.dir, XFRM_POLICY_FWD);
    EXPECT_EQ(id.index, 0U);
    EXPECT_EQ(id.sel.family, AF_INET);
    EXPECT_EQ(id.sel.proto, IPPROTO_TCP);
    EXPECT_EQ(ntohs(id.sel.sport), 1000);

    netlink::Request dump = build_dump_policy();
    EXPECT_EQ(dump.type(), XFRM_MSG_GETPOLICY);
    EXPECT_EQ(dump.flags(), NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_TRUE(dump.body().empty());
}

// ---------------------------------------------------------------------------------------------
// Parsers on crafted kernel messages

xfrm_usersa_info kernel_sa() {
    xfrm_usersa_info info{};
    std::memset(&info, 0, sizeof info);
    put_addr(info.id.daddr, ip("198.51.100.2"));
    put_addr(info.saddr, ip("192.0.2.1"));
    info.id.spi = htonl(0x11223344);
    info.id.proto = IPPROTO_ESP;
    info.family = AF_INET;
    info.mode = XFRM_MODE_TUNNEL;
    info.reqid = 4;
    info.replay_window = 32;
    info.sel.family = AF_INET;
    info.curlft.bytes = 1500;
    info.curlft.packets = 3;
    info.curlft.add_time = 1700000000;
    info.stats.replay = 2;
    info.stats.integrity_failed = 1;
    info.stats.replay_window = 7;
    return info;
}

TEST(ParseSa, CountersAndAttributes) {
    xfrm_encap_tmpl e{};
    std::memset(&e, 0, sizeof e);
    e.encap_type = UDP_ENCAP_ESPINUDP;
    e.encap_sport = htons(4500);
    e.encap_dport = htons(34567);
    const std::uint32_t cpu = 9;
    const Bytes p = payload(kernel_sa(), {{XFRMA_ENCAP, bytes_of(e)},
                                          {kXfrmaSaPcpu, bytes_of(cpu)},
                                          {kXfrmaSaDir, Bytes{kXfrmSaDirOut}}});
    auto sa = parse_sa(p);
    ASSERT_TRUE(sa) << sa.error().to_string();
    EXPECT_EQ(sa->spi, Spi(0x11223344));
    EXPECT_EQ(sa->replay_window, 32U);
    EXPECT_EQ(sa->counters.bytes, 1500U);
    EXPECT_EQ(sa->counters.packets, 3U);
    EXPECT_EQ(sa->counters.add_time, 1700000000U);
    EXPECT_EQ(sa->counters.replay, 2U);
    EXPECT_EQ(sa->counters.integrity_failed, 1U);
    EXPECT_EQ(sa->counters.replay_window, 7U);
    ASSERT_TRUE(sa->encap);
    EXPECT_EQ(sa->encap->sport, 4500);
    EXPECT_EQ(sa->encap->dport, 34567);
    EXPECT_FALSE(sa->encap->original.is_set());
    EXPECT_EQ(sa->pcpu, 9U);
    EXPECT_EQ(sa->direction, kXfrmSaDirOut);
    EXPECT_EQ(sa->selector.family, AF_INET);
    EXPECT_EQ(sa->selector.src, IpAddress::any(4));
}

TEST(ParseSa, Errors) {
    const Bytes good = payload(kernel_sa());
    ASSERT_TRUE(parse_sa(good));
    EXPECT_EQ(parse_sa(ByteView(good).first(good.size() - 1)).error().code, Errc::kTruncated);
    EXPECT_EQ(parse_sa({}).error().code, Errc::kTruncated);

    xfrm_usersa_info bad_family = kernel_sa();
    bad_family.family = AF_UNIX;
    EXPECT_EQ(parse_sa(payload(bad_family)).error().code, Errc::kInvalidSyntax);

    xfrm_usersa_info bad_sel = kernel_sa();
    bad_sel.sel.family = 99;
    EXPECT_EQ(parse_sa(payload(bad_sel)).error().code, Errc::kInvalidSyntax);

    // Attributes too short for what they carry.
    EXPECT_EQ(parse_sa(payload(kernel_sa(), {{XFRMA_ENCAP, Bytes(8, 0)}})).error().code,
              Errc::kBadLength);
    EXPECT_EQ(parse_sa(payload(kernel_sa(), {{kXfrmaSaPcpu, Bytes(2, 0)}})).error().code,
              Errc::kBadLength);
    EXPECT_EQ(parse_sa(payload(kernel_sa(), {{kXfrmaSaDir, Bytes{}}})).error().code,
              Errc::kBadLength);
    EXPECT_EQ(parse_sa(payload(kernel_sa(), {{XFRMA_REPLAY_ESN_VAL, Bytes(20, 0)}})).error().code,
              Errc::kBadLength);

    // An attribute header claiming more than there is.
    Bytes past = payload(kernel_sa(), {{kXfrmaSaPcpu, Bytes(4, 0)}});
    past[sizeof(xfrm_usersa_info)] = 200;
    EXPECT_EQ(parse_sa(past).error().code, Errc::kBadLength);
}

TEST(ParseSa, SelectorOfBothFamilies) {
    // strongSwan installs tunnel-mode SAs with XFRM_STATE_AF_UNSPEC and selector family 0.
    xfrm_usersa_info info = kernel_sa();
    info.sel.family = AF_UNSPEC;
    info.flags = XFRM_STATE_AF_UNSPEC;
    auto sa = parse_sa(payload(info));
    ASSERT_TRUE(sa) << sa.error().to_string();
    EXPECT_EQ(sa->selector.family, 0);
    EXPECT_FALSE(sa->selector.src.is_set());

    // A larval SA (ALLOCSPI, acquire): selector family 0, yet the SA's addresses as /32.
    xfrm_usersa_info larval = kernel_sa();
    larval.sel.family = AF_UNSPEC;
    put_addr(larval.sel.saddr, ip("192.0.2.1"));
    put_addr(larval.sel.daddr, ip("198.51.100.2"));
    larval.sel.prefixlen_s = 32;
    larval.sel.prefixlen_d = 32;
    sa = parse_sa(payload(larval));
    ASSERT_TRUE(sa) << sa.error().to_string();
    EXPECT_EQ(sa->selector.family, 0);
    EXPECT_EQ(sa->selector.src, ip("192.0.2.1"));
    EXPECT_EQ(sa->selector.dst, ip("198.51.100.2"));
    EXPECT_EQ(sa->selector.src_len, 32);
}

TEST(ParseSaId, AndErrors) {
    xfrm_usersa_id id{};
    std::memset(&id, 0, sizeof id);
    put_addr(id.daddr, ip("2001:db8::7"));
    id.spi = htonl(0xdeadbeef);
    id.family = AF_INET6;
    id.proto = IPPROTO_ESP;
    // A DELSA notification: the id, then XFRMA_SA with the whole SA.
    const Bytes p = payload(id, {{XFRMA_SA, bytes_of(kernel_sa())}});
    auto got = parse_sa_id(p);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->dst, ip("2001:db8::7"));
    EXPECT_EQ(got->spi, Spi(0xdeadbeef));
    EXPECT_EQ(parse_sa_id(ByteView(p).first(20)).error().code, Errc::kTruncated);
    id.family = 0;
    EXPECT_EQ(parse_sa_id(payload(id)).error().code, Errc::kInvalidSyntax);
}

xfrm_user_acquire kernel_acquire() {
    xfrm_user_acquire ua{};
    std::memset(&ua, 0, sizeof ua);
    put_addr(ua.id.daddr, ip("2001:db8::2"));
    ua.id.proto = IPPROTO_ESP;
    put_addr(ua.saddr, ip("2001:db8::1"));
    put_addr(ua.sel.saddr, ip("10.1.0.5"));
    put_addr(ua.sel.daddr, ip("10.2.0.9"));
    ua.sel.family = AF_INET;
    ua.sel.prefixlen_s = 32;
    ua.sel.prefixlen_d = 32;
    ua.sel.proto = IPPROTO_TCP;
    ua.sel.sport = htons(40000);
    ua.sel.sport_mask = 0xffff;
    ua.sel.dport = htons(443);
    ua.sel.dport_mask = 0xffff;
    ua.policy.sel.family = AF_INET;
    ua.policy.index = 0x49;
    ua.policy.dir = XFRM_POLICY_OUT;
    ua.aalgos = ~0U;
    ua.seq = 77;
    return ua;
}

TEST(ParseAcquire, OuterFamilyFromTemplate) {
    xfrm_user_tmpl t{};
    std::memset(&t, 0, sizeof t);
    put_addr(t.id.daddr, ip("2001:db8::2"));
    put_addr(t.saddr, ip("2001:db8::1"));
    t.family = AF_INET6;
    t.reqid = 12;
    t.mode = XFRM_MODE_TUNNEL;
    const std::uint32_t cpu = 1;
    const Bytes p =
            payload(kernel_acquire(), {{XFRMA_TMPL, bytes_of(t)}, {kXfrmaSaPcpu, bytes_of(cpu)}});
    auto a = parse_acquire(p);
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->src, ip("2001:db8::1"));
    EXPECT_EQ(a->dst, ip("2001:db8::2"));
    EXPECT_EQ(a->proto, IPPROTO_ESP);
    EXPECT_EQ(a->reqid, 12U);
    EXPECT_EQ(a->seq, 77U);
    EXPECT_EQ(a->policy_index, 0x49U);
    EXPECT_EQ(a->policy_dir, Dir::kOut);
    EXPECT_EQ(a->pcpu, 1U);
    EXPECT_EQ(a->selector.src, ip("10.1.0.5"));
    EXPECT_EQ(a->selector.dst, ip("10.2.0.9"));
    EXPECT_EQ(a->selector.sport, 40000);
    EXPECT_EQ(a->selector.dport, 443);
    EXPECT_EQ(a->selector.proto, IPPROTO_TCP);
    EXPECT_EQ(a->selector.family, AF_INET);

    // Without template (not sent by the kernel, but tolerated): the selector's family.
    xfrm_user_acquire v4 = kernel_acquire();
    put_addr(v4.id.daddr, ip("198.51.100.2"));
    put_addr(v4.saddr, ip("192.0.2.1"));
    auto b = parse_acquire(payload(v4));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->dst, ip("198.51.100.2"));
    EXPECT_EQ(b->reqid, 0U);
    EXPECT_FALSE(b->pcpu);
}

TEST(ParseAcquire, Errors) {
    const Bytes p = payload(kernel_acquire());
    EXPECT_EQ(parse_acquire(ByteView(p).first(p.size() - 4)).error().code, Errc::kTruncated);
    EXPECT_EQ(parse_acquire(payload(kernel_acquire(), {{XFRMA_TMPL, Bytes(63, 0)}})).error().code,
              Errc::kBadLength);
    xfrm_user_acquire nofamily = kernel_acquire();
    nofamily.sel.family = 0;
    nofamily.policy.sel.family = 0;
    EXPECT_EQ(parse_acquire(payload(nofamily)).error().code, Errc::kInvalidSyntax);
}

TEST(ParseExpire, AttributesAfterPaddedStruct) {
    static_assert(sizeof(xfrm_user_expire) == sizeof(xfrm_usersa_info) + 8);
    xfrm_user_expire ue{};
    std::memset(&ue, 0, sizeof ue);
    ue.state = kernel_sa();
    ue.hard = 1;
    const std::uint32_t cpu = 4;
    const Bytes p = payload(ue, {{kXfrmaSaPcpu, bytes_of(cpu)}});
    auto e = parse_expire(p);
    ASSERT_TRUE(e) << e.error().to_string();
    EXPECT_TRUE(e->hard);
    EXPECT_EQ(e->sa.spi, Spi(0x11223344));
    EXPECT_EQ(e->sa.pcpu, 4U);
    ue.hard = 0;
    auto soft = parse_expire(payload(ue));
    ASSERT_TRUE(soft);
    EXPECT_FALSE(soft->hard);
    EXPECT_EQ(parse_expire(ByteView(p).first(sizeof(xfrm_usersa_info) + 1)).error().code,
              Errc::kTruncated);
}

TEST(ParseMapping, Fields) {
    xfrm_user_mapping um{};
    std::memset(&um, 0, sizeof um);
    put_addr(um.id.daddr, ip("192.0.2.1"));
    um.id.spi = htonl(0xaabbccdd);
    um.id.family = AF_INET;
    um.id.proto = IPPROTO_ESP;
    um.reqid = 8;
    put_addr(um.old_saddr, ip("203.0.113.5"));
    put_addr(um.new_saddr, ip("203.0.113.6"));
    um.old_sport = htons(4500);
    um.new_sport = htons(61000);
    auto m = parse_mapping(payload(um));
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(m->dst, ip("192.0.2.1"));
    EXPECT_EQ(m->spi, Spi(0xaabbccdd));
    EXPECT_EQ(m->proto, IPPROTO_ESP);
    EXPECT_EQ(m->reqid, 8U);
    EXPECT_EQ(m->old_src, ip("203.0.113.5"));
    EXPECT_EQ(m->old_sport, 4500);
    EXPECT_EQ(m->new_src, ip("203.0.113.6"));
    EXPECT_EQ(m->new_sport, 61000);
    EXPECT_EQ(parse_mapping(ByteView(payload(um)).first(40)).error().code, Errc::kTruncated);
    um.id.family = AF_PACKET;
    EXPECT_EQ(parse_mapping(payload(um)).error().code, Errc::kInvalidSyntax);
}

TEST(ParsePolicy, Errors) {
    netlink::Request r = build_new_policy(tunnel_policy(), false);
    const Bytes body(r.body().begin(), r.body().end());
    EXPECT_EQ(parse_policy(ByteView(body).first(100)).error().code, Errc::kTruncated);
    // A TMPL attribute that is not a whole number of templates.
    auto info = read_at<xfrm_userpolicy_info>(body);
    EXPECT_EQ(parse_policy(payload(info, {{XFRMA_TMPL, Bytes(sizeof(xfrm_user_tmpl) + 4, 0)}}))
                      .error()
                      .code,
              Errc::kBadLength);
    info.sel.family = 1234;
    EXPECT_EQ(parse_policy(payload(info)).error().code, Errc::kInvalidSyntax);
}

TEST(ParsePolicy, SocketPolicyDirection) {
    PolicySpec p = tunnel_policy();
    netlink::Request r = build_new_policy(p, false);
    auto info = read_at<xfrm_userpolicy_info>(r.body());
    info.dir = XFRM_POLICY_MAX + XFRM_POLICY_OUT;
    auto back = parse_policy(payload(info));
    ASSERT_TRUE(back);
    EXPECT_EQ(static_cast<int>(back->dir), 4);
    EXPECT_TRUE(back->templates.empty());
}

// ---------------------------------------------------------------------------------------------
// Tables

TEST(Algorithms, EncryptionTable) {
    struct Row {
        const char* name;
        std::uint32_t icv;
        std::uint16_t id;
        bool aead;
    };
    const Row rows[] = {
            {"cbc(des3_ede)", 0, 3, false},       {"ecb(cipher_null)", 0, 11, false},
            {"cbc(aes)", 0, 12, false},           {"rfc3686(ctr(aes))", 0, 13, false},
            {"rfc4309(ccm(aes))", 64, 14, true},  {"rfc4309(ccm(aes))", 96, 15, true},
            {"rfc4309(ccm(aes))", 128, 16, true}, {"rfc4106(gcm(aes))", 64, 18, true},
            {"rfc4106(gcm(aes))", 96, 19, true},  {"rfc4106(gcm(aes))", 128, 20, true},
            {"rfc4543(gcm(aes))", 128, 21, true}, {"rfc7539esp(chacha20,poly1305)", 128, 28, true},
    };
    for (const Row& row : rows) {
        const auto a = encryption_alg(row.id);
        ASSERT_TRUE(a) << row.id;
        EXPECT_STREQ(a->name, row.name) << row.id;
        EXPECT_EQ(a->icv_bits, row.icv) << row.id;
        EXPECT_EQ(a->aead, row.aead) << row.id;
    }
    for (const std::uint16_t missing :
         std::initializer_list<std::uint16_t>{0, 1, 2, 17, 23, 24, 25, 26, 27, 29, 1024}) {
        EXPECT_FALSE(encryption_alg(missing)) << missing;
    }
}

TEST(Algorithms, IntegrityTable) {
    struct Row {
        const char* name;
        std::uint32_t icv;
        std::uint16_t id;
    };
    const Row rows[] = {
            {"hmac(md5)", 96, 1},      {"hmac(sha1)", 96, 2},     {"xcbc(aes)", 96, 5},
            {"cmac(aes)", 96, 8},      {"hmac(sha256)", 128, 12}, {"hmac(sha384)", 192, 13},
            {"hmac(sha512)", 256, 14},
    };
    for (const Row& row : rows) {
        const auto a = integrity_alg(row.id);
        ASSERT_TRUE(a) << row.id;
        EXPECT_STREQ(a->name, row.name) << row.id;
        EXPECT_EQ(a->icv_bits, row.icv) << row.id;
        EXPECT_FALSE(a->aead);
    }
    for (const std::uint16_t missing :
         std::initializer_list<std::uint16_t>{0, 3, 4, 6, 7, 9, 11, 15}) {
        EXPECT_FALSE(integrity_alg(missing)) << missing;
    }
}

TEST(MessageName, AllTypes) {
    EXPECT_STREQ(message_name(XFRM_MSG_NEWSA), "NEWSA");
    EXPECT_STREQ(message_name(XFRM_MSG_ACQUIRE), "ACQUIRE");
    EXPECT_STREQ(message_name(XFRM_MSG_EXPIRE), "EXPIRE");
    EXPECT_STREQ(message_name(XFRM_MSG_MAPPING), "MAPPING");
    EXPECT_STREQ(message_name(XFRM_MSG_GETDEFAULT), "GETDEFAULT");
    for (std::uint16_t t = XFRM_MSG_BASE; t <= XFRM_MSG_MAX; ++t) {
        EXPECT_STRNE(message_name(t), "?") << t;
    }
    EXPECT_STREQ(message_name(NLMSG_ERROR), "?");
    EXPECT_STREQ(message_name(XFRM_MSG_MAX + 1), "?");
}

}  // namespace
}  // namespace ikeplex::kernel::xfrm
