// XFRM message parsers: payloads (after nlmsghdr) of what the kernel sends, every length
// checked, every struct copied out with memcpy (payloads have no alignment guarantee).
//
// Kernel facts used (include/uapi/linux/xfrm.h, net/xfrm/xfrm_user.c):
// - Attributes follow the fixed struct at its sizeof, which includes tail padding (struct
//   xfrm_user_expire is 232 bytes: xfrm_usersa_info, the u8 hard, 7 bytes of padding).
// - xfrm_address_t holds IPv4 in its first 4 bytes; the family comes from the enclosing
//   struct: xfrm_usersa_info.family, xfrm_usersa_id.family, xfrm_user_tmpl.family,
//   xfrm_selector.family. xfrm_user_acquire has none of its own: its id/saddr are those of the
//   larval SA, whose family is the template's (outer) one, possibly not the selector's.
// - A selector's family may be 0 (AF_UNSPEC) for a tunnel-mode SA installed with
//   XFRM_STATE_AF_UNSPEC (as strongSwan does): it then matches both inner families. The larval
//   SA that ALLOCSPI / an acquire creates also has selector family 0, but the SA's addresses
//   with prefix lengths 32 (or 128) in it.
// - Policy dumps include per-socket policies, whose dir is XFRM_POLICY_MAX + dir (3..5).
// - XFRMA_REPLAY_ESN_VAL carries the window of ESN SAs and of SAs with a window above 32; the
//   u8 xfrm_usersa_info.replay_window is 0 for those.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <netinet/in.h>

#include "kernel/xfrm/codec/codec.h"
#include "kernel/xfrm/codec/uapi.h"

