#include "esp/io/rtnl.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <poll.h>

#include "util/sys_error.h"
#include "util/unique_fd.h"

namespace ikeplex::esp::io {

namespace {

constexpr std::size_t kAlign = 4;  // NLMSG_ALIGNTO, RTA_ALIGNTO
constexpr int kTimeoutMs = 2000;

constexpr std::size_t align(std::size_t n) noexcept {
    return (n + kAlign - 1) & ~(kAlign - 1);
}
static_assert(align(sizeof(nlmsghdr)) == sizeof(nlmsghdr), "message bodies follow at once");

/// One netlink request: nlmsghdr, a family header, then attributes.
class Request {
public:
    Request(std::uint16_t type, std::uint16_t flags) noexcept {
        nlmsghdr h{};
        h.nlmsg_type = type;
        h.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
        h.nlmsg_seq = kSeq;
        std::memcpy(buf_.data(), &h, sizeof h);
        len_ = align(sizeof h);
    }
    template <class T>
    void header(const T& t) noexcept {
        put(&t, sizeof t);
    }
    void attr(std::uint16_t type, const void* data, std::size_t n) noexcept {
        rtattr a{};
        a.rta_type = type;
        a.rta_len = static_cast<std::uint16_t>(align(sizeof a) + n);
        if (len_ + align(a.rta_len) > buf_.size()) {
            overflow_ = true;
            return;
        }
        std::memcpy(buf_.data() + len_, &a, sizeof a);
        std::memcpy(buf_.data() + len_ + align(sizeof a), data, n);
        len_ += align(a.rta_len);
    }
    void attr_u32(std::uint16_t type, std::uint32_t v) noexcept { attr(type, &v, sizeof v); }

    /// Sends the request and waits for its acknowledgement.
    Result<void> run() {
        return exchange([](const nlmsghdr&, ByteView) { return false; });
    }

    /// Sends the request, then reads the answers carrying our sequence number: an NLMSG_ERROR
    /// ends the exchange (error 0 = ok, else that errno); any other message goes to
    /// `on_reply(header, body)`, which returns true when it was the answer sought (the exchange
    /// then ends with ok, without waiting for the ACK that may follow).
    template <class OnReply>
    Result<void> exchange(OnReply&& on_reply) {
        if (overflow_) {
            return make_error(Errc::kInternal, "rtnetlink: request too long");
        }
        const auto total = static_cast<std::uint32_t>(len_);
        std::memcpy(buf_.data(), &total, sizeof total);  // nlmsg_len comes first
        UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
        if (!fd) {
            return sys_error("socket(NETLINK_ROUTE)");
        }
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        if (::sendto(fd.get(), buf_.data(), len_, 0, reinterpret_cast<sockaddr*>(&kernel),
                     sizeof kernel) < 0) {
            return sys_error("rtnetlink: send");
        }
        alignas(nlmsghdr) std::array<std::uint8_t, 8192> rx{};
        for (int round = 0; round < 16; ++round) {
            pollfd p{fd.get(), POLLIN, 0};
            const int pr = ::poll(&p, 1, kTimeoutMs);
            if (pr < 0 && errno == EINTR) {
                continue;
            }
            if (pr <= 0) {
                return sys_error("rtnetlink: no answer", pr == 0 ? ETIMEDOUT : errno);
            }
            const ssize_t n = ::recv(fd.get(), rx.data(), rx.size(), 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                    continue;
                }
                return sys_error("rtnetlink: receive");
            }
            std::size_t off = 0;
            const auto len = static_cast<std::size_t>(n);
            while (off + sizeof(nlmsghdr) <= len) {
                nlmsghdr h{};
                std::memcpy(&h, rx.data() + off, sizeof h);
                if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > len) {
                    break;
                }
                if (h.nlmsg_seq == kSeq) {
                    const ByteView body{rx.data() + off + sizeof h, h.nlmsg_len - sizeof h};
                    if (h.nlmsg_type == NLMSG_ERROR) {
                        nlmsgerr e{};
                        if (body.size() < sizeof e) {
                            return make_error(Errc::kNetlink, "rtnetlink: short error message");
                        }
                        std::memcpy(&e, body.data(), sizeof e);
                        if (e.error == 0) {
                            return ok();
                        }
                        return sys_error("rtnetlink: request refused", -e.error);
                    }
                    if (on_reply(h, body)) {
                        return ok();
                    }
                }
                off += align(h.nlmsg_len);
            }
        }
        return make_error(Errc::kNetlink, "rtnetlink: no acknowledgement");
    }

private:
    static constexpr std::uint32_t kSeq = 1;

