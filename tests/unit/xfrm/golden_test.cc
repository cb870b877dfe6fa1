// The XFRM codec against what iproute2 6.1 sends for the same request (tests/vectors/xfrm,
// recorded by capture.py there; its README says how). For every capture the codec builds the
// same request and the test compares
//  - the nlmsghdr type, and the flags except NLM_F_ACK (the socket adds it; iproute2 leaves it
//    off for GETSA and ALLOCSPI);
//  - the fixed family header (struct xfrm_usersa_info, xfrm_userpolicy_info, ...) byte for
//    byte;
//  - the attributes as a multiset of (type, payload bytes): the kernel does not care about
//    their order, so neither does the test (the first mismatch is printed with its offset and
//    the header field it falls in).
// iproute2 6.1 cannot express XFRMA_SA_PCPU (attribute 35): those requests are compared with the
// capture of the same request without it plus the one u32 attribute appended. Where iproute2
// sends something the codec deliberately does not, the capture is edited in the test before the
// comparison, each edit with its reason (the README lists them too).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "kernel/xfrm/codec/codec.h"
#include "kernel/xfrm/codec/uapi.h"
#include "netlink/message.h"
#include "util/hex.h"
#include "vectors.h"

namespace ikeplex::kernel::xfrm {
namespace {

constexpr std::size_t align4(std::size_t n) {
    return (n + 3) & ~std::size_t{3};
}

// The family headers as the kernel pads them (NLMSG_ALIGN of the struct sizes).
constexpr std::size_t kSaInfoLen = 224;
constexpr std::size_t kSaIdLen = 24;
constexpr std::size_t kPolicyInfoLen = 168;
constexpr std::size_t kPolicyIdLen = 64;
constexpr std::size_t kSpiInfoLen = 232;
static_assert(align4(sizeof(xfrm_usersa_info)) == kSaInfoLen);
static_assert(align4(sizeof(xfrm_usersa_id)) == kSaIdLen);
static_assert(align4(sizeof(xfrm_userpolicy_info)) == kPolicyInfoLen);
static_assert(align4(sizeof(xfrm_userpolicy_id)) == kPolicyIdLen);
static_assert(align4(sizeof(xfrm_userspi_info)) == kSpiInfoLen);

IpAddress ip(const char* s) {
    return IpAddress::parse(s).value();
}

SecretBytes key(const char* hex) {
    const Bytes b = from_hex(hex).value();
    return SecretBytes::copy_of(b);
}

// The fixed keys of capture.py.
constexpr const char* kKeyCbc128 = "000102030405060708090a0b0c0d0e0f";
constexpr const char* kKeySha256 =
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
constexpr const char* kKeyGcm128 = "404142434445464748494a4b4c4d4e4f50515253";

/// One attribute: type (flags bits included, as on the wire) and payload without padding.
struct Tlv {
    std::uint16_t type{0};
    Bytes data;
    auto operator<=>(const Tlv&) const =
            default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads defaulted <=>
};

std::uint16_t le16(ByteView b, std::size_t at) {
    return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8U));
}

/// Splits the attributes after `header_len` bytes; false if they do not tile the rest exactly
/// (every length >= 4, padding to 4 except possibly after the last one).
bool split_tlvs(ByteView body, std::size_t header_len, std::vector<Tlv>& out) {
    if (body.size() < header_len) {
        return false;
    }
    std::size_t at = header_len;
    while (at < body.size()) {
        if (body.size() - at < 4) {
            return false;
        }
        const std::size_t len = le16(body, at);
        if (len < 4 || len > body.size() - at) {
            return false;
        }
        out.push_back(Tlv{le16(body, at + 2),
                          Bytes(body.begin() + static_cast<std::ptrdiff_t>(at + 4),
                                body.begin() + static_cast<std::ptrdiff_t>(at + len))});
        at += align4(len);
    }
    return at == body.size() || align4(body.size()) == at;
}

Bytes tlv_bytes(std::uint16_t type, ByteView data) {
    Bytes out(align4(4 + data.size()), 0);
    const auto len = static_cast<std::uint16_t>(4 + data.size());
    std::memcpy(out.data(), &len, 2);
    std::memcpy(out.data() + 2, &type, 2);
    std::memcpy(out.data() + 4, data.data(), data.size());
    return out;
}