namespace ikeplex::kernel::xfrm {

namespace {

bool all_zero(const xfrm_address_t& a) noexcept {
    std::array<std::uint8_t, sizeof a> b{};
    std::memcpy(b.data(), &a, sizeof a);
    for (const std::uint8_t x : b) {
        if (x != 0) {
            return false;
        }
    }
    return true;
}

Result<IpAddress> decode_addr(const xfrm_address_t& a, std::uint16_t family) {
    std::array<std::uint8_t, sizeof a> b{};
    std::memcpy(b.data(), &a, sizeof a);
    switch (family) {
        case AF_INET:
            return IpAddress::from_bytes(ByteView(b.data(), 4));
        case AF_INET6:
            return IpAddress::from_bytes(ByteView(b.data(), 16));
        default:
            return make_error(Errc::kInvalidSyntax, "XFRM: address family not AF_INET/AF_INET6", 0,
                              family);
    }
}

/// An address that may legitimately be absent (template endpoints in transport mode, the
/// original address of an encapsulation): the family's bytes all zero give an unset address
/// (an IPv4 address is the first 4 bytes only; what follows them is not looked at).
Result<IpAddress> decode_optional_addr(const xfrm_address_t& a, std::uint16_t family) {
    auto addr = decode_addr(a, family);
    if (!addr) {
        return all_zero(a) ? Result<IpAddress>(IpAddress{}) : addr;
    }
    const ByteView b = addr->bytes();
    if (std::all_of(b.begin(), b.end(), [](std::uint8_t v) { return v == 0; })) {
        return IpAddress{};
    }
    return addr;
}

/// A selector; one of family 0 keeps family 0, its non-zero addresses read in
/// `fallback_family` (the SA's: larval SAs have addresses but no selector family).
Result<Selector> decode_selector(const xfrm_selector& x, std::uint16_t fallback_family) {
    Selector s;
    s.family = x.family;
    if (x.family != AF_UNSPEC) {
        s.src = IKEPLEX_TRY(decode_addr(x.saddr, x.family));
        s.dst = IKEPLEX_TRY(decode_addr(x.daddr, x.family));
    } else {
        s.src = IKEPLEX_TRY(decode_optional_addr(x.saddr, fallback_family));
        s.dst = IKEPLEX_TRY(decode_optional_addr(x.daddr, fallback_family));
    }
    s.src_len = x.prefixlen_s;
    s.dst_len = x.prefixlen_d;
    s.proto = x.proto;
    s.sport = ntohs(x.sport);
    s.sport_mask = ntohs(x.sport_mask);
    s.dport = ntohs(x.dport);
    s.dport_mask = ntohs(x.dport_mask);
    return s;
}

Status check_family(std::uint16_t family) {
    if (family != AF_INET && family != AF_INET6) {
        return make_error(Errc::kInvalidSyntax, "XFRM: family not AF_INET/AF_INET6", 0, family);
    }
    return ok();
}

/// A fixed struct at the start of `payload` (kTruncated when it is shorter).
template <class T>
Result<T> read_struct(ByteView payload, const char* what) {
    T t{};
    std::memset(&t, 0, sizeof t);
    if (payload.size() < sizeof t) {
        return make_error(Errc::kTruncated, what);
    }
    std::memcpy(&t, payload.data(), sizeof t);
    return t;
}

/// The payload of attribute `type` copied into T, if present; kBadLength when shorter.
template <class T>
Result<std::optional<T>> attr_struct(const std::vector<netlink::Attr>& attrs, std::uint16_t type,
                                     const char* what) {
    const auto data = netlink::find_attr(attrs, type);
    if (!data) {
        return std::optional<T>();
    }
    T t{};
    std::memset(&t, 0, sizeof t);
    if (data->size() < sizeof t) {
        return make_error(Errc::kBadLength, what);
    }
    std::memcpy(&t, data->data(), sizeof t);
    return std::optional<T>(t);
}

Result<SaInfo> decode_sa(const xfrm_usersa_info& info, const std::vector<netlink::Attr>& attrs) {
    IKEPLEX_TRY(check_family(info.family));
    SaInfo sa;
    sa.src = IKEPLEX_TRY(decode_addr(info.saddr, info.family));
    sa.dst = IKEPLEX_TRY(decode_addr(info.id.daddr, info.family));
    sa.spi = Spi(ntohl(info.id.spi));
    sa.proto = info.id.proto;
    sa.mode = static_cast<XfrmMode>(info.mode);
    sa.reqid = info.reqid;
    sa.seq = info.seq;
    sa.flags = info.flags;
    sa.replay_window = info.replay_window;
    sa.selector = IKEPLEX_TRY(decode_selector(info.sel, info.family));
    sa.counters.bytes = info.curlft.bytes;
    sa.counters.packets = info.curlft.packets;
    sa.counters.add_time = info.curlft.add_time;
    sa.counters.use_time = info.curlft.use_time;
    sa.counters.replay_window = info.stats.replay_window;
    sa.counters.replay = info.stats.replay;
    sa.counters.integrity_failed = info.stats.integrity_failed;

    const auto encap = IKEPLEX_TRY(
            attr_struct<xfrm_encap_tmpl>(attrs, XFRMA_ENCAP, "XFRM: short XFRMA_ENCAP"));
    if (encap) {
        Encap e;
        e.sport = ntohs(encap->encap_sport);
        e.dport = ntohs(encap->encap_dport);
        e.original = IKEPLEX_TRY(decode_optional_addr(encap->encap_oa, info.family));
        sa.encap = e;
    }
    if (const auto esn = netlink::find_attr(attrs, XFRMA_REPLAY_ESN_VAL)) {
        // struct xfrm_replay_state_esn, then bmp_len words of bitmap.
        xfrm_replay_state_esn h{};
        if (esn->size() < sizeof h) {
            return make_error(Errc::kBadLength, "XFRM: short XFRMA_REPLAY_ESN_VAL");
        }
        std::memcpy(&h, esn->data(), sizeof h);
        if (esn->size() < sizeof h + std::size_t{h.bmp_len} * sizeof(std::uint32_t)) {
            return make_error(Errc::kBadLength, "XFRM: XFRMA_REPLAY_ESN_VAL bitmap truncated");
        }
        sa.replay_window = h.replay_window;
        ReplayState r;
        r.oseq = (std::uint64_t{h.oseq_hi} << 32) | h.oseq;
        r.seq = (std::uint64_t{h.seq_hi} << 32) | h.seq;
        r.bitmap.resize(h.bmp_len);
        if (!r.bitmap.empty()) {
            std::memcpy(r.bitmap.data(), esn->data() + sizeof h,
                        r.bitmap.size() * sizeof(std::uint32_t));
        }
        sa.replay = std::move(r);
    } else if (const auto rs = IKEPLEX_TRY(attr_struct<xfrm_replay_state>(
                       attrs, XFRMA_REPLAY_VAL, "XFRM: short XFRMA_REPLAY_VAL"))) {
        sa.replay = ReplayState{rs->oseq, rs->seq, {rs->bitmap}};
    }
    sa.pcpu = IKEPLEX_TRY(
            attr_struct<std::uint32_t>(attrs, kXfrmaSaPcpu, "XFRM: short XFRMA_SA_PCPU"));
    sa.direction =
            IKEPLEX_TRY(attr_struct<std::uint8_t>(attrs, kXfrmaSaDir, "XFRM: short XFRMA_SA_DIR"));
    return sa;
}

/// The templates of an XFRMA_TMPL attribute (an array of struct xfrm_user_tmpl).
Result<std::vector<xfrm_user_tmpl>> raw_templates(const std::vector<netlink::Attr>& attrs) {
    std::vector<xfrm_user_tmpl> out;
    const auto data = netlink::find_attr(attrs, XFRMA_TMPL);
    if (!data) {
        return out;
    }
    if (data->size() % sizeof(xfrm_user_tmpl) != 0) {
        return make_error(Errc::kBadLength, "XFRM: XFRMA_TMPL not a whole number of templates");
    }
    out.resize(data->size() / sizeof(xfrm_user_tmpl));
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::memcpy(&out[i], data->data() + i * sizeof(xfrm_user_tmpl), sizeof(xfrm_user_tmpl));
    }
    return out;
}

}  // namespace

