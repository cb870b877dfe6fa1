// The exchange harness (design.md §8): two complete engines (IkeSaManager with real codec and
// crypto), a fake network that loses, duplicates, delays and reorders datagrams (and can put a
// NAT in front of one side), a fake backend that records what each side installed, and a
// virtual clock. Everything is seeded; a run is reproducible from its seed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ike/manager.h"
#include "util/random.h"

namespace ikeplex::test {

using ike::Duration;
using ike::TimePoint;

/// What the backend of one side holds, as the engine commanded it.
class FakeBackend {
public:
    void apply(std::vector<ike::BackendCommand>& commands);

    /// (SPI, inbound) -> the SA.
    std::map<std::pair<Spi, bool>, ike::InstallSa> sas;
    using PolicyKey =
            std::tuple<ReqId, std::vector<ike::TrafficSelector>, std::vector<ike::TrafficSelector>>;
    std::map<PolicyKey, ike::InstallPolicy> policies;
    /// Commands that made no sense (an SA installed twice, a delete of something absent).
    std::vector<std::string> errors;
    std::uint64_t installs{0};
    std::uint64_t deletes{0};
    /// UpdateSaAddresses applied (MOBIKE), in order.
    std::vector<ike::UpdateSaAddresses> updates;
    /// Test hook: true = this SA cannot be installed (the engine then gets InstallFailed,
    /// as from a kernel without ESP).
    std::function<bool(const ike::InstallSa&)> refuse;
    /// Installs refused by `refuse`, not yet reported to the engine: (child id, SPI).
    std::vector<std::pair<std::uint32_t, Spi>> refused;
    /// `installs` when a policy last lost its per-CPU acquires (XFRM_POLICY_CPU_ACQUIRE).
    std::optional<std::uint64_t> per_cpu_dropped_after_installs;
};

/// A message as a test looks for it among a node's traced messages (ike::MessageTrace); every
/// field left unset matches anything.
struct MessageQuery {
    std::optional<bool> sent;  ///< sent by this node (false: received by it)
    std::optional<wire::ExchangeType> exchange;
    std::optional<bool> response;
    /// Carries a notify of this type.
    std::optional<wire::NotifyType> notify;
    /// Exactly these payloads, in strongSwan's summary, e.g. "N(REKEY_SA) SA No TSi TSr".
    std::optional<std::string> payloads;
    /// Only messages traced from this index of Node::messages on (e.g. its size before an
    /// action: what the action brought).
    std::size_t since{0};
};

/// strongSwan's summary of a traced message's payloads, e.g. "N(REKEY_SA) SA No KE TSi TSr".
std::string payload_summary(const ike::MessageTrace& m);

/// One side: a manager with its seeded randomness, SPI allocator and backend.
struct Node {
    Node(std::string name, IpAddress address, std::uint64_t seed, const crypto::Registry& registry,
         ike::Settings settings);

    std::string name;
    IpAddress address;
    /// Addresses the node has given up (MOBIKE tests): it can no longer send from them, and
    /// nothing is delivered to them.
    std::vector<IpAddress> gone;
    /// The source address a route lookup gives (IkeSaManager's source lookup); unset: none.
    std::optional<IpAddress> route_source;
    DeterministicRandom random;
    ike::RandomSpiAllocator spis;
    ike::IkeSaManager manager;
    FakeBackend backend;
    std::vector<ike::Event> events;
    /// Virtual IP changes the engine asked the host to make (Output::vips), in order.
    std::vector<ike::VirtualIpChange> vips;
    /// EAP queries for the AAA backend not yet taken by the test (eap_backend.h).
    std::vector<ike::EapBackendQuery> eap_queries;
    /// Revocation queries not yet taken by the test (revocation_query.h).
    std::vector<ike::RevocationQuery> revocation_queries;
    /// Every message this node sent or received, in the clear, in order.
    std::vector<ike::MessageTrace> messages;
    /// When each of `messages` was sent or received (virtual time, same index).
    std::vector<TimePoint> message_times;
    TimePoint wakeup{ike::kNever};

    /// Events of one kind so far.
    [[nodiscard]] std::size_t count(ike::EventKind kind) const;
    /// Events of one kind about one Child SA (its unique id) so far.
    [[nodiscard]] std::size_t count(ike::EventKind kind, std::uint32_t child_id) const;
    /// The traced messages that match `q`, oldest first.
    [[nodiscard]] std::vector<const ike::MessageTrace*> find(const MessageQuery& q) const;
    [[nodiscard]] std::size_t count(const MessageQuery& q) const { return find(q).size(); }
    /// When a message of `messages` was sent or received.
    [[nodiscard]] TimePoint time_of(const ike::MessageTrace& m) const;
    /// The established IKE SAs (not rekeyed, deleting or half-open).
    [[nodiscard]] std::vector<const ike::IkeSa*> established() const;
};

/// A datagram in flight or on record.
struct Datagram {
    Endpoint src;
    Endpoint dst;
    Bytes data;
    bool from_a{false};
    std::uint32_t index{0};  ///< the n-th datagram sent (0-based), over the whole run
    TimePoint at{};          ///< when it was sent
};

struct NetConditions {
    double loss{0};       ///< probability a datagram is lost
    double duplicate{0};  ///< probability it is delivered twice
    double reorder{0};    ///< probability it gets an extra delay (so later ones overtake it)
    Duration delay{std::chrono::milliseconds(5)};
    Duration reorder_delay{std::chrono::milliseconds(300)};
};

class Harness {
public:
    /// Two nodes: a = 10.99.0.1, b = 10.99.0.2.
    explicit Harness(std::uint64_t seed = 1, ike::Settings settings = {});
    /// Each node with its own settings (e.g. a different number of resources).
    Harness(std::uint64_t seed, ike::Settings a_settings, ike::Settings b_settings);

