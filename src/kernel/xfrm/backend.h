// Backend "xfrm" (design.md §5): the engine's SA and policy commands become Linux XFRM state and
// policies over NETLINK_XFRM, the way strongSwan 6's kernel-netlink drives them
// (../shared/docs/peers.md §1.7, §3):
// - inbound SPIs come from the kernel (XFRM_MSG_ALLOCSPI, bound to the CPU of a per-CPU member
//   with XFRMA_SA_PCPU), and the SA is then installed over that larval state (UPDSA);
// - SAs carry XFRMA_SA_PCPU in both directions when they belong to a resource (RFC 9611);
// - policies in/out (and fwd in tunnel mode) per selector pair, with a priority from the
//   selectors' specificity; the outbound template never names an SPI, and a per-CPU group's
//   outbound policy has XFRM_POLICY_CPU_ACQUIRE, so the kernel asks for an SA per CPU;
// - kernel events: ACQUIRE (XFRMA_SA_PCPU -> the resource), EXPIRE (soft -> rekey, hard ->
//   delete), MAPPING (the peer's NAT port moved: outbound SAs follow, the IKE SA too);
// - tunnel-mode routes to the remote selectors in table 220 (rule priority 220), via the
//   interface that reaches the peer, with a local inner address as source;
// - virtual IPs (virtual_ip()) as /32 (/128) on the interface that reaches the peer, before the
//   Child SA's routes, which then take them as source.
// At start a probe asks the kernel whether it can install ESP SAs at all and whether it knows
// per-CPU SAs; both answers are logged and available to the configuration checks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ike/services.h"
#include "kernel/backend.h"
#include "kernel/vip_placement.h"
#include "kernel/xfrm/codec/codec.h"
#include "kernel/xfrm/selectors.h"
#include "netlink/socket.h"

namespace ikeplex::kernel {

struct XfrmOptions {
    unsigned route_table{220};  ///< 0: install no routes
    unsigned route_rule_priority{220};
    bool probe{true};  ///< run the start-up probe (tests of the codec path may skip it)
};

/// What the start-up probe found.
struct XfrmProbe {
    bool esp{false};         ///< an ESP SA could be installed
    bool per_cpu{false};     ///< XFRMA_SA_PCPU is known (Linux 6.13+, or a 6.12.y backport)
    std::string esp_detail;  ///< why not, in the kernel's words
    std::string per_cpu_detail;
};

/// Counters of the backend itself (`ikeplex counters`, VICI get-counters).
struct XfrmCounters {
    std::uint64_t netlink_errors{0};  ///< requests the kernel refused
    std::uint64_t sa_install_failed{0};
    std::uint64_t acquires{0};
    std::uint64_t expires{0};
    std::uint64_t mappings{0};
    std::uint64_t malformed_events{0};  ///< kernel messages that did not parse
    std::uint64_t spi_fallbacks{0};     ///< ALLOCSPI failed: a random SPI was used instead
};

class XfrmBackend final : public Backend, public ike::SpiAllocator {
public:
    /// Opens the netlink sockets (requests; events: ACQUIRE, EXPIRE, MAPPING) in the caller's
    /// network namespace and runs the probe.
    static Result<std::unique_ptr<XfrmBackend>> create(XfrmOptions options);
    ~XfrmBackend() override;
    XfrmBackend(const XfrmBackend&) = delete;
    XfrmBackend& operator=(const XfrmBackend&) = delete;
    XfrmBackend(XfrmBackend&&) = delete;
    XfrmBackend& operator=(XfrmBackend&&) = delete;

    [[nodiscard]] const char* name() const noexcept override { return "xfrm"; }
    void apply(std::vector<ike::BackendCommand>& commands) override;
    [[nodiscard]] std::optional<SaStats> stats(Spi spi, bool inbound) const override;
    [[nodiscard]] std::size_t installed_sas() const noexcept override { return sas_.size(); }
    [[nodiscard]] std::size_t installed_policies() const noexcept override;
    [[nodiscard]] int event_fd() noexcept override { return events_.fd(); }
    void poll_events() override;
    /// Adds the address as /32 (/128) to the interface of the route to `peer` (as strongSwan's
    /// kernel-netlink does), or removes it from the interface it was put on. The daemon counts
    /// the IKE SAs sharing an address; tunnel routes installed afterwards take it as source.
    Status virtual_ip(const IpAddress& address, bool add, const IpAddress& peer) override;

    // ike::SpiAllocator
    Spi allocate(const ike::SpiRequest& request) override;
    void release(Spi spi) override;

