// Traffic selectors (RFC 7296 §3.13.1) as address/port/protocol ranges, and the narrowing a
// responder applies to the initiator's proposal (RFC 7296 §2.9).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/ip_address.h"
#include "util/result.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

struct TrafficSelector {
    IpAddress start;
    IpAddress end;
    std::uint8_t protocol{0};  ///< 0 = any
    std::uint16_t start_port{0};
    std::uint16_t end_port{65535};
    /// swanctl.conf's "dynamic" (with an optional "[proto/port]"): the IKE SA's own address
    /// (in local_ts) or the peer's (in remote_ts), filled in by resolve_dynamic(); start and
    /// end are unset until then. Only configured selectors are dynamic, never negotiated ones.
    bool dynamic{false};

    /// All addresses of a family, any protocol and port.
    static TrafficSelector any(int family);
    /// "10.99.1.0/24", "10.0.0.1", "2001:db8::/64", "10.0.0.1-10.0.0.9", each optionally
    /// followed by strongSwan's "[proto/port]" ("[tcp/443]", "[udp]", "[/53]", "[6/1024-2048]",
    /// "[udp/%any]", service names "[udp/l2tp]", "[tcp/https]"); "dynamic" and "%any" take one
    /// too. `why`, if given, gets an error's message naming what is wrong ("unknown protocol
    /// 'foo'").
    static Result<TrafficSelector> parse(std::string_view text, std::string* why = nullptr);
    static Result<TrafficSelector> from_wire(const wire::TrafficSelector& w);
    [[nodiscard]] wire::TrafficSelector to_wire() const;

    [[nodiscard]] int family() const noexcept { return start.family(); }
    /// Whether this selector covers all of `other`.
    [[nodiscard]] bool contains(const TrafficSelector& other) const noexcept;
    /// Whether the packet (address, protocol, port) falls inside.
    [[nodiscard]] bool matches(const IpAddress& addr, std::uint8_t proto,
                               std::uint16_t port) const noexcept;
    /// strongSwan's notation: "10.99.1.0/24", "10.0.0.1..10.0.0.9", "...[tcp/443]".
    [[nodiscard]] std::string to_string() const;

    // NOLINTNEXTLINE(modernize-use-nullptr,readability-implicit-bool-conversion): false positive
    auto operator<=>(const TrafficSelector&) const = default;
};

/// Configured selectors with every dynamic one given `address` (left out if `address` is
/// unset).
std::vector<TrafficSelector> resolve_dynamic(std::span<const TrafficSelector> configured,
                                             const IpAddress& address);

/// The intersection of two selectors, or nothing.
std::optional<TrafficSelector> intersect(const TrafficSelector& a, const TrafficSelector& b);

/// RFC 7296 §2.9 narrowing: every intersection of a proposed selector with a configured one,
/// in the order proposed, without duplicates or selectors that another one of the result
/// contains.
std::vector<TrafficSelector> narrow(std::span<const TrafficSelector> proposed,
                                    std::span<const TrafficSelector> configured);

/// "10.99.1.0/24 10.99.3.0/24"
std::string to_string(std::span<const TrafficSelector> list);

std::vector<TrafficSelector> from_wire(const wire::TsPayload& p);
wire::TsPayload to_wire(std::span<const TrafficSelector> list);

}  // namespace ikeplex::ike