    void put(const void* p, std::size_t n) noexcept {
        if (len_ + align(n) > buf_.size()) {
            overflow_ = true;
            return;
        }
        std::memcpy(buf_.data() + len_, p, n);
        len_ += align(n);
    }

    std::array<std::uint8_t, 512> buf_{};
    std::size_t len_{0};
    bool overflow_{false};
};

unsigned char family_of(const IpAddress& a) noexcept {
    return a.is_v4() ? AF_INET : AF_INET6;
}

Result<void> check_prefix(const IpAddress& prefix, unsigned prefix_len) {
    if (!prefix.is_set() || prefix_len > prefix.size() * 8) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: bad prefix or prefix length");
    }
    return ok();
}

/// The prefix with its host bits cleared (the kernel refuses IPv4 routes with them set).
std::array<std::uint8_t, 16> masked(const IpAddress& prefix, unsigned prefix_len) noexcept {
    std::array<std::uint8_t, 16> b{};
    const ByteView src = prefix.bytes();
    for (std::size_t i = 0; i < src.size(); ++i) {
        const std::size_t bit = i * 8;
        if (bit + 8 <= prefix_len) {
            b[i] = src[i];
        } else if (bit < prefix_len) {
            b[i] = static_cast<std::uint8_t>(src[i] & (0xFFU << (8 - (prefix_len - bit))));
        }
    }
    return b;
}

Result<void> link_request(unsigned ifindex, bool up, unsigned mtu) {
    Request r(RTM_NEWLINK, 0);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = static_cast<int>(ifindex);
    if (up) {
        ifi.ifi_flags = IFF_UP;
        ifi.ifi_change = IFF_UP;
    }
    r.header(ifi);
    if (mtu != 0) {
        r.attr_u32(IFLA_MTU, mtu);
    }
    return r.run();
}

Result<void> check_family(const std::optional<IpAddress>& a, const IpAddress& prefix,
                          const char* detail) {
    if (a && (!a->is_set() || a->family() != prefix.family())) {
        return make_error(Errc::kInvalidArgument, detail);
    }
    return ok();
}

Result<void> route_request(bool add, const RouteSpec& spec) {
    IKEPLEX_TRY(check_prefix(spec.prefix, spec.prefix_len));
    IKEPLEX_TRY(
            check_family(spec.src, spec.prefix, "rtnetlink: source and prefix families differ"));
    IKEPLEX_TRY(check_family(spec.gateway, spec.prefix,
                             "rtnetlink: gateway and prefix families differ"));
    Request r(add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
    rtmsg rt{};
    rt.rtm_family = family_of(spec.prefix);
    rt.rtm_dst_len = static_cast<unsigned char>(spec.prefix_len);
    rt.rtm_table = static_cast<unsigned char>(spec.table <= 255 ? spec.table : RT_TABLE_UNSPEC);
    rt.rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC;
    if (!add) {
        rt.rtm_scope = RT_SCOPE_NOWHERE;
    } else if (spec.gateway || !spec.prefix.is_v4()) {
        rt.rtm_scope = RT_SCOPE_UNIVERSE;
    } else {
        rt.rtm_scope = RT_SCOPE_LINK;
    }
    rt.rtm_type = RTN_UNICAST;
    r.header(rt);
    const auto dst = masked(spec.prefix, spec.prefix_len);
    r.attr(RTA_DST, dst.data(), spec.prefix.size());
    if (spec.table > 255) {
        r.attr_u32(RTA_TABLE, spec.table);
    }
    if (spec.oif != 0) {
        r.attr_u32(RTA_OIF, spec.oif);
    }
    if (spec.gateway) {
        r.attr(RTA_GATEWAY, spec.gateway->bytes().data(), spec.gateway->size());
    }
    if (spec.src) {
        r.attr(RTA_PREFSRC, spec.src->bytes().data(), spec.src->size());
    }
    return r.run();
}

/// An address attribute of a reply (4 or 16 bytes), or nothing if it is malformed.
std::optional<IpAddress> address_attr(ByteView v) {
    auto a = IpAddress::from_bytes(v);
    if (!a) {
        return std::nullopt;
    }
    return *a;
}

/// The rtmsg and attributes of an RTM_NEWROUTE reply; every length is checked.
Result<RouteTo> parse_route(ByteView body) {
    if (body.size() < sizeof(rtmsg)) {
        return make_error(Errc::kNetlink, "rtnetlink: short route message");
    }
    RouteTo out;
    std::size_t off = align(sizeof(rtmsg));
    while (off + sizeof(rtattr) <= body.size()) {
        rtattr a{};
        std::memcpy(&a, body.data() + off, sizeof a);
        if (a.rta_len < sizeof a || off + a.rta_len > body.size()) {
            return make_error(Errc::kNetlink, "rtnetlink: bad attribute length in route");
        }
        const ByteView v = body.subspan(off + align(sizeof a), a.rta_len - align(sizeof a));
        switch (a.rta_type) {
            case RTA_OIF:
                if (v.size() == sizeof(std::uint32_t)) {
                    std::uint32_t oif = 0;
                    std::memcpy(&oif, v.data(), sizeof oif);
                    out.oif = oif;
                }
                break;
            case RTA_GATEWAY:
                out.gateway = address_attr(v);
                break;
            case RTA_PREFSRC:
                out.prefsrc = address_attr(v);
                break;
            default:
                break;
        }
        off += align(a.rta_len);
    }
    return out;
}

Result<void> check_rule_args(int family, unsigned table) {
    if (family != AF_INET && family != AF_INET6) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: rule family not AF_INET(6)");
    }
    if (table == RT_TABLE_UNSPEC) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: rule for table 0");
    }
    return ok();
}

