#include "esp/io/rtnl.h"

#include <array>
#include <cerrno>
#include <cstring>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <poll.h>

#include "esp/io/fd.h"

namespace ikeplex::esp::io {

namespace {

constexpr std::size_t kAlign = 4;  // NLMSG_ALIGNTO, RTA_ALIGNTO
constexpr int kTimeoutMs = 2000;

constexpr std::size_t align(std::size_t n) noexcept {
    return (n + kAlign - 1) & ~(kAlign - 1);
}

/// One netlink request: nlmsghdr, a family header, then attributes.
class Request {
public:
    Request(std::uint16_t type, std::uint16_t flags) noexcept {
        nlmsghdr h{};
        h.nlmsg_type = type;
        h.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
        h.nlmsg_seq = 1;
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
        if (overflow_) {
            return make_error(Errc::kInternal, "rtnetlink: request too long");
        }
        const auto total = static_cast<std::uint32_t>(len_);
        std::memcpy(buf_.data(), &total, sizeof total);  // nlmsg_len comes first
        Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
        if (!fd) {
            return sys_error("socket(NETLINK_ROUTE)");
        }
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        if (::sendto(fd.get(), buf_.data(), len_, 0, reinterpret_cast<sockaddr*>(&kernel),
                     sizeof kernel) < 0) {
            return sys_error("rtnetlink: send");
        }
        return wait_ack(fd.get());
    }

private:
    void put(const void* p, std::size_t n) noexcept {
        if (len_ + align(n) > buf_.size()) {
            overflow_ = true;
            return;
        }
        std::memcpy(buf_.data() + len_, p, n);
        len_ += align(n);
    }

    static Result<void> wait_ack(int fd) {
        alignas(nlmsghdr) std::array<std::uint8_t, 8192> rx{};
        for (int round = 0; round < 16; ++round) {
            pollfd p{fd, POLLIN, 0};
            const int pr = ::poll(&p, 1, kTimeoutMs);
            if (pr < 0 && errno == EINTR) {
                continue;
            }
            if (pr <= 0) {
                return sys_error("rtnetlink: no answer", pr == 0 ? ETIMEDOUT : errno);
            }
            const ssize_t n = ::recv(fd, rx.data(), rx.size(), 0);
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
                if (h.nlmsg_type == NLMSG_ERROR && h.nlmsg_seq == 1) {
                    nlmsgerr e{};
                    if (h.nlmsg_len < align(sizeof h) + sizeof e) {
                        return make_error(Errc::kNetlink, "rtnetlink: short error message");
                    }
                    std::memcpy(&e, rx.data() + off + align(sizeof h), sizeof e);
                    if (e.error == 0) {
                        return ok();
                    }
                    return sys_error("rtnetlink: request refused", -e.error);
                }
                off += align(h.nlmsg_len);
            }
        }
        return make_error(Errc::kNetlink, "rtnetlink: no acknowledgement");
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

Result<void> route_request(bool add, unsigned ifindex, const IpAddress& prefix, unsigned prefix_len,
                           const IpAddress* src) {
    IKEPLEX_TRY(check_prefix(prefix, prefix_len));
    if (src != nullptr && src->family() != prefix.family()) {
        return make_error(Errc::kInvalidArgument, "rtnetlink: source and prefix families differ");
    }
    Request r(add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
    rtmsg rt{};
    rt.rtm_family = family_of(prefix);
    rt.rtm_dst_len = static_cast<unsigned char>(prefix_len);
    rt.rtm_table = RT_TABLE_MAIN;
    rt.rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC;
    rt.rtm_scope = !add ? RT_SCOPE_NOWHERE : prefix.is_v4() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    rt.rtm_type = RTN_UNICAST;
    r.header(rt);
    const auto dst = masked(prefix, prefix_len);
    r.attr(RTA_DST, dst.data(), prefix.size());
    r.attr_u32(RTA_OIF, ifindex);
    if (src != nullptr) {
        r.attr(RTA_PREFSRC, src->bytes().data(), src->size());
    }
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
    return route_request(true, ifindex, prefix, prefix_len, src);
}

Result<void> del_route(unsigned ifindex, const IpAddress& prefix, unsigned prefix_len) {
    return route_request(false, ifindex, prefix, prefix_len, nullptr);
}

}  // namespace ikeplex::esp::io
