// Socket options an IKE daemon on the kernel's IPsec needs (the XFRM backend):
// - IKE sockets bypass IPsec policies (IP_XFRM_POLICY / IPV6_XFRM_POLICY with an ALLOW policy
//   per direction, struct xfrm_userpolicy_info), so that IKE messages to a peer covered by a
//   policy (host-to-host, transport mode) are never encrypted or dropped by it;
// - the NAT-T socket (port 4500) decapsulates ESP in UDP in the kernel (UDP_ENCAP =
//   UDP_ENCAP_ESPINUDP, RFC 3948), while IKE messages (non-ESP marker) still reach the socket.
#pragma once

#include "util/result.h"

namespace ikeplex::kernel::xfrm {

/// `family` 4 or 6. kSystem with errno on failure.
Status bypass_policies(int fd, int family);
Status enable_udp_encap(int fd);

}  // namespace ikeplex::kernel::xfrm