Bytes u32_le(std::uint32_t v) {
    Bytes b(4);
    std::memcpy(b.data(), &v, 4);  // host order, as netlink carries it (little-endian here)
    return b;
}

/// A capture: nlmsghdr type and flags, and the body after nlmsghdr.
struct Golden {
    std::string name;
    std::uint16_t type{0};
    std::uint16_t flags{0};
    Bytes body;
    std::size_t header_len{0};

    /// Drops every attribute of `attr_type` (a documented difference).
    void drop_attr(std::uint16_t attr_type) {
        std::vector<Tlv> tlvs;
        ASSERT_TRUE(split_tlvs(body, header_len, tlvs)) << name;
        Bytes out(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(header_len));
        bool dropped = false;
        for (const Tlv& t : tlvs) {
            if (t.type == attr_type) {
                dropped = true;
                continue;
            }
            const Bytes b = tlv_bytes(t.type, t.data);
            out.insert(out.end(), b.begin(), b.end());
        }
        ASSERT_TRUE(dropped) << name << ": the capture has no attribute " << attr_type;
        body = std::move(out);
    }
    /// Appends `n` zero bytes to the payload of the one attribute of `attr_type`.
    void extend_attr(std::uint16_t attr_type, std::size_t n) {
        std::vector<Tlv> tlvs;
        ASSERT_TRUE(split_tlvs(body, header_len, tlvs)) << name;
        Bytes out(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(header_len));
        int found = 0;
        for (Tlv& t : tlvs) {
            if (t.type == attr_type) {
                ++found;
                t.data.resize(t.data.size() + n, 0);
            }
            const Bytes b = tlv_bytes(t.type, t.data);
            out.insert(out.end(), b.begin(), b.end());
        }
        ASSERT_EQ(found, 1) << name << ": attribute " << attr_type;
        body = std::move(out);
    }
    /// Appends one attribute (what iproute2 6.1 cannot send, e.g. XFRMA_SA_PCPU).
    void append_attr(std::uint16_t attr_type, ByteView data) {
        body.resize(align4(body.size()), 0);
        const Bytes b = tlv_bytes(attr_type, data);
        body.insert(body.end(), b.begin(), b.end());
    }
};

std::size_t header_len_of(std::uint16_t type, std::uint16_t flags) {
    if ((flags & NLM_F_DUMP) == NLM_F_DUMP) {
        return 0;  // dumps: attributes only (iproute2's GETSA dump), or nothing
    }
    switch (type) {
        case XFRM_MSG_NEWSA:
        case XFRM_MSG_UPDSA:
            return kSaInfoLen;
        case XFRM_MSG_DELSA:
        case XFRM_MSG_GETSA:
            return kSaIdLen;
        case XFRM_MSG_NEWPOLICY:
        case XFRM_MSG_UPDPOLICY:
            return kPolicyInfoLen;
        case XFRM_MSG_DELPOLICY:
        case XFRM_MSG_GETPOLICY:
            return kPolicyIdLen;
        case XFRM_MSG_ALLOCSPI:
            return kSpiInfoLen;
        default:
            return 0;
    }
}

/// Reads tests/vectors/xfrm/<name>.hex: '#' comments, "type N", "flags 0xNNNN", then hex lines.
Golden load(const std::string& name) {
    Golden g;
    g.name = name;
    const std::string path = ::ikeplex::test::vector_path("xfrm/" + name + ".hex").string();
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "cannot read " << path;
    std::string line;
    std::string hex;
    bool have_type = false;
    bool have_flags = false;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        if (line.rfind("type ", 0) == 0) {
            g.type = static_cast<std::uint16_t>(std::stoul(line.substr(5), nullptr, 0));
            have_type = true;
        } else if (line.rfind("flags ", 0) == 0) {
            g.flags = static_cast<std::uint16_t>(std::stoul(line.substr(6), nullptr, 0));
            have_flags = true;
        } else {
            hex += line;
        }
    }
    EXPECT_TRUE(have_type && have_flags) << path << ": no type/flags line";
    auto b = from_hex(hex);
    EXPECT_TRUE(b.has_value()) << path << ": bad hex";
    if (b) {
        g.body = std::move(*b);
    }
    g.header_len = header_len_of(g.type, g.flags);
    return g;
}

