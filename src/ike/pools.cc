// Virtual IP address pools: see pools.h for strongSwan's behaviour that this follows.
#include "ike/pools.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "util/log.h"

namespace ikeplex::ike {
namespace {

constexpr std::uint32_t kMaxHostBits = 31;  // strongSwan limits a pool to 2^31 addresses

/// The last 32 bits of an address (pools live within them).
std::uint32_t low32(const IpAddress& a) {
    const ByteView b = a.bytes();
    const std::size_t n = b.size();
    return (std::uint32_t{b[n - 4]} << 24U) | (std::uint32_t{b[n - 3]} << 16U) |
           (std::uint32_t{b[n - 2]} << 8U) | b[n - 1];
}

IpAddress with_low32(const IpAddress& a, std::uint32_t v) {
    std::array<std::uint8_t, 16> b{};
    const ByteView in = a.bytes();
    std::copy(in.begin(), in.end(), b.begin());
    const std::size_t n = in.size();
    b[n - 4] = static_cast<std::uint8_t>(v >> 24U);
    b[n - 3] = static_cast<std::uint8_t>(v >> 16U);
    b[n - 2] = static_cast<std::uint8_t>(v >> 8U);
    b[n - 1] = static_cast<std::uint8_t>(v);
    return IpAddress::from_bytes(ByteView(b.data(), n)).value_or(IpAddress{});
}

/// Same family and the same bytes above the last 32 bits.
bool same_high(const IpAddress& a, const IpAddress& b) {
    if (a.family() != b.family()) {
        return false;
    }
    const ByteView x = a.bytes();
    const ByteView y = b.bytes();
    return std::equal(x.begin(), x.end() - 4, y.begin());
}

bool any_address(const IpAddress& a) {
    return !a.is_set() || a == IpAddress::any(a.family());
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

Result<int> parse_bits(std::string_view s, int max) {
    int v = -1;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < 0 || v > max) {
        return make_error(Errc::kInvalidArgument, "invalid prefix length");
    }
    return v;
}

Result<PoolConfig> parse_range(PoolConfig p, std::string_view text, std::size_t dash) {
    auto from = IpAddress::parse(trim(text.substr(0, dash)));
    auto to = IpAddress::parse(trim(text.substr(dash + 1)));
    if (!from || !to || from->family() != to->family() ||
        std::lexicographical_compare(to->bytes().begin(), to->bytes().end(), from->bytes().begin(),
                                     from->bytes().end())) {
        return make_error(Errc::kInvalidArgument, "invalid IP address range");
    }
    if (!same_high(*from, *to)) {
        return make_error(Errc::kInvalidArgument, "IP address range too large");
    }
    const std::uint32_t diff = low32(*to) - low32(*from);
    if (diff >= (1U << kMaxHostBits)) {
        return make_error(Errc::kInvalidArgument, "IP address range too large");
    }
    p.base = *from;
    p.size = diff + 1;
    return p;
}

Result<PoolConfig> parse_subnet(PoolConfig p, std::string_view text) {
    const std::size_t slash = text.find('/');
    auto base = IpAddress::parse(trim(text.substr(0, slash)));
    if (!base) {
        return make_error(Errc::kInvalidArgument, "invalid pool address");
    }
    const int addr_bits = base->is_v4() ? 32 : 128;
    const int bits = slash == std::string_view::npos
                             ? addr_bits
                             : IKEPLEX_TRY(parse_bits(trim(text.substr(slash + 1)), addr_bits));
    const auto host_bits = std::min(static_cast<std::uint32_t>(addr_bits - bits), kMaxHostBits);
    p.base = *base;
    p.size = 1U << host_bits;
    const std::uint32_t diff = host_bits == 0 ? 0 : low32(*base) & ((1U << host_bits) - 1U);
    if (p.size > 2) {
        if (diff == 0) {
            p.skip_base = true;  // the network address is never handed out
            --p.size;
        } else {
            p.size -= diff;
        }
        --p.size;  // nor the last (broadcast) address
    } else if (diff != 0) {
        --p.size;  // a /31 from its second address: that one only
    }
    return p;
}

struct AttrKey {
    std::string_view name;
    std::uint16_t v4;
    std::uint16_t v6;
};

constexpr std::array<AttrKey, 8> kAttrKeys{{
        {"dns", cfg_attr::kIp4Dns, cfg_attr::kIp6Dns},
        {"nbns", cfg_attr::kIp4Nbns, cfg_attr::kIp6Nbns},
        {"dhcp", cfg_attr::kIp4Dhcp, cfg_attr::kIp6Dhcp},
        {"netmask", cfg_attr::kIp4Netmask, cfg_attr::kIp6Netmask},
        {"server", cfg_attr::kIp4Server, cfg_attr::kIp6Server},
        {"subnet", cfg_attr::kIp4Subnet, cfg_attr::kIp6Subnet},
        {"split_include", cfg_attr::kUnitySplitInclude, cfg_attr::kUnitySplitInclude},
        {"split_exclude", cfg_attr::kUnityLocalLan, cfg_attr::kUnityLocalLan},
}};

/// An attribute value that is an address ("a" or "a/len"): its bytes, with a netmask (IPv4)
/// or a prefix length byte (IPv6) after a "/len".
std::optional<std::pair<int, Bytes>> address_value(std::string_view value) {
    const std::size_t slash = value.find('/');
    auto a = IpAddress::parse(trim(value.substr(0, slash)));
    if (!a) {
        return std::nullopt;
    }
    Bytes out(a->bytes().begin(), a->bytes().end());
    if (slash != std::string_view::npos) {
        auto bits = parse_bits(trim(value.substr(slash + 1)), a->is_v4() ? 32 : 128);
        if (!bits) {
            return std::nullopt;
        }
        if (a->is_v4()) {
            const std::uint32_t mask = *bits == 0 ? 0 : ~0U << (32U - static_cast<unsigned>(*bits));
            out.insert(
                    out.end(),
                    {static_cast<std::uint8_t>(mask >> 24U), static_cast<std::uint8_t>(mask >> 16U),
                     static_cast<std::uint8_t>(mask >> 8U), static_cast<std::uint8_t>(mask)});
        } else {
            out.push_back(static_cast<std::uint8_t>(*bits));
        }
    }
    return std::pair{a->family(), std::move(out)};
}

}  // namespace

Result<PoolConfig> PoolConfig::parse(std::string name, std::string_view addrs) {
    PoolConfig p;
    p.name = std::move(name);
    p.addrs = trim(addrs);
    const std::string copy = p.addrs;  // p moves on below
    const std::string_view text = copy;
    if (const std::size_t dash = text.find('-'); dash != std::string_view::npos) {
        return parse_range(std::move(p), text, dash);
    }
    return parse_subnet(std::move(p), text);
}

Status PoolConfig::add_attribute(std::string_view key, std::string_view value) {
    const auto* known = std::find_if(kAttrKeys.begin(), kAttrKeys.end(),
                                     [&](const AttrKey& k) { return k.name == key; });
    int number = 0;
    if (known == kAttrKeys.end()) {
        const auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), number);
        if (ec != std::errc{} || p != key.data() + key.size() || number <= 0 || number > 32767) {
            return make_error(Errc::kInvalidArgument, "invalid attribute");
        }
    }
    auto addr = address_value(value);
    if (!addr && known != kAttrKeys.end()) {
        return make_error(Errc::kInvalidArgument, "invalid attribute value");
    }
    wire::ConfigAttribute a;
    if (known != kAttrKeys.end()) {
        a.type = addr->first == 4 ? known->v4 : known->v6;
    } else {
        a.type = static_cast<std::uint16_t>(number);
    }
    a.value = addr ? std::move(addr->second) : Bytes(value.begin(), value.end());
    attributes.push_back(std::move(a));
    return ok();
}

