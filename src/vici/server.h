// A VICI server on a unix socket (strongSwan's vici README, "Client-initiated commands" and
// "Server-issued events"): clients send named command requests and get one response each,
// possibly after a stream of events (list-sas, initiate's control-log); they register for
// named events and get them until they unregister or go away.
//
// The server knows no commands itself: the daemon registers them. One connection runs one
// command at a time (as swanctl does); a handler may answer later (initiate waits for the SA).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>

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
    std::uint64_t clients{0};
    std::uint64_t requests{0};
    std::uint64_t unknown_commands{0};
    std::uint64_t malformed{0};  ///< packets that did not decode; the client is disconnected
};

class Server {
public:
    using Command = std::function<void(const Message& request, Reply reply)>;

    explicit Server(asio::io_context& io);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    Server(Server&&) = delete;
    Server& operator=(Server&&) = delete;

    /// Listens on `path` (an old socket file is replaced), mode 0660.
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

private:
    friend class Connection;
    void accept();
    void dispatch(const std::shared_ptr<Connection>& c, Packet p);
    void forget(Connection* c);

    asio::local::stream_protocol::acceptor acceptor_;
    std::string path_;
    std::map<std::string, Command> commands_;
    std::set<std::string> events_;
    std::map<Connection*, std::weak_ptr<Connection>> clients_;
    std::uint64_t next_client_{1};
    ServerCounters counters_;
};

}  // namespace ikeplex::vici
