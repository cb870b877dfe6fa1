// The engine on a real clock: runs IkeSaManager calls with a Step at the current time and
// carries out what they produce — datagrams to the UDP transport, commands to the backend,
// events to listeners (VICI, logs) — and keeps one Asio timer at the engine's next deadline.
// Everything runs on the control thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "crypto/registry.h"
#include "daemon/memory_trim.h"
#include "daemon/udp_transport.h"
#include "ike/manager.h"
#include "kernel/backend.h"
#include "util/random.h"

namespace ikeplex::daemon {

class EngineHost {
public:
    EngineHost(asio::io_context& io, const crypto::Registry& registry,
               const ike::Settings& settings, kernel::Backend& backend, UdpTransport& transport,
               std::chrono::milliseconds keep_alive, ike::SpiAllocator* spis = nullptr);
    EngineHost(const EngineHost&) = delete;
    EngineHost& operator=(const EngineHost&) = delete;
    EngineHost(EngineHost&&) = delete;
    EngineHost& operator=(EngineHost&&) = delete;
    ~EngineHost();  // NOLINT(bugprone-exception-escape): see engine_host.cc

    [[nodiscard]] ike::IkeSaManager& manager() noexcept { return manager_; }
    [[nodiscard]] const ike::IkeSaManager& manager() const noexcept { return manager_; }
    [[nodiscard]] kernel::Backend& backend() noexcept { return backend_; }

    /// Runs `f` against the manager now and carries out its output.
    void execute(const std::function<void(ike::Step&)>& f);
    /// An IKE datagram from the transport.
    void on_datagram(ByteView message, const Endpoint& local, const Endpoint& remote);

    using CommandTap = std::function<void(const std::vector<ike::BackendCommand>&)>;
    /// Sees every batch of backend commands before the backend carries it out (the key log of
    /// save_keys); empty: none.
    void set_command_tap(CommandTap tap) { command_tap_ = std::move(tap); }
    /// The same, for the traffic counters of the SAs a batch deletes (RADIUS accounting reads
    /// them while the backend still has them); empty: none.
    void set_retire_tap(CommandTap tap) { retire_tap_ = std::move(tap); }

    using VipSink = std::function<void(const ike::VirtualIpChange&)>;
    /// Carries out the virtual IP changes (Output::vips): new addresses before the commands
    /// (the Child SA's routes use them), removals after; empty: none.
    void set_vip_sink(VipSink sink) { vip_sink_ = std::move(sink); }

    using EapSink = std::function<void(std::vector<ike::EapBackendQuery>)>;
    /// Takes the EAP queries for the AAA backend (Output::eap_queries, eap_radius.h), after
    /// the events; empty: none (the engine's timeout then fails the conversations).
    void set_eap_sink(EapSink sink) { eap_sink_ = std::move(sink); }

    using RevocationSink = std::function<void(const std::vector<ike::RevocationQuery>&)>;
    /// Takes the revocation queries (Output::revocation_queries, revocation_service.h), after
    /// the events; empty: none (the engine's revocation_timeout then goes on without).
    void set_revocation_sink(RevocationSink sink) { revocation_sink_ = std::move(sink); }

    using Listener = std::function<void(const ike::Event&)>;
    /// Every engine event goes to every listener; returns a handle for remove_listener().
    int add_listener(Listener l);
    void remove_listener(int handle);

    /// Engine time (milliseconds since the host started) and wall-clock time.
    [[nodiscard]] ike::TimePoint now() const;
    [[nodiscard]] static std::int64_t unix_now();
    /// Trims the heap now, or when the last trim is an interval old (memory_trim.h); `why`
    /// goes into the log line.
    void request_trim(const char* why);

    /// When the daemon started (UNIX seconds), for `stats`.
    [[nodiscard]] std::int64_t started_unix() const noexcept { return started_unix_; }

private:
    void arm(ike::TimePoint at);
    /// Sends RFC 3948 keepalives every `keep_alive` from IKE SAs behind a NAT (0: never).
    void keepalives();
    /// Counts established IKE SAs by their up/down events and trims the heap after a mass
    /// deletion (memory_trim.h), later by a timer if the last trim was too recent.
    void track_memory(const std::vector<ike::Event>& events);
    void trim(const char* why);

    kernel::Backend& backend_;
    UdpTransport& transport_;
    OsRandom random_;
    ike::RandomSpiAllocator spis_;
    ike::IkeSaManager manager_;
    asio::steady_timer timer_;
    asio::steady_timer keepalive_timer_;
    asio::steady_timer trim_timer_;
    TrimPolicy trim_policy_;
    std::size_t ike_up_{0};  // established IKE SAs (ike-up minus ike-down events)
    bool trim_armed_{false};
    const char* trim_why_{""};  ///< of the trim the timer will do
    std::chrono::milliseconds keep_alive_;
    ike::TimePoint armed_{ike::kNever};
    std::chrono::steady_clock::time_point epoch_;
    std::int64_t started_unix_;
    CommandTap command_tap_;
    CommandTap retire_tap_;
    VipSink vip_sink_;
    EapSink eap_sink_;
    RevocationSink revocation_sink_;
    std::map<int, Listener> listeners_;
    int next_listener_{1};
};

}  // namespace ikeplex::daemon