/// Names the header field at `offset` of a family header, for failure messages.
std::string field_at(std::uint16_t type, std::size_t offset) {
    struct Field {
        std::size_t off;
        const char* name;
    };
    static const std::vector<Field> sa = {
            {offsetof(xfrm_usersa_info, sel), "sel"},
            {offsetof(xfrm_usersa_info, id), "id"},
            {offsetof(xfrm_usersa_info, saddr), "saddr"},
            {offsetof(xfrm_usersa_info, lft), "lft"},
            {offsetof(xfrm_usersa_info, curlft), "curlft"},
            {offsetof(xfrm_usersa_info, stats), "stats"},
            {offsetof(xfrm_usersa_info, seq), "seq"},
            {offsetof(xfrm_usersa_info, reqid), "reqid"},
            {offsetof(xfrm_usersa_info, family), "family"},
            {offsetof(xfrm_usersa_info, mode), "mode"},
            {offsetof(xfrm_usersa_info, replay_window), "replay_window"},
            {offsetof(xfrm_usersa_info, flags), "flags"},
            {offsetof(xfrm_usersa_info, flags) + 1, "padding"},
            {sizeof(xfrm_usersa_info), "min/max (xfrm_userspi_info)"},
    };
    static const std::vector<Field> pol = {
            {offsetof(xfrm_userpolicy_info, sel), "sel"},
            {offsetof(xfrm_userpolicy_info, lft), "lft"},
            {offsetof(xfrm_userpolicy_info, curlft), "curlft"},
            {offsetof(xfrm_userpolicy_info, priority), "priority"},
            {offsetof(xfrm_userpolicy_info, index), "index"},
            {offsetof(xfrm_userpolicy_info, dir), "dir"},
            {offsetof(xfrm_userpolicy_info, action), "action"},
            {offsetof(xfrm_userpolicy_info, flags), "flags"},
            {offsetof(xfrm_userpolicy_info, share), "share"},
            {offsetof(xfrm_userpolicy_info, share) + 1, "padding"},
    };
    const std::vector<Field>* fields = nullptr;
    switch (type) {
        case XFRM_MSG_NEWSA:
        case XFRM_MSG_UPDSA:
        case XFRM_MSG_ALLOCSPI:
            fields = &sa;
            break;
        case XFRM_MSG_NEWPOLICY:
        case XFRM_MSG_UPDPOLICY:
            fields = &pol;
            break;
        default:
            return "";
    }
    const char* name = "";
    std::size_t base = 0;
    for (const Field& f : *fields) {
        if (f.off <= offset) {
            name = f.name;
            base = f.off;
        }
    }
    return std::string(" (") + name + " + " + std::to_string(offset - base) + ")";
}

std::string hex_lines(ByteView b) {
    std::string out;
    for (std::size_t i = 0; i < b.size(); i += 32) {
        out += "  " + to_hex(b.subspan(i, std::min<std::size_t>(32, b.size() - i))) + "\n";
    }
    return out;
}

/// Compares a request built by the codec with the (possibly edited) capture.
void expect_same(netlink::Request& req, const Golden& g) {
    SCOPED_TRACE(g.name);
    ASSERT_TRUE(req.ok());
    EXPECT_EQ(req.type(), g.type);
    EXPECT_EQ(req.flags() & ~NLM_F_ACK, g.flags & ~NLM_F_ACK)
            << "flags 0x" << std::hex << req.flags() << " vs iproute2's 0x" << g.flags;
    const ByteView body = req.body();
    const std::string diag =
            "codec body:\n" + hex_lines(body) + "iproute2 body:\n" + hex_lines(g.body);
    ASSERT_GE(body.size(), g.header_len) << diag;
    // The fixed header, byte for byte.
    for (std::size_t i = 0; i < g.header_len; ++i) {
        if (body[i] != g.body[i]) {
            ADD_FAILURE() << "header differs first at offset " << i << field_at(g.type, i)
                          << ": codec 0x" << to_hex(body.subspan(i, 1)) << ", iproute2 0x"
                          << to_hex(ByteView(g.body).subspan(i, 1)) << "\n"
                          << diag;
            break;
        }
    }
    // The attributes, in any order.
    std::vector<Tlv> ours;
    std::vector<Tlv> theirs;
    ASSERT_TRUE(split_tlvs(body, g.header_len, ours)) << "codec attributes malformed\n" << diag;
    ASSERT_TRUE(split_tlvs(g.body, g.header_len, theirs)) << diag;
    std::map<Tlv, int> count;
    for (const Tlv& t : ours) {
        ++count[t];
    }
    for (const Tlv& t : theirs) {
        --count[t];
    }
    bool same_set = true;
    for (const auto& [t, n] : count) {
        same_set = same_set && n == 0;
        if (n > 0) {
            ADD_FAILURE() << "attribute " << t.type << " (" << t.data.size()
                          << " bytes) only from the codec: " << to_hex(t.data);
        } else if (n < 0) {
            ADD_FAILURE() << "attribute " << t.type << " (" << t.data.size()
                          << " bytes) only from iproute2: " << to_hex(t.data);
        }
    }
    if (same_set && ours != theirs) {
        // Same set, other order: fine for the kernel. Recorded for the reader.
        ::testing::Test::RecordProperty(g.name + "_attribute_order", "differs from iproute2");
    }
}

