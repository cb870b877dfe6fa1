// XFRM request builders, the IKEv2 -> kernel algorithm table and message names. The parsers are
// in codec_parse.cc.
//
// Kernel facts used (include/uapi/linux/xfrm.h, net/xfrm/xfrm_user.c; request layouts checked
// against what iproute2 6.1 sends, traced with strace):
// - Flags: iproute2 sends NEWSA, UPDSA, NEWPOLICY, UPDPOLICY, DELSA, DELPOLICY with
//   NLM_F_REQUEST | NLM_F_ACK only (no NLM_F_CREATE / NLM_F_EXCL: xfrm_user ignores them; NEWSA
//   fails with EEXIST on a duplicate, UPDSA replaces). GETSA / GETPOLICY dumps carry NLM_F_DUMP
//   and nothing after nlmsghdr (xfrm_dump_sa parses attributes at offset 0).
// - xfrm_lifetime_cfg: iproute2 and the kernel's own larval SAs use XFRM_INF for the byte and
//   packet limits; the *_expires_seconds fields use 0 for "never" (a timer of XFRM_INF seconds
//   would still be armed).
// - copy_from_user_state() gives an SA whose xfrm_selector.family is 0 the SA's family, so
//   sending the family or 0 for a tunnel-mode SA without selector ends the same way.
// - Replay: xfrm_usersa_info.replay_window is a u8 and the legacy bitmap 32 bits (the kernel
//   clamps to 32). verify_replay() refuses XFRMA_REPLAY_ESN_VAL unless that u8 is 0, and an SA
//   flagged XFRM_STATE_ESN without the attribute. bmp_len may not exceed
//   XFRMA_REPLAY_ESN_MAX / 32 words. Since Linux 6.10 an SA with XFRMA_SA_DIR = out must have
//   no window at all (replay_window, bmp_len, seq 0), and ESN with window 0 is allowed only
//   for it.
// - ALLOCSPI: struct xfrm_userspi_info, the selector and lifetimes left zero (the kernel fills
//   the larval SA's own); the answer is a NEWSA message.
// - Templates: validate_tmpl() takes a template family of 0 as the selector's and requires a
//   transport-mode template to have the selector's family. iproute2 sets aalgos, ealgos and
//   calgos to ~0 (any algorithm).
#include "kernel/xfrm/codec/codec.h"

#include <array>
#include <cstring>
#include <type_traits>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>

#include "kernel/xfrm/codec/uapi.h"