Result<SaInfo> parse_sa(ByteView payload) {
    const auto info =
            IKEPLEX_TRY(read_struct<xfrm_usersa_info>(payload, "XFRM: short xfrm_usersa_info"));
    const auto attrs = IKEPLEX_TRY(netlink::parse_attrs(payload, sizeof info));
    return decode_sa(info, attrs);
}

Result<SaId> parse_sa_id(ByteView payload) {
    const auto id = IKEPLEX_TRY(read_struct<xfrm_usersa_id>(payload, "XFRM: short xfrm_usersa_id"));
    IKEPLEX_TRY(check_family(id.family));
    SaId out;
    out.dst = IKEPLEX_TRY(decode_addr(id.daddr, id.family));
    out.spi = Spi(ntohl(id.spi));
    out.proto = id.proto;
    return out;
}

Result<AcquireMsg> parse_acquire(ByteView payload) {
    const auto ua =
            IKEPLEX_TRY(read_struct<xfrm_user_acquire>(payload, "XFRM: short xfrm_user_acquire"));
    const auto attrs = IKEPLEX_TRY(netlink::parse_attrs(payload, sizeof ua));
    const auto tmpls = IKEPLEX_TRY(raw_templates(attrs));

    AcquireMsg a;
    std::uint16_t outer = ua.sel.family != AF_UNSPEC ? ua.sel.family : ua.policy.sel.family;
    if (!tmpls.empty()) {
        a.reqid = tmpls.front().reqid;
        if (tmpls.front().family != AF_UNSPEC) {
            outer = tmpls.front().family;
        }
    }
    IKEPLEX_TRY(check_family(outer));
    a.src = IKEPLEX_TRY(decode_addr(ua.saddr, outer));
    a.dst = IKEPLEX_TRY(decode_addr(ua.id.daddr, outer));
    a.proto = ua.id.proto;
    a.selector = IKEPLEX_TRY(decode_selector(ua.sel, outer));
    a.policy_index = ua.policy.index;
    a.policy_dir = static_cast<Dir>(ua.policy.dir);
    a.seq = ua.seq;
    a.pcpu = IKEPLEX_TRY(
            attr_struct<std::uint32_t>(attrs, kXfrmaSaPcpu, "XFRM: short XFRMA_SA_PCPU"));
    return a;
}

Result<ExpireMsg> parse_expire(ByteView payload) {
    const auto ue =
            IKEPLEX_TRY(read_struct<xfrm_user_expire>(payload, "XFRM: short xfrm_user_expire"));
    const auto attrs = IKEPLEX_TRY(netlink::parse_attrs(payload, sizeof ue));
    ExpireMsg e;
    e.sa = IKEPLEX_TRY(decode_sa(ue.state, attrs));
    e.hard = ue.hard != 0;
    return e;
}

Result<MappingMsg> parse_mapping(ByteView payload) {
    const auto um =
            IKEPLEX_TRY(read_struct<xfrm_user_mapping>(payload, "XFRM: short xfrm_user_mapping"));
    IKEPLEX_TRY(check_family(um.id.family));
    MappingMsg m;
    m.dst = IKEPLEX_TRY(decode_addr(um.id.daddr, um.id.family));
    m.spi = Spi(ntohl(um.id.spi));
    m.proto = um.id.proto;
    m.reqid = um.reqid;
    m.old_src = IKEPLEX_TRY(decode_addr(um.old_saddr, um.id.family));
    m.old_sport = ntohs(um.old_sport);
    m.new_src = IKEPLEX_TRY(decode_addr(um.new_saddr, um.id.family));
    m.new_sport = ntohs(um.new_sport);
    return m;
}

Result<PolicySpec> parse_policy(ByteView payload) {
    const auto info = IKEPLEX_TRY(
            read_struct<xfrm_userpolicy_info>(payload, "XFRM: short xfrm_userpolicy_info"));
    const auto attrs = IKEPLEX_TRY(netlink::parse_attrs(payload, sizeof info));
    const auto tmpls = IKEPLEX_TRY(raw_templates(attrs));

    PolicySpec p;
    p.selector = IKEPLEX_TRY(decode_selector(info.sel, AF_UNSPEC));
    p.dir = static_cast<Dir>(info.dir);
    p.priority = info.priority;
    p.index = info.index;
    p.action = info.action;
    p.flags = info.flags;
    p.templates.reserve(tmpls.size());
    for (const xfrm_user_tmpl& x : tmpls) {
        // The kernel stores a template family of 0 as the selector's (validate_tmpl).
        const std::uint16_t family = x.family != AF_UNSPEC ? x.family : info.sel.family;
        Template t;
        t.dst = IKEPLEX_TRY(decode_optional_addr(x.id.daddr, family));
        t.src = IKEPLEX_TRY(decode_optional_addr(x.saddr, family));
        t.spi = Spi(ntohl(x.id.spi));
        t.proto = x.id.proto;
        t.mode = static_cast<XfrmMode>(x.mode);
        t.reqid = x.reqid;
        t.optional = x.optional != 0;
        p.templates.push_back(t);
    }
    return p;
}

}  // namespace ikeplex::kernel::xfrm