// ---------------------------------------------------------------------------------------------
// Policies

PolicySpec out_tunnel_policy() {
    PolicySpec p;
    p.selector.src = ip("10.99.1.0");
    p.selector.src_len = 24;
    p.selector.dst = ip("10.99.2.0");
    p.selector.dst_len = 24;
    p.dir = Dir::kOut;
    p.priority = 100;
    Template t;
    t.src = ip("10.99.0.1");
    t.dst = ip("10.99.0.2");
    t.proto = 50;
    t.mode = XfrmMode::kTunnel;
    t.reqid = 7;
    p.templates.push_back(t);
    return p;
}

TEST(XfrmGolden, NewPolicyOutTunnel) {
    const Golden g = load("newpolicy_out_tunnel");
    auto req = build_new_policy(out_tunnel_policy(), false);
    expect_same(req, g);
}

TEST(XfrmGolden, UpdPolicyOutTunnel) {
    const Golden g = load("updpolicy_out_tunnel");
    PolicySpec p = out_tunnel_policy();
    p.priority = 101;
    auto req = build_new_policy(p, true);
    expect_same(req, g);
}

TEST(XfrmGolden, NewPolicyOutCpuAcquire) {
    const Golden g = load("newpolicy_out_cpu_acquire");
    PolicySpec p = out_tunnel_policy();
    p.selector.src = ip("10.99.3.0");
    p.selector.dst = ip("10.99.4.0");
    p.priority = 110;
    p.flags = kXfrmPolicyCpuAcquire;
    p.templates[0].reqid = 12;
    auto req = build_new_policy(p, false);
    expect_same(req, g);
}

TEST(XfrmGolden, NewPolicyInTransport) {
    const Golden g = load("newpolicy_in_transport");
    PolicySpec p;
    p.selector.src = ip("10.99.0.2");
    p.selector.src_len = 32;
    p.selector.dst = ip("10.99.0.1");
    p.selector.dst_len = 32;
    p.selector.proto = 6;
    p.selector.dport = 443;
    p.selector.dport_mask = 0xffff;
    p.dir = Dir::kIn;
    p.priority = 200;
    Template t;
    t.proto = 50;
    t.mode = XfrmMode::kTransport;
    t.reqid = 9;
    p.templates.push_back(t);
    auto req = build_new_policy(p, false);
    expect_same(req, g);
}

TEST(XfrmGolden, NewPolicyFwdTunnelV6) {
    const Golden g = load("newpolicy_fwd_tunnel_v6");
    PolicySpec p;
    p.selector.src = ip("fd00:99:2::");
    p.selector.src_len = 48;
    p.selector.dst = ip("fd00:99:1::");
    p.selector.dst_len = 48;
    p.dir = Dir::kFwd;
    p.priority = 300;
    Template t;
    t.src = ip("fd00:99::2");
    t.dst = ip("fd00:99::1");
    t.mode = XfrmMode::kTunnel;
    t.reqid = 10;
    p.templates.push_back(t);
    auto req = build_new_policy(p, false);
    expect_same(req, g);
}

TEST(XfrmGolden, DelPolicy) {
    const Golden g = load("delpolicy");
    auto req = build_del_policy(out_tunnel_policy().selector, Dir::kOut);
    expect_same(req, g);
}

