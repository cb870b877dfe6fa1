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
    /// An initiate or terminate waiting for its outcome (it streams control-log meanwhile).
    struct Control {
        std::optional<vici::Reply> reply;
        bool initiate{true};
        std::set<std::uint32_t> ike_ids;     ///< the IKE SAs it concerns (control-log filter)
        std::string child;                   ///< initiate: the child config that must come up
        std::set<std::uint32_t> ikes_to_go;  ///< terminate: IKE SAs still to go
        std::set<std::uint32_t> children;    ///< terminate: Child SAs still to go
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
    /// Whether event `e` settles control `c` (true: success, false: failure).
    [[nodiscard]] static std::optional<bool> outcome(Control& c, const ike::Event& e);

    asio::io_context& io_;
    EngineHost& host_;
    std::map<std::uint64_t, Control> controls_;
    std::uint64_t next_control_{1};
    std::uint64_t current_control_{0};  ///< gets every log line while its command runs
};

}  // namespace ikeplex::daemon
