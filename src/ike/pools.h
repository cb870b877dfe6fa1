// Virtual IP address pools (RFC 7296 §2.19, §3.15.1) as strongSwan's vici pools define them:
// a pool is a subnet or a range of addresses with configuration attributes (DNS, NBNS, ...),
// handed out as leases keyed by the peer's identity.
//
// Facts taken from strongSwan (mem_pool.c, vici_attribute.c; behaviour, not code):
// - "10.3.0.0/24": a subnet pool; with more than two addresses its network address (when the
//   configured base is it) and its last (broadcast) address are never handed out (254
//   addresses); a base inside the subnet ("10.3.0.5/24") starts there. The same holds for IPv6.
//   At most 2^31 addresses.
// - "10.3.0.1-10.3.0.4": a range, both ends included; IPv6 ranges within one /96.
// - Leases: a lease is online while an IKE SA uses it, offline (kept for its identity) after.
//   Acquiring tries, across the named pools in order, (1) the identity's existing lease: an
//   offline one goes online again; an online one is shared only if the peer asks for exactly
//   that address from the same address and port (a second IKE SA from elsewhere gets a new
//   address); then (2) a never used address; then (3) the oldest offline lease of any
//   identity. None: the pool is full.
// - A pool reloaded with the same base and size keeps its leases (new attributes); otherwise
//   it is replaced only if it has no online lease.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ike/identity.h"
#include "util/ip_address.h"
#include "util/result.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

/// RFC 7296 §3.15.1 attribute types (and strongSwan's names of those it uses).
namespace cfg_attr {
inline constexpr std::uint16_t kIp4Address = 1;
inline constexpr std::uint16_t kIp4Netmask = 2;
inline constexpr std::uint16_t kIp4Dns = 3;
inline constexpr std::uint16_t kIp4Nbns = 4;
inline constexpr std::uint16_t kIp4Dhcp = 6;
inline constexpr std::uint16_t kIp6Address = 8;
inline constexpr std::uint16_t kIp6Netmask = 9;
inline constexpr std::uint16_t kIp6Dns = 10;
inline constexpr std::uint16_t kIp6Nbns = 11;
inline constexpr std::uint16_t kIp6Dhcp = 12;
inline constexpr std::uint16_t kIp4Subnet = 13;
inline constexpr std::uint16_t kIp6Subnet = 15;
inline constexpr std::uint16_t kIp4Server = 23456;  ///< Microsoft's, strongSwan's "server"
inline constexpr std::uint16_t kIp6Server = 23457;
inline constexpr std::uint16_t kUnitySplitInclude = 28676;  ///< Cisco Unity, "split_include"
inline constexpr std::uint16_t kUnityLocalLan = 28678;      ///< Cisco Unity, "split_exclude"
}  // namespace cfg_attr

/// One pool as configured (swanctl.conf `pools { <name> { addrs = ...; dns = ... } }`, VICI
/// load-pool).
struct PoolConfig {
    std::string name;
    std::string addrs;      ///< as configured ("10.3.0.0/24", "10.3.0.1-10.3.0.4")
    IpAddress base;         ///< the configured first address (strongSwan's get-pools "base")
    std::uint32_t size{0};  ///< addresses it can hand out
    bool skip_base{false};  ///< the base is the subnet's network address: start after it
    std::vector<wire::ConfigAttribute> attributes;  ///< in configured order

    /// A pool named `name` from `addrs`; an error naming what is wrong.
    static Result<PoolConfig> parse(std::string name, std::string_view addrs);
    /// Adds an attribute: `key` is dns, nbns, dhcp, netmask, server, subnet, split_include,
    /// split_exclude (the IPv4 or IPv6 type by the value's family) or a number (the raw type;
    /// a value that is no address is sent as its bytes). "addr/len" values carry a netmask
    /// (IPv4) or a prefix length (IPv6).
    Status add_attribute(std::string_view key, std::string_view value);
    /// The address of index `i` (0 .. size-1).
    [[nodiscard]] IpAddress address(std::uint32_t i) const;
    /// The index of `a`, if it is one of the pool's addresses.
    [[nodiscard]] std::optional<std::uint32_t> index_of(const IpAddress& a) const;
    bool operator==(const PoolConfig&) const = default;
};