TEST(XfrmGolden, DumpPolicy) {
    const Golden g = load("dump_policy");
    EXPECT_TRUE(g.body.empty());
    auto req = build_dump_policy();
    expect_same(req, g);
}

// ---------------------------------------------------------------------------------------------
// SAs

SaSpec cbc_sha256_tunnel() {
    SaSpec sa;
    sa.src = ip("10.99.0.1");
    sa.dst = ip("10.99.0.2");
    sa.spi = Spi(0xc0000101);
    sa.mode = XfrmMode::kTunnel;
    sa.reqid = 7;
    sa.replay_window = 32;
    sa.encryption = Algorithm{"cbc(aes)", 0, key(kKeyCbc128)};
    sa.integrity = Algorithm{"hmac(sha256)", 128, key(kKeySha256)};
    return sa;
}

SaSpec gcm_sa(const char* src, const char* dst, std::uint32_t spi, std::uint32_t reqid) {
    SaSpec sa;
    sa.src = ip(src);
    sa.dst = ip(dst);
    sa.spi = Spi(spi);
    sa.mode = XfrmMode::kTunnel;
    sa.reqid = reqid;
    sa.replay_window = 32;
    sa.aead = Algorithm{"rfc4106(gcm(aes))", 128, key(kKeyGcm128)};
    return sa;
}

TEST(XfrmGolden, NewSaCbcSha256Tunnel) {
    const Golden g = load("newsa_cbc_sha256_tunnel");
    auto req = build_new_sa(cbc_sha256_tunnel(), false);
    expect_same(req, g);
}

TEST(XfrmGolden, NewSaCbcSha256TunnelWithPcpu) {
    // iproute2 6.1 has no pcpu-num: the same SA bound to CPU 1 is the capture plus
    // XFRMA_SA_PCPU (u32, host order).
    Golden g = load("newsa_cbc_sha256_tunnel");
    g.append_attr(kXfrmaSaPcpu, u32_le(1));
    SaSpec sa = cbc_sha256_tunnel();
    sa.pcpu = 1;
    auto req = build_new_sa(sa, false);
    expect_same(req, g);
}

TEST(XfrmGolden, NewSaGcmEncap) {
    const Golden g = load("newsa_gcm_encap");
    SaSpec sa = gcm_sa("10.99.0.1", "10.99.0.2", 0xc0000102, 8);
    sa.encap = Encap{4500, 4500, IpAddress()};
    auto req = build_new_sa(sa, false);
    expect_same(req, g);
}

TEST(XfrmGolden, NewSaEsn) {
    Golden g = load("newsa_esn");
    // iproute2 6.1 sends XFRMA_REPLAY_ESN_VAL as the bare 24-byte struct xfrm_replay_state_esn
    // with bmp_len 4 but without the bitmap words (the kernel's xfrm_alloc_replay_state_esn
    // zero-fills what is missing); the codec sends the bmp_len zero words as well, the length
    // xfrm_replay_verify_len() expects on updates (strongSwan does the same).
    g.extend_attr(XFRMA_REPLAY_ESN_VAL, 4 * sizeof(std::uint32_t));
    SaSpec sa = gcm_sa("10.99.0.1", "10.99.0.2", 0xc0000103, 9);
    sa.esn = true;
    sa.replay_window = 128;
    sa.lifetime.soft_bytes = 1000000;
    sa.lifetime.hard_bytes = 2000000;
    sa.lifetime.soft_packets = 10000;
    sa.lifetime.hard_packets = 20000;
    sa.lifetime.soft_add_seconds = 3300;
    sa.lifetime.hard_add_seconds = 3600;
    auto req = build_new_sa(sa, false);
    expect_same(req, g);
}

TEST(XfrmGolden, NewSaTunnelV6) {
    const Golden g = load("newsa_tunnel_v6");
    auto req = build_new_sa(gcm_sa("fd00:99::1", "fd00:99::2", 0xc0000105, 10), false);
    expect_same(req, g);
}

TEST(XfrmGolden, UpdSaTransport) {
    const Golden g = load("updsa");
    SaSpec sa = cbc_sha256_tunnel();
    sa.spi = Spi(0xc0000104);
    sa.reqid = 11;
    sa.mode = XfrmMode::kTransport;
    sa.selector.src = ip("10.99.0.1");
    sa.selector.src_len = 32;
    sa.selector.dst = ip("10.99.0.2");
    sa.selector.dst_len = 32;
    auto req = build_new_sa(sa, true);
    expect_same(req, g);
}

