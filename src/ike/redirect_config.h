// RFC 5685 redirection as configured (ikeplexd.conf's `redirect { }` section and
// follow_redirects): where a gateway sends a client, and which clients.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/ip_address.h"

namespace ikeplex::ike {

/// A gateway a REDIRECT names (RFC 5685 §9.2): an address, or an FQDN the host resolves.
struct Gateway {
    std::optional<IpAddress> address;
    std::string fqdn;  ///< set when `address` is not

    /// An IPv4 or IPv6 address, else an FQDN (letters, digits, '-', '.'; 1 to 255 bytes).
    static std::optional<Gateway> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;
    bool operator==(const Gateway&) const = default;
};

/// An address or subnet ("10.0.0.0/8", "2001:db8::/32", "10.0.0.1").
struct AddressPrefix {
    IpAddress address;
    std::uint8_t length{0};

    static std::optional<AddressPrefix> parse(std::string_view text);
    [[nodiscard]] bool contains(const IpAddress& a) const noexcept;
};

/// One `redirect { NAME { ... } }` rule. A rule without remote_id is checked in IKE_SA_INIT,
/// one with remote_id in IKE_AUTH (the peer's IDi is known there). Every condition given must
/// hold; rules are tried in file order, the first that matches redirects.
struct RedirectRule {
    std::string name;
    Gateway gateway;
    std::vector<AddressPrefix> remote_addrs;  ///< the peer's address in one (empty: any)
    std::vector<std::string> remote_id;       ///< IDi matches one (fnmatch(3) wildcards)
    /// Only while more than this many IKE SAs are established here (load; nullopt: always).
    std::optional<std::uint32_t> established_above;
};

/// Client role: strongSwan follows at most 5 redirects of one connection in 5 minutes (RFC 5685
/// §7's MAX_REDIRECTS and REDIRECT_LOOP_DETECT_PERIOD defaults).
inline constexpr std::uint32_t kMaxRedirects = 5;
inline constexpr std::int64_t kRedirectLoopPeriodSeconds = 300;

}  // namespace ikeplex::ike