    Node& a() noexcept { return *a_; }
    Node& b() noexcept { return *b_; }
    /// The other node.
    Node& peer(const Node& n) noexcept { return &n == a_.get() ? *b_ : *a_; }

    NetConditions conditions;
    /// Test hook: return true to drop this datagram (in addition to `conditions`).
    std::function<bool(const Datagram&)> drop;
    /// Every datagram sent so far (before loss).
    std::vector<Datagram> sent;
    /// Test hook: the events of one engine call of a node, as a daemon's listeners get them
    /// (after the call, the manager in its state after it).
    std::function<void(Node&, const std::vector<ike::Event>&)> on_events;

    /// A further node with its own address (e.g. a second gateway a client is redirected to,
    /// RFC 5685); it lives as long as the harness. Configuration must be loaded.
    Node& add_node(std::string name, IpAddress address, std::uint64_t seed,
                   ike::Settings settings = {});
    /// Replaces a node by a fresh one with the same address (a reboot: all state forgotten).
    /// Configuration must be loaded again.
    Node& restart(Node& n, std::uint64_t seed);

    /// Puts a NAT in front of node a: its packets leave from `public_address` (with other
    /// ports), and answers to those ports come back.
    void nat_a(IpAddress public_address);
    /// Takes the NAT in front of node a away (its packets leave with their own addresses).
    void no_nat_a();
    /// Node `n` moves to `to` (its old address is gone, routes use the new one). The engine
    /// learns of it only from IkeSaManager::on_local_addresses, as from a daemon.
    void move(Node& n, IpAddress to);

    /// Runs `f(step)` against a node's manager and processes the output.
    void act(Node& n, const std::function<void(ike::Step&)>& f);
    /// Advances virtual time by `d`, delivering datagrams and firing timers.
    void run_for(Duration d);
    /// Delivers the earliest datagram in flight now (virtual time moves to its arrival; no
    /// timer fires): one message at a time. Returns it, or nothing when none is in flight.
    std::optional<Datagram> deliver_next();
    [[nodiscard]] std::size_t in_flight() const noexcept { return flight_.size(); }
    /// Runs until `done()` holds (checked after every event) or `limit` passes. Returns done().
    bool run_until(const std::function<bool()>& done, Duration limit);
    [[nodiscard]] TimePoint now() const noexcept { return now_; }
    /// UNIX time the engine sees (for certificate validity).
    [[nodiscard]] std::int64_t unix_time() const noexcept;

    /// Datagrams sent of a given exchange (by header), e.g. to count retransmits.
    [[nodiscard]] std::size_t count_sent(wire::ExchangeType type, bool response) const;
    /// The datagrams one node sent of a given exchange (by header), oldest first: unlike its
    /// traced messages, they include retransmits.
    [[nodiscard]] std::vector<Datagram> sent_by(const Node& n, wire::ExchangeType type,
                                                bool response) const;

    std::uint64_t delivered{0};
    std::uint64_t lost{0};

private:
    struct InFlight {
        TimePoint at;
        std::uint64_t seq;
        Datagram d;
    };
    void send(Node& from, ike::OutDatagram&& out);
    void process(Node& n, ike::Output& out);
    /// Delivers the next event if it is due by `until`; false when nothing is.
    bool step_once(TimePoint until);
    Node* node_for(const Endpoint& dst, Endpoint& rewritten);
    bool chance(double p);

    const crypto::Registry& registry_;
    ike::Settings settings_a_;
    ike::Settings settings_b_;
    std::unique_ptr<Node> a_;
    std::unique_ptr<Node> b_;
    std::vector<std::unique_ptr<Node>> extra_;  ///< add_node()
    DeterministicRandom net_random_;
    TimePoint now_{std::chrono::milliseconds(1000).count()};
    std::uint64_t seq_{0};
    std::uint32_t index_{0};
    std::vector<InFlight> flight_;
    std::optional<IpAddress> nat_public_;
    std::map<std::uint16_t, std::uint16_t> nat_out_;  ///< a's port -> public port
};

/// The process-wide algorithm registry for tests.
const crypto::Registry& test_registry();

/// Configuration helpers: a PSK connection "conn" with child "net" between a and b, each side
/// protecting its own 10.99.x.0/24 (a: 10.99.1.0/24, b: 10.99.2.0/24).
struct PairConfig {
    ike::PeerConfig a;
    ike::PeerConfig b;
};
PairConfig psk_pair(const std::string& ike_proposals = "aes128gcm16-prfsha256-x25519",
                    const std::string& esp_proposals = "aes128gcm16");
/// Both sides authenticate by certificate (`auth = pubkey` both ways), a as "a.test", b as
/// "b.test".
void use_pubkey(PairConfig& cfg);
/// Shared-key credentials for both sides.
ike::Credentials psk_credentials(const std::string& secret = "sharedsecret-sharedsecret");
/// Loads each side's configuration and credentials.
void load(Harness& h, PairConfig& cfg, ike::Credentials a_creds, ike::Credentials b_creds);

/// Everything both sides should agree on, as a list of problems (empty when consistent):
/// the same established IKE SAs; every installed Child SA installed on the other side with
/// matching SPIs, algorithms and keys; no backend SA or policy without a Child SA behind it.
std::vector<std::string> check_consistent(Harness& h);
/// Nothing left: no IKE SA, backend SA, policy, timer, reserved SPI or lookup index entry.
std::vector<std::string> check_empty(Node& n);

}  // namespace ikeplex::test