// iproute2 always appends XFRMA_SRCADDR to DELSA/GETSA (all zero when no src is given); for
// ESP, AH and IPComp the kernel looks the SA up by (daddr, spi, proto) and never reads it
// (xfrm_user_state_lookup), so the codec sends no source address.
TEST(XfrmGolden, DelSa) {
    Golden g = load("delsa");
    g.drop_attr(XFRMA_SRCADDR);
    auto req = build_del_sa(ip("10.99.0.2"), Spi(0xc0000101));
    expect_same(req, g);
}

TEST(XfrmGolden, GetSa) {
    Golden g = load("getsa");
    g.drop_attr(XFRMA_SRCADDR);
    auto req = build_get_sa(ip("10.99.0.2"), Spi(0xc0000101));
    expect_same(req, g);
}

TEST(XfrmGolden, AllocSpi) {
    const Golden g = load("allocspi");
    auto req = build_alloc_spi(ip("10.99.0.1"), ip("10.99.0.2"), 0xc0000000, 0xcfffffff, 11);
    expect_same(req, g);
}

TEST(XfrmGolden, AllocSpiWithPcpu) {
    Golden g = load("allocspi");
    g.append_attr(kXfrmaSaPcpu, u32_le(3));
    auto req = build_alloc_spi(ip("10.99.0.1"), ip("10.99.0.2"), 0xc0000000, 0xcfffffff, 11, 3);
    expect_same(req, g);
}

TEST(XfrmGolden, DumpSa) {
    Golden g = load("dump_sa");
    // iproute2's `ip xfrm state list` sends an all-zero XFRMA_ADDRESS_FILTER (family 0,
    // prefix lengths 0), which matches every SA (__xfrm_state_filter_match); the codec sends
    // no filter, which is the same dump.
    g.drop_attr(XFRMA_ADDRESS_FILTER);
    EXPECT_TRUE(g.body.empty());
    auto req = build_dump_sa();
    expect_same(req, g);
}

// The captures themselves: what iproute2 put where (so that an edit of a .hex file that breaks
// them is caught, independently of the codec).
TEST(XfrmGolden, CapturesAreWhatTheCommandsSay) {
    const Golden pol = load("newpolicy_out_cpu_acquire");
    ASSERT_EQ(pol.body.size(), kPolicyInfoLen + sizeof(nlattr) + sizeof(xfrm_user_tmpl));
    xfrm_userpolicy_info pi{};
    std::memcpy(&pi, pol.body.data(), sizeof pi);
    EXPECT_EQ(pi.flags, kXfrmPolicyCpuAcquire);
    EXPECT_EQ(pi.priority, 110U);
    EXPECT_EQ(pi.dir, XFRM_POLICY_OUT);
    EXPECT_EQ(pi.sel.family, AF_INET);
    EXPECT_EQ(pi.sel.prefixlen_d, 24);

    const Golden esn = load("newsa_esn");
    xfrm_usersa_info si{};
    ASSERT_GE(esn.body.size(), sizeof si);
    std::memcpy(&si, esn.body.data(), sizeof si);
    EXPECT_EQ(si.flags, XFRM_STATE_ESN);
    EXPECT_EQ(si.replay_window, 0);  // the window travels in XFRMA_REPLAY_ESN_VAL
    EXPECT_EQ(ntohl(si.id.spi), 0xc0000103U);
    EXPECT_EQ(si.lft.hard_add_expires_seconds, 3600U);
    std::vector<Tlv> tlvs;
    ASSERT_TRUE(split_tlvs(esn.body, kSaInfoLen, tlvs));
    bool have_esn = false;
    for (const Tlv& t : tlvs) {
        if (t.type == XFRMA_REPLAY_ESN_VAL) {
            have_esn = true;
            ASSERT_GE(t.data.size(), sizeof(xfrm_replay_state_esn));
            xfrm_replay_state_esn rs{};
            std::memcpy(&rs, t.data.data(), sizeof rs);
            EXPECT_EQ(rs.replay_window, 128U);
            EXPECT_EQ(rs.bmp_len, 4U);
        }
    }
    EXPECT_TRUE(have_esn);
}

}  // namespace
}  // namespace ikeplex::kernel::xfrm
