// VICI control commands: initiate, terminate, rekey (charon's semantics: initiate and
// terminate stream control-log and answer when the SAs are up or gone, or at the timeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "daemon/engine_host.h"
#include "vici/server.h"

namespace ikeplex::daemon {

class ControlCommands {
public:
    ControlCommands(asio::io_context& io, EngineHost& host) : io_(io), host_(host) {}

    void register_with(vici::Server& server);
    /// Settles the commands that event `e` concerns.
    void on_event(const ike::Event& e);
    /// control-log: a log line (`m`, of IKE SA `ike_id`, 0 for none) to the command running
    /// now and to those waiting for that IKE SA.
    void on_log(std::uint32_t ike_id, int level, const vici::Message& m);
    /// Whether a command is running or waiting (and may want control-log lines).
    [[nodiscard]] bool waiting() const noexcept { return !controls_.empty(); }

private:
    enum class Kind : std::uint8_t { kInitiate, kTerminate, kRekey };
    /// An initiate, terminate or rekey waiting for its outcome (streaming control-log).
    struct Control {
        std::optional<vici::Reply> reply;
        Kind kind{Kind::kInitiate};
        bool initiate{true};                 ///< kind == kInitiate
        std::set<std::uint32_t> ike_ids;     ///< the IKE SAs it concerns (control-log filter)
        std::string child;                   ///< initiate: the child config that must come up
        std::string conn;                    ///< initiate: its connection (retries follow it)
        bool retrying{false};                ///< initiate: a failed attempt is being retried
        std::uint32_t attempts{0};           ///< initiate: failed attempts so far
        std::set<std::uint32_t> ikes_to_go;  ///< terminate: IKE SAs still to go; rekey: to rekey
        std::set<std::uint32_t> children;    ///< terminate: Child SAs still to go
        /// rekey: Child SAs still to rekey -> (their IKE SA, child config name)
        std::map<std::uint32_t, std::pair<std::uint32_t, std::string>> rekeying;
        int loglevel{1};
        std::unique_ptr<asio::steady_timer> timer;
        std::size_t matches{0};
    };

    void initiate(const vici::Message& req, const vici::Reply& reply);
    /// After initiate started IKE SA `ike_id` for command `id`: settles the command at once if
    /// what it asks for is up already.
    void settle_if_up(std::uint64_t id, std::uint32_t ike_id, const std::string& child);
    void terminate(const vici::Message& req, const vici::Reply& reply);
    void rekey(const vici::Message& req, const vici::Reply& reply);
    /// Starts tracking a command; returns its id.
    std::uint64_t track(Control c, std::chrono::milliseconds timeout);
    void finish(std::uint64_t id, bool success, const std::string& errmsg);
    /// Whether event `e` settles control `c` (true: success, false: failure with `why`).
    [[nodiscard]] std::optional<bool> outcome(Control& c, const ike::Event& e, std::string& why);
    [[nodiscard]] static std::optional<bool> rekey_outcome(Control& c, const ike::Event& e,
                                                           std::string& why);
    /// A heal of an initiate's connection: follows its retries, fails on give-up.
    std::optional<bool> heal_outcome(Control& c, const ike::Event& e, std::string& why);
    /// The IKE SA of connection `conn` being set up at the gateway a REDIRECT named (RFC 5685),
    /// if one not in `known` is.
    [[nodiscard]] std::optional<std::uint32_t> redirected_to(
            const std::string& conn, const std::set<std::uint32_t>& known) const;
    /// Whether connection `conn` waits for its next attempt (keyingtries).
    [[nodiscard]] bool retry_pending(const std::string& conn) const;
    /// The default wait (no timeout in the request): what the retransmissions (and, for an
    /// initiate, keyingtries and their back-off) of connection `conn` may take, plus 5 s.
    [[nodiscard]] std::chrono::milliseconds default_wait(Kind kind, const std::string& conn) const;

    asio::io_context& io_;
    EngineHost& host_;
    std::map<std::uint64_t, Control> controls_;
    std::uint64_t next_control_{1};
    std::uint64_t current_control_{0};  ///< gets every log line while its command runs
};

/// One exchange with every retransmission, until it is given up:
/// retransmit_timeout × (1 + retransmit_base + ... + retransmit_base^retransmit_tries).
[[nodiscard]] std::chrono::milliseconds exchange_time(const ike::Settings& s);
/// The default wait of an initiate: 2 exchanges (IKE_SA_INIT, IKE_AUTH) per attempt for
/// `keyingtries` attempts (0 counts as 1), the longest back-off between two (1.5 × the delay,
/// doubling from restart_delay up to restart_delay_max), plus 5 s.
[[nodiscard]] std::chrono::milliseconds initiate_time(const ike::Settings& s,
                                                      std::uint32_t keyingtries);

}  // namespace ikeplex::daemon