Result<void> rule_request(bool add, int family, unsigned table, unsigned priority) {
    IKEPLEX_TRY(check_rule_args(family, table));
    Request r(add ? RTM_NEWRULE : RTM_DELRULE, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    fib_rule_hdr frh{};
    frh.family = static_cast<std::uint8_t>(family);
    frh.table = static_cast<std::uint8_t>(table <= 255 ? table : RT_TABLE_UNSPEC);
    frh.action = FR_ACT_TO_TBL;
    r.header(frh);
    if (table > 255) {
        r.attr_u32(FRA_TABLE, table);
    }
    r.attr_u32(FRA_PRIORITY, priority);
    return r.run();
}

}  // namespace

Result<void> link_up(unsigned ifindex, unsigned mtu) {
    return link_request(ifindex, true, mtu);
}

Result<void> set_mtu(unsigned ifindex, unsigned mtu) {
    if (mtu == 0) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: MTU 0");
    }
    return link_request(ifindex, false, mtu);
}

Result<void> add_address(unsigned ifindex, const IpAddress& addr, unsigned prefix_len) {
    IKEPLEX_TRY(check_prefix(addr, prefix_len));
    Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    ifaddrmsg ifa{};
    ifa.ifa_family = family_of(addr);
    ifa.ifa_prefixlen = static_cast<unsigned char>(prefix_len);
    ifa.ifa_flags = IFA_F_NODAD;
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = ifindex;
    r.header(ifa);
    if (addr.is_v4()) {
        r.attr(IFA_LOCAL, addr.bytes().data(), addr.size());
    }
    r.attr(IFA_ADDRESS, addr.bytes().data(), addr.size());
    return r.run();
}

Result<void> add_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len,
                       const IpAddress* src) {
    RouteSpec spec{prefix, prefix_len, RT_TABLE_MAIN, ifindex, std::nullopt, std::nullopt};
    if (src != nullptr) {
        spec.src = *src;
    }
    return add_route(spec);
}

Result<void> del_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len) {
    return del_route(
            RouteSpec{prefix, prefix_len, RT_TABLE_MAIN, ifindex, std::nullopt, std::nullopt});
}

Result<void> add_route(const RouteSpec& r) {
    return route_request(true, r);
}

Result<void> del_route(const RouteSpec& r) {
    return route_request(false, r);
}

Result<RouteTo> route_to(const IpAddress& dst) {
    if (!dst.is_set()) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: route lookup without address");
    }
    Request r(RTM_GETROUTE, 0);
    rtmsg rt{};
    rt.rtm_family = family_of(dst);
    rt.rtm_dst_len = static_cast<unsigned char>(dst.size() * 8);
    r.header(rt);
    r.attr(RTA_DST, dst.bytes().data(), dst.size());
    std::optional<Result<RouteTo>> found;
    IKEPLEX_TRY(r.exchange([&](const nlmsghdr& h, ByteView body) {
        if (h.nlmsg_type != RTM_NEWROUTE) {
            return false;
        }
        found = parse_route(body);
        return true;
    }));
    if (!found) {
        return make_error(Errc::kNetlink, "rtnetlink: acknowledged without a route");
    }
    return *found;
}

Result<void> add_rule(int family, unsigned table, unsigned priority) {
    auto r = rule_request(true, family, table, priority);
    if (!r && r.error().code == Errc::kSystem && r.error().sys_errno == EEXIST) {
        return ok();
    }
    return r;
}

Result<void> del_rule(int family, unsigned table, unsigned priority) {
    return rule_request(false, family, table, priority);
}

}  // namespace ikeplex::esp::io
