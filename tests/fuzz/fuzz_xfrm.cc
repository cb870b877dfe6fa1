// libFuzzer target: what the kernel sends on a NETLINK_XFRM socket (src/kernel/xfrm). The input
// is one datagram: split_messages, then every message through the parser its type calls for
// (NLMSG_ERROR -> parse_ack, NEWSA/UPDSA -> parse_sa, DELSA -> parse_sa_id, ACQUIRE ->
// parse_acquire, EXPIRE -> parse_expire, MAPPING -> parse_mapping, NEWPOLICY/UPDPOLICY ->
// parse_policy) and, since a confused kernel or a bug could mislabel a message, through every
// other parser as well; parse_attrs after header lengths of the real family headers and one
// taken from the input. Checked: every view handed out lies inside the input, messages and
// attributes tile what they came from, find_attr agrees with parse_attrs, and a parsed policy
// or SA built again by the codec parses to the same thing.
// Seeds: tests/fuzz/corpus/xfrm (real kernel datagrams; README there).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "kernel/xfrm/codec/codec.h"
#include "kernel/xfrm/codec/uapi.h"
#include "netlink/message.h"

namespace {

using namespace ikeplex;
using namespace ikeplex::kernel::xfrm;

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

constexpr std::size_t align4(std::size_t n) {
    return (n + 3) & ~std::size_t{3};
}

bool inside(ByteView inner, ByteView outer) {
    if (inner.empty()) {
        return true;
    }
    const auto* b = outer.data();
    const auto* e = outer.data() + outer.size();
    return inner.data() >= b && inner.data() + inner.size() <= e;
}

void check_attrs(ByteView payload, std::size_t header_len) {
    const auto attrs = netlink::parse_attrs(payload, header_len);
    if (!attrs) {
        return;
    }
    require(header_len <= payload.size());
    std::size_t total = 0;
    for (const netlink::Attr& a : *attrs) {
        require(inside(a.data, payload));
        require(a.data.data() >= payload.data() + header_len + 4);
        require((a.type & (NLA_F_NESTED | NLA_F_NET_BYTEORDER)) == 0);
        total += align4(a.data.size() + sizeof(nlattr));
        const auto first = netlink::find_attr(*attrs, a.type);
        require(first.has_value() && inside(*first, payload));
    }
    // The attributes fit in what follows the header (the last one may lack its padding).
    require(total <= align4(payload.size() - header_len));
}

/// A zero address and no address mean the same in a template (transport mode). The parser
/// reads "no address" only when all 16 bytes of xfrm_address_t are zero, so an IPv4 template
/// with junk after its first 4 (zero) bytes reads as 0.0.0.0 and comes back unset.
PolicySpec normalized(PolicySpec p) {
    for (Template& t : p.templates) {
        for (IpAddress* a : {&t.src, &t.dst}) {
            if (a->is_set() && *a == IpAddress::any(a->family())) {
                *a = IpAddress();
            }
        }
    }
    return p;
}

void parse_all(const netlink::Message& m) {
    // By type first (what the backend does), then everything else: none may misbehave.
    switch (m.type) {
        case NLMSG_ERROR:
            if (netlink::parse_ack(m)) {
                require(m.payload.size() >= sizeof(int));  // struct nlmsgerr's error at least
            }
            break;
        case XFRM_MSG_NEWSA:
        case XFRM_MSG_UPDSA:
            if (auto sa = parse_sa(m.payload)) {
                require(!sa->src.is_set() || sa->src.family() == 4 || sa->src.family() == 6);
            }
            break;
        case XFRM_MSG_NEWPOLICY:
        case XFRM_MSG_UPDPOLICY:
            // Built again by the codec (as an update), a policy reads back the same. Only with
            // a selector family: the kernel refuses others ("Invalid selector family"), and
            // the builder takes family 0 to mean "from the addresses or the template".
            if (auto p = parse_policy(m.payload); p && p->selector.family != 0) {
                auto req = build_new_policy(*p, true);
                if (req.ok()) {
                    auto again = parse_policy(req.body());
                    require(again.has_value());
                    require(normalized(*again) == normalized(*p));
                }
            }
            break;
        default:
            break;
    }
    static_cast<void>(netlink::parse_ack(m));
    static_cast<void>(parse_sa(m.payload));
    static_cast<void>(parse_sa_id(m.payload));
    static_cast<void>(parse_acquire(m.payload));
    static_cast<void>(parse_expire(m.payload));
    static_cast<void>(parse_mapping(m.payload));
    static_cast<void>(parse_policy(m.payload));
    static_cast<void>(message_name(m.type));
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    if (auto msgs = netlink::split_messages(in)) {
        for (const netlink::Message& m : *msgs) {
            require(inside(m.payload, in));
            parse_all(m);
            for (const std::size_t hl :
                 {std::size_t{0}, sizeof(xfrm_usersa_id), sizeof(xfrm_userpolicy_id),
                  sizeof(xfrm_userpolicy_info), sizeof(xfrm_usersa_info), sizeof(xfrm_userspi_info),
                  sizeof(xfrm_user_acquire), sizeof(xfrm_user_expire), sizeof(xfrm_user_mapping)}) {
                check_attrs(m.payload, align4(hl));
            }
        }
    }
    // The whole input as one payload, attributes after a header length the input chooses.
    if (size >= 2) {
        const std::size_t hl = (std::size_t{data[0]} | (std::size_t{data[1]} << 8U)) & 0x1ffU;
        check_attrs(in, hl);
        check_attrs(in, size + 1);  // beyond the payload: must fail cleanly
    }
    netlink::Message raw;
    raw.type = NLMSG_ERROR;
    raw.payload = in;
    parse_all(raw);
    return 0;
}