namespace ikeplex::kernel::xfrm {

namespace {

constexpr std::uint32_t kLegacyReplayMax = 32;  // bits in xfrm_replay_state.bitmap
constexpr std::uint32_t kBitsPerWord = 32;

/// `T t{}` does not promise zeroed padding; these structs go to the kernel as bytes, so every
/// one is also memset (the kernel checks some reserved bytes, and nothing of ours may leak).
template <class T>
void zero(T& t) noexcept {
    std::memset(&t, 0, sizeof t);
}

std::uint16_t af_of(const IpAddress& a) noexcept {
    if (a.is_v4()) {
        return AF_INET;
    }
    return a.family() == 6 ? static_cast<std::uint16_t>(AF_INET6) : 0;
}

/// The address in the first 4 or 16 bytes of an xfrm_address_t (unset: all zero).
void put_addr(xfrm_address_t& out, const IpAddress& a) noexcept {
    std::memset(&out, 0, sizeof out);
    if (a.is_set()) {
        std::memcpy(&out, a.bytes().data(), a.size());
    }
}

std::uint16_t selector_family(const Selector& s, std::uint16_t fallback) noexcept {
    if (s.family != 0) {
        return s.family;
    }
    if (s.src.is_set()) {
        return af_of(s.src);
    }
    if (s.dst.is_set()) {
        return af_of(s.dst);
    }
    return fallback;
}

xfrm_selector encode_selector(const Selector& s, std::uint16_t fallback_family) noexcept {
    xfrm_selector x{};
    zero(x);
    put_addr(x.daddr, s.dst);
    put_addr(x.saddr, s.src);
    x.dport = htons(s.dport);
    x.dport_mask = htons(s.dport_mask);
    x.sport = htons(s.sport);
    x.sport_mask = htons(s.sport_mask);
    x.family = selector_family(s, fallback_family);
    x.prefixlen_d = s.dst_len;
    x.prefixlen_s = s.src_len;
    x.proto = s.proto;
    return x;
}

std::uint64_t limit(std::uint64_t v) noexcept {
    return v == 0 ? XFRM_INF : v;
}

xfrm_lifetime_cfg encode_lifetime(const Lifetime& l) noexcept {
    xfrm_lifetime_cfg c{};
    zero(c);
    c.soft_byte_limit = limit(l.soft_bytes);
    c.hard_byte_limit = limit(l.hard_bytes);
    c.soft_packet_limit = limit(l.soft_packets);
    c.hard_packet_limit = limit(l.hard_packets);
    c.soft_add_expires_seconds = l.soft_add_seconds;
    c.hard_add_expires_seconds = l.hard_add_seconds;
    return c;
}

/// Appends one algorithm attribute: struct T (xfrm_algo, xfrm_algo_auth or xfrm_algo_aead:
/// name, key length in bits, and for the latter two the ICV / truncation length) followed by
/// the key. Assembled in a stack buffer that is wiped afterwards (the request wipes its own
/// copy). False when the name or key does not fit.
template <class T>
bool put_algorithm(netlink::Request& r, std::uint16_t attr_type, const Algorithm& alg) {
    constexpr std::size_t kMaxKey = 256;
    T head{};
    zero(head);
    if (alg.name.size() >= sizeof head.alg_name || alg.key.size() > kMaxKey) {
        return false;
    }
    std::memcpy(head.alg_name, alg.name.data(), alg.name.size());
    head.alg_key_len = static_cast<unsigned int>(alg.key.size() * 8);
    if constexpr (std::is_same_v<T, xfrm_algo_auth>) {
        head.alg_trunc_len = alg.icv_bits;
    } else if constexpr (std::is_same_v<T, xfrm_algo_aead>) {
        head.alg_icv_len = alg.icv_bits;
    }
    std::array<std::uint8_t, sizeof(T) + kMaxKey> buf{};
    std::memcpy(buf.data(), &head, sizeof head);
    if (!alg.key.empty()) {
        std::memcpy(buf.data() + sizeof head, alg.key.view().data(), alg.key.size());
    }
    r.attr(attr_type, buf.data(), sizeof head + alg.key.size());
    secure_zero(buf);
    return true;
}

/// XFRMA_REPLAY_ESN_VAL: struct xfrm_replay_state_esn then bmp_len zero bitmap words.
/// `state` (carried over) with only what the direction may have: an outbound SA's oseq, an
/// inbound SA's seq and bitmap (Linux 6.10+ refuses the others with XFRMA_SA_DIR).
ReplayState for_direction(ReplayState state, const std::optional<std::uint8_t>& dir) {
    if (dir && *dir == kXfrmSaDirOut) {
        state.seq = 0;
        state.bitmap.clear();
    } else if (dir) {
        state.oseq = 0;
    }
    return state;
}

void put_replay_esn(netlink::Request& r, std::uint32_t window, const ReplayState* state) {
    xfrm_replay_state_esn esn{};
    zero(esn);
    esn.bmp_len = (window + kBitsPerWord - 1) / kBitsPerWord;
    esn.replay_window = window;
    if (state != nullptr) {
        esn.oseq = static_cast<std::uint32_t>(state->oseq);
        esn.oseq_hi = static_cast<std::uint32_t>(state->oseq >> kBitsPerWord);
        esn.seq = static_cast<std::uint32_t>(state->seq);
        esn.seq_hi = static_cast<std::uint32_t>(state->seq >> kBitsPerWord);
    }
    // window <= XFRMA_REPLAY_ESN_MAX (checked by the caller): at most 128 words.
    std::array<std::uint8_t, sizeof(xfrm_replay_state_esn) + XFRMA_REPLAY_ESN_MAX / 8> buf{};
    std::memcpy(buf.data(), &esn, sizeof esn);
    if (state != nullptr && !state->bitmap.empty()) {
        const std::size_t words = std::min<std::size_t>(state->bitmap.size(), esn.bmp_len);
        std::memcpy(buf.data() + sizeof esn, state->bitmap.data(), words * sizeof(std::uint32_t));
    }
    r.attr(XFRMA_REPLAY_ESN_VAL, buf.data(), sizeof esn + esn.bmp_len * sizeof(std::uint32_t));
}

/// XFRMA_REPLAY_VAL (struct xfrm_replay_state: u32 oseq, seq, bitmap).
void put_replay(netlink::Request& r, const ReplayState& state) {
    xfrm_replay_state rs{};
    zero(rs);
    rs.oseq = static_cast<std::uint32_t>(state.oseq);
    rs.seq = static_cast<std::uint32_t>(state.seq);
    rs.bitmap = state.bitmap.empty() ? 0 : state.bitmap.front();
    r.attr_struct(XFRMA_REPLAY_VAL, rs);
}

void put_used(netlink::Request& r, const LifetimeUsed& used) {
    xfrm_lifetime_cur c{};
    zero(c);
    c.bytes = used.bytes;
    c.packets = used.packets;
    c.add_time = used.add_time;
    c.use_time = used.use_time;
    r.attr_struct(XFRMA_LTIME_VAL, c);
}

xfrm_user_tmpl encode_template(const Template& t, std::uint16_t sel_family) noexcept {
    xfrm_user_tmpl x{};
    zero(x);
    put_addr(x.id.daddr, t.dst);
    x.id.spi = htonl(t.spi.value());
    x.id.proto = t.proto;
    // Tunnel endpoints give the outer family; a transport-mode template has the selector's.
    x.family = t.dst.is_set() ? af_of(t.dst) : t.src.is_set() ? af_of(t.src) : sel_family;
    put_addr(x.saddr, t.src);
    x.reqid = t.reqid;
    x.mode = static_cast<std::uint8_t>(t.mode);
    x.share = XFRM_SHARE_ANY;
    x.optional = t.optional ? 1 : 0;
    x.aalgos = ~0U;
    x.ealgos = ~0U;
    x.calgos = ~0U;
    return x;
}

bool same_family(const IpAddress& a, const IpAddress& b) noexcept {
    return a.is_set() && b.is_set() && a.family() == b.family();
}

/// An SA's fixed part: selector, id, addresses, lifetime, mode and flags. The replay window
/// is the caller's.
xfrm_usersa_info encode_sa_info(const SaSpec& sa, std::uint16_t family) noexcept {
    xfrm_usersa_info info{};
    zero(info);
    info.sel = encode_selector(sa.selector, family);
    if ((sa.flags & XFRM_STATE_AF_UNSPEC) != 0 && sa.selector.family == 0 &&
        !sa.selector.src.is_set() && !sa.selector.dst.is_set()) {
        info.sel.family = AF_UNSPEC;  // a tunnel carrying either family (xfrm_state_look_at)
    }
    put_addr(info.id.daddr, sa.dst);
    info.id.spi = htonl(sa.spi.value());
    info.id.proto = sa.proto;
    put_addr(info.saddr, sa.src);
    info.lft = encode_lifetime(sa.lifetime);
    info.seq = sa.seq;
    info.reqid = sa.reqid;
    info.family = family;
    info.mode = static_cast<std::uint8_t>(sa.mode);
    info.flags = sa.flags;
    return info;
}

/// The AEAD, encryption and integrity attributes present; false if one does not fit.
bool put_algorithms(netlink::Request& r, const SaSpec& sa) {
    bool ok = true;
    if (sa.aead) {
        ok = ok && put_algorithm<xfrm_algo_aead>(r, XFRMA_ALG_AEAD, *sa.aead);
    }
    if (sa.encryption) {
        ok = ok && put_algorithm<xfrm_algo>(r, XFRMA_ALG_CRYPT, *sa.encryption);
    }
    if (sa.integrity) {
        ok = ok && put_algorithm<xfrm_algo_auth>(r, XFRMA_ALG_AUTH_TRUNC, *sa.integrity);
    }
    return ok;
}

/// UDP encapsulation (RFC 3948): XFRMA_ENCAP.
void put_encap(netlink::Request& r, const Encap& encap) {
    xfrm_encap_tmpl e{};
    zero(e);
    e.encap_type = UDP_ENCAP_ESPINUDP;
    e.encap_sport = htons(encap.sport);
    e.encap_dport = htons(encap.dport);
    put_addr(e.encap_oa, encap.original);
    r.attr_struct(XFRMA_ENCAP, e);
}

}  // namespace

netlink::Request build_new_sa(const SaSpec& sa, bool update) {
    netlink::Request r(update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, 0);
    if (!same_family(sa.src, sa.dst) ||
        (sa.aead && (sa.encryption.has_value() || sa.integrity.has_value()))) {
        r.invalidate();
        return r;
    }
    const std::uint16_t family = af_of(sa.dst);
    xfrm_usersa_info info = encode_sa_info(sa, family);

    // Replay rule: an outbound SA with XFRMA_SA_DIR has no window (Linux 6.10+ refuses one).
    // ESN, or a window beyond the legacy 32-bit bitmap, goes in XFRMA_REPLAY_ESN_VAL with
    // bmp_len = ceil(window / 32) and the u8 replay_window field 0 (the kernel refuses both at
    // once); XFRM_STATE_ESN only with ESN. Otherwise the window goes in the u8 field.
    const bool dir_out = sa.direction && *sa.direction == kXfrmSaDirOut;
    const std::uint32_t window = dir_out ? 0 : sa.replay_window;
    const bool esn_attr = sa.esn || window > kLegacyReplayMax;
    if (esn_attr && window > XFRMA_REPLAY_ESN_MAX) {
        r.invalidate();
        return r;
    }
    if (esn_attr) {
        info.replay_window = 0;
        if (sa.esn) {
            info.flags = static_cast<std::uint8_t>(info.flags | XFRM_STATE_ESN);
        }
    } else {
        info.replay_window = static_cast<std::uint8_t>(window);
    }
    r.header(info);

    if (!put_algorithms(r, sa)) {
        r.invalidate();
        return r;
    }
    if (sa.encap) {
        put_encap(r, *sa.encap);
    }
    const std::optional<ReplayState> replay =
            sa.replay && !update
                    ? std::optional<ReplayState>(for_direction(*sa.replay, sa.direction))
                    : std::nullopt;
    if (esn_attr) {
        put_replay_esn(r, window, replay ? &*replay : nullptr);
    } else if (replay) {
        put_replay(r, *replay);
    }
    if (sa.used && !update) {
        put_used(r, *sa.used);
    }
    if (sa.direction) {
        r.attr_u8(kXfrmaSaDir, *sa.direction);
    }
    if (sa.pcpu) {
        r.attr_u32(kXfrmaSaPcpu, *sa.pcpu);
    }
    return r;
}

namespace {

netlink::Request sa_id_request(std::uint16_t type, const IpAddress& dst, Spi spi,
                               std::uint8_t proto) {
    netlink::Request r(type, 0);
    if (!dst.is_set()) {
        r.invalidate();
        return r;
    }
    xfrm_usersa_id id{};
    zero(id);
    put_addr(id.daddr, dst);
    id.spi = htonl(spi.value());
    id.family = af_of(dst);
    id.proto = proto;
    r.header(id);
    return r;
}

}  // namespace

netlink::Request build_del_sa(const IpAddress& dst, Spi spi, std::uint8_t proto) {
    return sa_id_request(XFRM_MSG_DELSA, dst, spi, proto);
}

netlink::Request build_get_sa(const IpAddress& dst, Spi spi, std::uint8_t proto) {
    return sa_id_request(XFRM_MSG_GETSA, dst, spi, proto);
}

netlink::Request build_dump_sa() {
    return {XFRM_MSG_GETSA, NLM_F_DUMP};
}

netlink::Request build_alloc_spi(const IpAddress& src, const IpAddress& dst, std::uint32_t min,
                                 std::uint32_t max, std::uint32_t reqid,
                                 std::optional<std::uint32_t> pcpu, std::uint8_t proto,
                                 std::optional<std::uint8_t> direction) {
    netlink::Request r(XFRM_MSG_ALLOCSPI, 0);
    if (!same_family(src, dst)) {
        r.invalidate();
        return r;
    }
    xfrm_userspi_info u{};
    zero(u);
    put_addr(u.info.id.daddr, dst);
    u.info.id.proto = proto;
    put_addr(u.info.saddr, src);
    u.info.family = af_of(dst);
    u.info.reqid = reqid;
    u.min = min;
    u.max = max;
    r.header(u);
    if (pcpu) {
        r.attr_u32(kXfrmaSaPcpu, *pcpu);
    }
    if (direction) {
        r.attr_u8(kXfrmaSaDir, *direction);
    }
    return r;
}

netlink::Request build_new_policy(const PolicySpec& p, bool update) {
    netlink::Request r(update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY, 0);
    std::uint16_t fallback = 0;
    if (!p.templates.empty()) {
        const Template& t = p.templates.front();
        fallback = t.dst.is_set() ? af_of(t.dst) : af_of(t.src);
    }
    xfrm_userpolicy_info info{};
    zero(info);
    info.sel = encode_selector(p.selector, fallback);
    info.lft = encode_lifetime(Lifetime{});
    info.priority = p.priority;
    info.index = p.index;
    info.dir = static_cast<std::uint8_t>(p.dir);
    info.action = p.action;
    info.flags = p.flags;
    info.share = XFRM_SHARE_ANY;
    r.header(info);

    if (!p.templates.empty()) {
        // Bounded by the request size: more templates than fit fail the request.
        constexpr std::size_t kMaxTemplates =
                netlink::Request::kMaxRequest / sizeof(xfrm_user_tmpl);
        if (p.templates.size() > kMaxTemplates) {
            r.invalidate();
            return r;
        }
        std::array<std::uint8_t, kMaxTemplates * sizeof(xfrm_user_tmpl)> buf{};
        std::size_t n = 0;
        for (const Template& t : p.templates) {
            const xfrm_user_tmpl x = encode_template(t, info.sel.family);
            std::memcpy(buf.data() + n, &x, sizeof x);
            n += sizeof x;
        }
        r.attr(XFRMA_TMPL, buf.data(), n);
    }
    return r;
}

netlink::Request build_del_policy(const Selector& sel, Dir dir) {
    netlink::Request r(XFRM_MSG_DELPOLICY, 0);
    xfrm_userpolicy_id id{};
    zero(id);
    id.sel = encode_selector(sel, 0);
    id.index = 0;
    id.dir = static_cast<std::uint8_t>(dir);
    r.header(id);
    return r;
}

netlink::Request build_dump_policy() {
    return {XFRM_MSG_GETPOLICY, NLM_F_DUMP};
}

// ---------------------------------------------------------------------------------------------
// Algorithms: IKEv2 transform IDs (IANA "IKEv2 Transform Attribute" registries, RFC 7296 §3.3.2
// and its successors) to the names of the kernel's xfrm_algo tables (net/xfrm/xfrm_algo.c).

namespace {

struct AlgRow {
    std::uint16_t id{0};
    KernelAlg alg;
};

constexpr std::array kEncryption{
        AlgRow{3, {"cbc(des3_ede)", 0, false}},                    // ENCR_3DES
        AlgRow{11, {"ecb(cipher_null)", 0, false}},                // ENCR_NULL
        AlgRow{12, {"cbc(aes)", 0, false}},                        // ENCR_AES_CBC
        AlgRow{13, {"rfc3686(ctr(aes))", 0, false}},               // ENCR_AES_CTR
        AlgRow{14, {"rfc4309(ccm(aes))", 64, true}},               // ENCR_AES_CCM_8
        AlgRow{15, {"rfc4309(ccm(aes))", 96, true}},               // ENCR_AES_CCM_12
        AlgRow{16, {"rfc4309(ccm(aes))", 128, true}},              // ENCR_AES_CCM_16
        AlgRow{18, {"rfc4106(gcm(aes))", 64, true}},               // ENCR_AES_GCM_8
        AlgRow{19, {"rfc4106(gcm(aes))", 96, true}},               // ENCR_AES_GCM_12
        AlgRow{20, {"rfc4106(gcm(aes))", 128, true}},              // ENCR_AES_GCM_16
        AlgRow{21, {"rfc4543(gcm(aes))", 128, true}},              // ENCR_NULL_AUTH_AES_GMAC
        AlgRow{28, {"rfc7539esp(chacha20,poly1305)", 128, true}},  // ENCR_CHACHA20_POLY1305
};

constexpr std::array kIntegrity{
        AlgRow{1, {"hmac(md5)", 96, false}},       // AUTH_HMAC_MD5_96
        AlgRow{2, {"hmac(sha1)", 96, false}},      // AUTH_HMAC_SHA1_96
        AlgRow{5, {"xcbc(aes)", 96, false}},       // AUTH_AES_XCBC_96
        AlgRow{8, {"cmac(aes)", 96, false}},       // AUTH_AES_CMAC_96
        AlgRow{12, {"hmac(sha256)", 128, false}},  // AUTH_HMAC_SHA2_256_128
        AlgRow{13, {"hmac(sha384)", 192, false}},  // AUTH_HMAC_SHA2_384_192
        AlgRow{14, {"hmac(sha512)", 256, false}},  // AUTH_HMAC_SHA2_512_256
};

template <std::size_t N>
std::optional<KernelAlg> lookup(const std::array<AlgRow, N>& table, std::uint16_t id) {
    for (const AlgRow& row : table) {
        if (row.id == id) {
            return row.alg;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<KernelAlg> encryption_alg(std::uint16_t ikev2_id) {
    return lookup(kEncryption, ikev2_id);
}

std::optional<KernelAlg> integrity_alg(std::uint16_t ikev2_id) {
    return lookup(kIntegrity, ikev2_id);
}

const char* message_name(std::uint16_t type) noexcept {
    switch (type) {
        case XFRM_MSG_NEWSA:
            return "NEWSA";
        case XFRM_MSG_DELSA:
            return "DELSA";
        case XFRM_MSG_GETSA:
            return "GETSA";
        case XFRM_MSG_NEWPOLICY:
            return "NEWPOLICY";
        case XFRM_MSG_DELPOLICY:
            return "DELPOLICY";
        case XFRM_MSG_GETPOLICY:
            return "GETPOLICY";
        case XFRM_MSG_ALLOCSPI:
            return "ALLOCSPI";
        case XFRM_MSG_ACQUIRE:
            return "ACQUIRE";
        case XFRM_MSG_EXPIRE:
            return "EXPIRE";
        case XFRM_MSG_UPDPOLICY:
            return "UPDPOLICY";
        case XFRM_MSG_UPDSA:
            return "UPDSA";
        case XFRM_MSG_POLEXPIRE:
            return "POLEXPIRE";
        case XFRM_MSG_FLUSHSA:
            return "FLUSHSA";
        case XFRM_MSG_FLUSHPOLICY:
            return "FLUSHPOLICY";
        case XFRM_MSG_NEWAE:
            return "NEWAE";
        case XFRM_MSG_GETAE:
            return "GETAE";
        case XFRM_MSG_REPORT:
            return "REPORT";
        case XFRM_MSG_MIGRATE:
            return "MIGRATE";
        case XFRM_MSG_NEWSADINFO:
            return "NEWSADINFO";
        case XFRM_MSG_GETSADINFO:
            return "GETSADINFO";
        case XFRM_MSG_NEWSPDINFO:
            return "NEWSPDINFO";
        case XFRM_MSG_GETSPDINFO:
            return "GETSPDINFO";
        case XFRM_MSG_MAPPING:
            return "MAPPING";
        case XFRM_MSG_SETDEFAULT:
            return "SETDEFAULT";
        case XFRM_MSG_GETDEFAULT:
            return "GETDEFAULT";
        default:
            return "?";
    }
}

}  // namespace ikeplex::kernel::xfrm