IpAddress PoolConfig::address(std::uint32_t i) const {
    return with_low32(base, low32(base) + i + (skip_base ? 1U : 0U));
}

std::optional<std::uint32_t> PoolConfig::index_of(const IpAddress& a) const {
    if (!same_high(a, base)) {
        return std::nullopt;
    }
    const std::uint32_t first = low32(base) + (skip_base ? 1U : 0U);
    const std::uint32_t v = low32(a);
    if (v < first || v - first >= size) {
        return std::nullopt;
    }
    return v - first;
}

std::string AddressPool::key(const Identity& id) {
    std::string k(1, static_cast<char>(id.type));
    k.append(id.data.begin(), id.data.end());
    return k;
}

std::optional<std::uint32_t> AddressPool::existing(Entry& e, const IpAddress& requested,
                                                   const Endpoint& peer) {
    if (!e.offline.empty()) {
        const std::uint32_t i = e.offline.front();
        e.offline.erase(e.offline.begin());
        e.online.push_back(Online{i, peer});
        log::info(log::Subsystem::kCfg, "reassigning offline lease to '{}'", e.id.to_string());
        return i;
    }
    const auto wanted = config_.index_of(requested);
    const auto same = std::find_if(e.online.begin(), e.online.end(), [&](const Online& o) {
        return wanted && o.index == *wanted && o.peer == peer;
    });
    if (same == e.online.end()) {
        return std::nullopt;
    }
    const Online shared = *same;
    e.online.push_back(shared);  // one more IKE SA uses it
    log::info(log::Subsystem::kCfg, "reassigning online lease to '{}'", e.id.to_string());
    return shared.index;
}

