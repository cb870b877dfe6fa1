// A blocking VICI client (for the `ikeplex` CLI and tests): connect to a unix socket, send a
// command, collect the events it streams and its response; register for events and read them.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "util/result.h"
#include "util/unique_fd.h"
#include "vici/packet.h"

namespace ikeplex::vici {

class Client {
public:
    Client() = default;

    /// "unix:///run/x.vici" or a plain path.
    static Result<Client> connect(const std::string& uri);

    using EventHandler = std::function<void(const std::string& name, const Message& m)>;
    /// Sends command `name` and waits (up to `timeout`) for its response; events that arrive
    /// meanwhile go to `on_event`. kUnsupported if the server does not know the command.
    Result<Message> request(const std::string& name, const Message& m,
                            const EventHandler& on_event = {},
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Registers for an event. kUnsupported if the server does not have it.
    Status subscribe(const std::string& name);
    /// Waits up to `timeout` for one event; kState on timeout.
    Result<Packet> next_event(std::chrono::milliseconds timeout);

private:
    explicit Client(UniqueFd fd) noexcept : fd_(std::move(fd)) {}
    Status send(const Packet& p);
    Result<Packet> receive(std::chrono::milliseconds timeout);

    UniqueFd fd_;
    FrameReader reader_;
};

}  // namespace ikeplex::vici