    [[nodiscard]] const XfrmProbe& probe() const noexcept { return probe_; }
    [[nodiscard]] const XfrmCounters& xfrm_counters() const noexcept { return counters_; }
    [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> counters() const override;

    /// Removes every SA, policy, route and rule this backend installed (also on destruction).
    void flush();

private:
    struct KernelPolicy {
        xfrm::Selector selector;
        xfrm::Dir dir{xfrm::Dir::kOut};
    };
    struct InstalledSa {
        bool inbound{false};
        std::uint32_t reqid{0};
        /// The SA's description (keys included, in zeroising buffers), so that a NAT mapping
        /// change of the peer's port (UPDSA) or MOBIKE (move.cc) can move it.
        std::optional<xfrm::SaSpec> spec;
    };
    /// The kernel's identity of an SA: (spi, destination) (ESP only).
    using SaKey = std::pair<Spi, IpAddress>;
    struct Route {
        IpAddress prefix;
        unsigned len{0};
        auto operator<=>(const Route&) const = default;  // NOLINT(modernize-use-nullptr)
    };
    using PolicyKey =
            std::tuple<ReqId, std::vector<ike::TrafficSelector>, std::vector<ike::TrafficSelector>>;

    static constexpr std::uint8_t kEsp = 50;  // IPPROTO_ESP
    /// ALLOCSPI range: everything above the reserved 1..255 (RFC 4303 §2.1).
    static constexpr std::uint32_t kSpiMin = 0x100;
    static constexpr std::uint32_t kSpiMax = 0xffffffff;

    /// Only create() makes the token, so only it constructs (through std::make_unique).
    struct Token {
        explicit Token() = default;
    };

public:
    XfrmBackend(Token, XfrmOptions options, netlink::Socket requests,
                netlink::Socket events) noexcept;

private:
    void run_probe();
    /// False when it failed (and was reported).
    bool install_sa(ike::InstallSa& c);
    /// The kernel's description of the SA `c` installs (its keys move out of `c`).
    xfrm::SaSpec sa_spec(ike::InstallSa& c, const xfrm::KernelAlg& enc,
                         const std::optional<xfrm::KernelAlg>& integ) const;
    void delete_sa(const ike::DeleteSa& c);
    void install_policy(const ike::InstallPolicy& p);
    void delete_policy(const ike::DeletePolicy& p);
    /// False when the peer cannot be reached (no route to it yet): try again later.
    bool add_routes(const ike::InstallPolicy& p);
    void remove_routes(const std::vector<ike::TrafficSelector>& remote);
    void on_mapping(const xfrm::MappingMsg& m);
    /// MOBIKE (move.cc): the SA to its new addresses, keeping SPI, keys, CPU and counters.
    void move_sa(const ike::UpdateSaAddresses& c);
    /// The SA as the kernel has it now (GETSA), keys wiped from the answer.
    [[nodiscard]] std::optional<xfrm::SaInfo> current(const SaKey& key) const;
    /// A tunnel-mode policy's routes: added once, and again when its endpoints moved.
    void route_policy(const PolicyKey& key, const ike::InstallPolicy& p);
    /// One request; logs and counts a kernel refusal. Returns the kernel's errno (0 = done) or
    /// the failure of the exchange itself.
    Result<netlink::Socket::Reply> request(netlink::Request req, const char* what);
    /// One request, quietly (queries, clean-up).
    Result<netlink::Socket::Reply> send(netlink::Request req) const;

    XfrmOptions options_;
    mutable netlink::Socket requests_;
    netlink::Socket events_;
    XfrmProbe probe_;
    XfrmCounters counters_;
    std::map<Spi, IpAddress> larval_;  ///< ALLOCSPI'ed, not installed yet: spi -> local address
    using SaMap = std::map<SaKey, InstalledSa>;
    SaMap sas_;
    [[nodiscard]] const SaKey* find_sa(Spi spi, bool inbound) const;
    /// The SA (spi, dst), else the SA of that SPI and direction (the engine's dst may be stale).
    SaMap::iterator locate(Spi spi, const IpAddress& dst, bool inbound);
    std::map<PolicyKey, std::vector<KernelPolicy>> policies_;
    std::map<PolicyKey, bool> routed_;  ///< policies whose tunnel routes are in
    /// The endpoints (local, remote) each routed policy's routes were made for.
    std::map<PolicyKey, std::pair<IpAddress, IpAddress>> route_ends_;
    std::map<Route, unsigned> routes_;  ///< prefix -> policies using it
    std::map<int, bool> rules_;         ///< family -> rule installed
    VipPlacement vips_;                 ///< virtual IPs and the interfaces they were put on
};

/// A copy of an SA's description (keys cloned into fresh zeroising buffers).
xfrm::SaSpec clone_spec(const xfrm::SaSpec& o);

}  // namespace ikeplex::kernel