std::optional<IpAddress> AddressPool::acquire(const Identity& id, const IpAddress& requested, Op op,
                                              const Endpoint& peer) {
    if (requested.is_set() && requested.family() != config_.base.family()) {
        return std::nullopt;
    }
    const IpAddress want = any_address(requested) ? IpAddress{} : requested;
    std::optional<std::uint32_t> got;
    switch (op) {
        case Op::kExisting:
            if (auto it = entries_.find(key(id)); it != entries_.end()) {
                got = existing(it->second, want, peer);
            }
            break;
        case Op::kNew:
            if (unused_ < config_.size) {
                got = unused_++;
                auto [it, added] = entries_.try_emplace(key(id), Entry{id, {}, {}});
                it->second.online.push_back(Online{*got, peer});
                log::info(log::Subsystem::kCfg, "assigning new lease to '{}'", id.to_string());
            }
            break;
        case Op::kReassign:
            for (auto& [k, e] : entries_) {
                if (!e.offline.empty()) {
                    got = e.offline.front();
                    e.offline.erase(e.offline.begin());
                    log::info(log::Subsystem::kCfg,
                              "reassigning existing offline lease by '{}' to '{}'",
                              e.id.to_string(), id.to_string());
                    break;
                }
            }
            if (got) {
                auto [it, added] = entries_.try_emplace(key(id), Entry{id, {}, {}});
                it->second.online.push_back(Online{*got, peer});
            } else {
                log::info(log::Subsystem::kCfg, "pool '{}' is full, unable to assign address",
                          config_.name);
            }
            break;
    }
    if (!got) {
        return std::nullopt;
    }
    return config_.address(*got);
}

bool AddressPool::release(const IpAddress& a, const Identity& id) {
    const auto it = entries_.find(key(id));
    const auto index = config_.index_of(a);
    if (it == entries_.end() || !index) {
        return false;
    }
    Entry& e = it->second;
    const auto first = std::find_if(e.online.begin(), e.online.end(),
                                    [&](const Online& o) { return o.index == *index; });
    if (first == e.online.end()) {
        return false;
    }
    e.online.erase(first);
    if (std::none_of(e.online.begin(), e.online.end(),
                     [&](const Online& o) { return o.index == *index; })) {
        e.offline.push_back(*index);
        log::info(log::Subsystem::kCfg, "lease {} by '{}' went offline", a, id.to_string());
    }
    return true;
}

std::uint32_t AddressPool::online() const noexcept {
    std::uint32_t n = 0;
    for (const auto& [k, e] : entries_) {
        n += static_cast<std::uint32_t>(e.online.size());
    }
    return n;
}

std::uint32_t AddressPool::offline() const noexcept {
    std::uint32_t n = 0;
    for (const auto& [k, e] : entries_) {
        n += static_cast<std::uint32_t>(e.offline.size());
    }
    return n;
}

std::vector<Lease> AddressPool::leases() const {
    std::vector<Lease> out;
    for (const auto& [k, e] : entries_) {
        for (const Online& o : e.online) {
            out.push_back(Lease{config_.address(o.index), e.id, true});
        }
        for (const std::uint32_t i : e.offline) {
            out.push_back(Lease{config_.address(i), e.id, false});
        }
    }
    return out;
}

}  // namespace ikeplex::ike
