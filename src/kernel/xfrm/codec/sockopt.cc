#include "kernel/xfrm/codec/sockopt.h"

#include <cerrno>

#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace ikeplex::kernel::xfrm {

Status bypass_policies(int fd, int family) {
    for (std::uint8_t dir : {XFRM_POLICY_IN, XFRM_POLICY_OUT}) {
        xfrm_userpolicy_info p{};
        p.action = XFRM_POLICY_ALLOW;
        p.sel.family = family == 6 ? AF_INET6 : AF_INET;
        p.dir = dir;
        const int level = family == 6 ? IPPROTO_IPV6 : IPPROTO_IP;
        const int opt = family == 6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
        if (::setsockopt(fd, level, opt, &p, sizeof p) != 0) {
            return Error{Errc::kSystem, "cannot make the IKE socket bypass IPsec policies", errno,
                         0, dir};
        }
    }
    return ok();
}

Status enable_udp_encap(int fd) {
    const int type = UDP_ENCAP_ESPINUDP;
    if (::setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof type) != 0) {
        return Error{Errc::kSystem, "cannot enable ESP-in-UDP on the NAT-T socket", errno, 0, 0};
    }
    return ok();
}

}  // namespace ikeplex::kernel::xfrm
