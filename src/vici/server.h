// A VICI server on a unix socket (strongSwan's vici README, "Client-initiated commands" and
// "Server-issued events"): clients send named command requests and get one response each,
// possibly after a stream of events (list-sas, initiate's control-log); they register for
// named events and get them until they unregister or go away.
//
// The server knows no commands itself: the daemon registers them. One connection runs one
// command at a time (as swanctl does); a handler may answer later (initiate waits for the SA).
//
// Hostile or unlucky load (issue 18) is bounded: a failed accept() (EMFILE, ...) is retried
// after a back-off that grows from 10 ms to 1 s, so the socket never stops accepting; clients
// beyond ServerLimits::max_clients are accepted and closed at once; each client's queued
// output is bounded (connection.h: a client that does not read is no longer read from, and
// events published to it are dropped and counted). Each of these is counted and logged
// rate-limited ("N similar suppressed").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>

#include "util/log.h"
#include "util/result.h"
#include "vici/packet.h"

namespace ikeplex::vici {

class Connection;

/// Answers one command: events to this client first (optional), then exactly one response.
class Reply {
public:
    explicit Reply(std::shared_ptr<Connection> c) : conn_(std::move(c)) {}
    /// An event to the client that sent the command (whether or not it registered for it:
    /// swanctl registers for list-sa before list-sas).
    void event(const std::string& name, const Message& m) const;
    /// The response; the connection then takes its next command.
    void respond(const Message& m) const;
    /// Whether the client is still there (an answer to a gone client is dropped).
    [[nodiscard]] bool alive() const noexcept;
    /// An id of the connection, e.g. to match control-log events to it.
    [[nodiscard]] std::uint64_t client() const noexcept;

private:
    std::shared_ptr<Connection> conn_;
};

struct ServerCounters {
    std::uint64_t clients{0};  ///< clients accepted and served (not those refused)
    std::uint64_t requests{0};
    std::uint64_t unknown_commands{0};
    std::uint64_t malformed{0};        ///< packets that did not decode; the client is disconnected
    std::uint64_t accept_errors{0};    ///< failed accept() calls (each retried)
    std::uint64_t clients_refused{0};  ///< accepted over max_clients and closed at once
    std::uint64_t events_dropped{0};   ///< published events not queued: client over its bound
    std::uint64_t throttled{0};        ///< times a client's requests were held back
};

struct ServerLimits {
    /// Clients served at once; more are accepted and closed at once (ikeplexd.conf
    /// vici_max_clients).
    std::size_t max_clients{256};
    /// Queued output (bytes) per client from which its requests are held back and events
    /// published to it dropped. A response is queued whole whatever its size (at most one
    /// frame of 512 KiB, or a command's stream of events), so a client holds at most about
    /// this bound plus one answer.
    std::size_t output_bound{std::size_t{256} * 1024};
};

class Server {
public:
    using Command = std::function<void(const Message& request, Reply reply)>;

    explicit Server(asio::io_context& io, ServerLimits limits = {});
    ~Server();  // NOLINT(bugprone-exception-escape): see server.cc
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    Server(Server&&) = delete;
    Server& operator=(Server&&) = delete;

    /// Listens on `path` as well (mode 0660). A stale socket file is replaced; one a live
    /// server still accepts on (another daemon: a connect() succeeds) is an error, never taken
    /// over. Each call adds a socket: all of them serve the same commands and events.
    Status listen(const std::string& path);
    void close();

    void add_command(const std::string& name, Command c);
    /// Names of events clients may register for.
    void add_event(const std::string& name);
    /// Sends an event to every client registered for it.
    void publish(const std::string& name, const Message& m);
    /// Whether any client is registered for `name` (skip building costly events otherwise).
    [[nodiscard]] bool wanted(const std::string& name) const;
    /// For each event with at least one registered client, how many clients are registered
    /// (the `vici-listeners-<event>` counters: a test or an operator sees a monitor is attached).
    [[nodiscard]] std::map<std::string, std::size_t> listeners() const;

    [[nodiscard]] const ServerCounters& counters() const noexcept { return counters_; }
    /// Clients connected now.
    [[nodiscard]] std::size_t connected() const noexcept { return clients_.size(); }
    [[nodiscard]] const ServerLimits& limits() const noexcept { return limits_; }
    /// Applies to clients accepted from now on (the output bound) and to the next accept.
    void set_limits(const ServerLimits& limits) noexcept { limits_ = limits; }

    /// Called when a client has gone, with about how many bytes its buffers held at most
    /// (the daemon trims the heap after enough have gone: daemon/memory_trim.h).
    using GoneHook = std::function<void(std::size_t released)>;
    void on_client_gone(GoneHook hook) { gone_ = std::move(hook); }

private:
    friend class Connection;
    /// One listening socket with its accept() retry state.
    struct Listener {
        explicit Listener(asio::io_context& io) : acceptor(io), retry_timer(io) {}
        asio::local::stream_protocol::acceptor acceptor;
        asio::steady_timer retry_timer;
        std::chrono::milliseconds backoff{0};
        std::string path;
    };
    void accept(Listener& l);
    void accept_failed(Listener& l, const asio::error_code& ec);
    void admit(asio::local::stream_protocol::socket sock);
    void dispatch(const std::shared_ptr<Connection>& c, Packet p);
    void forget(Connection* c);
    /// A published event not queued for `c` (over its bound): counted; logged (rate-limited)
    /// when it is the first of a run of drops for that client.
    void dropped(const Connection& c);
    [[nodiscard]] static std::uint64_t now_ms();

    asio::io_context& io_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    ServerLimits limits_;
    std::map<std::string, Command> commands_;
    std::set<std::string> events_;
    std::map<Connection*, std::weak_ptr<Connection>> clients_;
    std::uint64_t next_client_{1};
    ServerCounters counters_;
    GoneHook gone_;
    log::RateLimiter accept_log_{5, 1000};
    log::RateLimiter refused_log_{5, 1000};
    log::RateLimiter dropped_log_{5, 1000};
};

}  // namespace ikeplex::vici
