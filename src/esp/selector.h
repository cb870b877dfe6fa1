// Traffic selectors on the packet path: the 5-tuple of an inner IP packet, selector ranges in
// a compact form (network-order bytes compared with memcmp), and the policy table a worker
// looks packets up in (design.md §3: "policy lookup by traffic selectors").
//
// A Policy belongs to one reqid (one Child SA group): a packet leaving through the TUN matches
// it when its source is in `local` and its destination in `remote`; an inbound packet after
// decryption must be in the reverse (RFC 4303 §5.2 step 4: the inner selector check).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "util/bytes.h"
#include "util/ip_address.h"
#include "util/strong_id.h"

namespace ikeplex::esp {

/// The fields of an IP packet that selectors look at.
struct Flow {
    std::uint8_t family{0};  ///< 4 or 6
    std::uint8_t protocol{0};
    std::array<std::uint8_t, 16> src{};  ///< network order, first 4 bytes for IPv4
    std::array<std::uint8_t, 16> dst{};
    std::uint16_t src_port{0};  ///< 0 when the protocol has none or this is a later fragment
    std::uint16_t dst_port{0};
};

/// Reads the flow of an IPv4/IPv6 packet; nullopt if it is not a well-formed IP header.
/// IPv6 extension headers are not walked: the protocol is the first Next Header.
std::optional<Flow> parse_flow(ByteView ip) noexcept;

/// An address range with optional protocol and port range (RFC 7296 §3.13.1).
struct Selector {
    std::uint8_t family{4};
    std::uint8_t protocol{0};  ///< 0: any
    std::array<std::uint8_t, 16> start{};
    std::array<std::uint8_t, 16> end{};
    std::uint16_t start_port{0};
    std::uint16_t end_port{65535};

    static Selector from(const IpAddress& start, const IpAddress& end, std::uint8_t protocol,
                         std::uint16_t start_port, std::uint16_t end_port) noexcept;
    [[nodiscard]] bool matches_src(const Flow& f) const noexcept;
    [[nodiscard]] bool matches_dst(const Flow& f) const noexcept;
};

/// One policy: traffic between `local` and `remote` goes through the SAs of `reqid`.
struct Policy {
    ReqId reqid;
    std::vector<Selector> local;
    std::vector<Selector> remote;
    bool per_cpu{false};  ///< RFC 9611 group: raise per-resource acquires
    bool trap{false};     ///< no SA may exist yet: raise an acquire for the first packet

    [[nodiscard]] bool matches_out(const Flow& f) const noexcept;  ///< src local, dst remote
    [[nodiscard]] bool matches_in(const Flow& f) const noexcept;   ///< src remote, dst local
};

/// An immutable set of policies, most specific first; workers hold a shared_ptr snapshot and
/// the control thread publishes a new one on every change.
class PolicyTable {
public:
    explicit PolicyTable(std::vector<Policy> policies);
    /// The first policy an outbound packet matches, or nullptr.
    [[nodiscard]] const Policy* lookup_out(const Flow& f) const noexcept;
    [[nodiscard]] const std::vector<Policy>& policies() const noexcept { return policies_; }

private:
    std::vector<Policy> policies_;
};
using PolicyTablePtr = std::shared_ptr<const PolicyTable>;

}  // namespace ikeplex::esp