/// A lease as VICI get-pools lists it.
struct Lease {
    IpAddress address;
    Identity identity;
    bool online{false};
};

class AddressPool {
public:
    explicit AddressPool(PoolConfig config) : config_(std::move(config)) {}

    enum class Op : std::uint8_t { kExisting, kNew, kReassign };
    /// One step of acquiring an address for `id` asking for `requested` (an unset or all-zero
    /// address: any) from `peer`; nothing if this step finds none.
    std::optional<IpAddress> acquire(const Identity& id, const IpAddress& requested, Op op,
                                     const Endpoint& peer);
    /// One IKE SA of `id` stops using `a`: the lease goes offline once none uses it. False if
    /// `id` holds no online lease of `a` here.
    bool release(const IpAddress& a, const Identity& id);

    [[nodiscard]] const PoolConfig& config() const noexcept { return config_; }
    /// New attributes for the same addresses (a reload that keeps the leases).
    void set_attributes(std::vector<wire::ConfigAttribute> a) { config_.attributes = std::move(a); }
    [[nodiscard]] std::uint32_t online() const noexcept;
    [[nodiscard]] std::uint32_t offline() const noexcept;
    /// Every lease: each identity's online ones (once per IKE SA using it), then its offline.
    [[nodiscard]] std::vector<Lease> leases() const;
    [[nodiscard]] bool contains(const IpAddress& a) const {
        return config_.index_of(a).has_value();
    }

private:
    struct Online {
        std::uint32_t index{0};
        Endpoint peer;
    };
    struct Entry {
        Identity id;
        std::vector<Online> online;
        std::vector<std::uint32_t> offline;
    };
    static std::string key(const Identity& id);
    std::optional<std::uint32_t> existing(Entry& e, const IpAddress& requested,
                                          const Endpoint& peer);

    PoolConfig config_;
    std::uint32_t unused_{0};               ///< indexes below this have been handed out
    std::map<std::string, Entry> entries_;  ///< by identity
};

/// The loaded pools by name.
class AddressPools {
public:
    /// Adds `config`, or updates the pool of its name: same base and size keep the leases
    /// (new attributes); otherwise replaced if no lease is online, else refused.
    Status load(PoolConfig config);
    /// Removes a pool; refused while a lease is online or if there is none of that name.
    Status unload(std::string_view name);
    /// After a configuration reload: loads each of `configs`, and unloads the pools not among
    /// them that have no online lease (those with online leases stay until they have none).
    /// Returns the names whose update was refused.
    std::vector<std::string> sync(std::vector<PoolConfig> configs);

    [[nodiscard]] const AddressPool* find(std::string_view name) const;
    [[nodiscard]] const std::map<std::string, AddressPool, std::less<>>& all() const noexcept {
        return pools_;
    }

    /// An address for `id` from the first of `pools` (names; unknown ones skipped) that has
    /// one, in strongSwan's order (existing lease, new address, reassigned offline lease).
    std::optional<IpAddress> acquire(std::span<const std::string> pools, const Identity& id,
                                     const IpAddress& requested, const Endpoint& peer);
    /// Releases `a` of `id` in whichever of `pools` holds it.
    bool release(std::span<const std::string> pools, const IpAddress& a, const Identity& id);
    /// The attributes of those of `pools` that some of `vips` came from.
    [[nodiscard]] std::vector<wire::ConfigAttribute> attributes(
            std::span<const std::string> pools, std::span<const IpAddress> vips) const;

private:
    std::map<std::string, AddressPool, std::less<>> pools_;
};

}  // namespace ikeplex::ike
