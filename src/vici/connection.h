// One VICI client of the server (server.h), on the control thread. Internal to src/vici.
//
// Flow control: a client's output waits in a queue of encoded frames until the socket takes
// it. Requests are taken from the client only while that queue is below the server's output
// bound and no command of the client is running; otherwise its unparsed input stays in the
// frame reader and, once that holds kInputBound bytes, the socket is no longer read either. A
// client that pipelines requests without reading the answers is thus held back by its own
// reading, and the daemon never holds more than about one bound of its output. Responses and
// the events a command streams to its own client are always queued (never dropped); published
// events (offer()) are dropped while the queue is over the bound.
//
// Memory: idle clients cost no read buffer (the socket is waited on, then read into a buffer
// on the stack), the frame reader gives back what a large frame made it grow, and the output
// queue is released once empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>

#include <asio/local/stream_protocol.hpp>

#include "util/bytes.h"
#include "vici/packet.h"

namespace ikeplex::vici {

class Server;

/// An encoded frame shared by every client it goes to (a published event is encoded once).
using SharedFrame = std::shared_ptr<const Bytes>;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    /// Unparsed input beyond which the socket of a held-back client is no longer read (it is
    /// still read below it, so a client that hangs up is noticed while its command runs).
    static constexpr std::size_t kInputBound = std::size_t{64} * 1024;

    Connection(Server& server, asio::local::stream_protocol::socket sock, std::uint64_t id,
               std::size_t output_bound);

    /// Starts reading requests.
    void start();
    /// Queues a packet that must reach the client (a response, a command's own events, an
    /// event confirmation): never dropped, whatever the queue holds.
    void send(const Packet& p);
    /// Queues a published event unless the queue is over the output bound; false: dropped.
    bool offer(const SharedFrame& frame);
    /// The running command has answered: the next request may be taken.
    void finished();
    void close();
    /// The server is going away: close() no longer reports to it.
    void detach() noexcept { server_ = nullptr; }

    [[nodiscard]] bool closed() const noexcept { return closed_; }
    [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
    [[nodiscard]] bool subscribed(const std::string& e) const { return events_.contains(e); }
    /// Encoded bytes queued and not yet written.
    [[nodiscard]] std::size_t queued() const noexcept { return queued_; }
    /// Published events dropped since this client last got one queued.
    [[nodiscard]] std::uint64_t dropping() const noexcept { return dropping_; }
    /// The most this client's buffers held at once (queued output and input capacity).
    [[nodiscard]] std::size_t high_water() const noexcept { return high_water_; }

private:
    [[nodiscard]] bool may_parse() const noexcept { return !busy_ && queued_ < output_bound_; }
    [[nodiscard]] bool may_read() const noexcept {
        return may_parse() || reader_.buffered() < kInputBound;
    }
    /// Takes buffered requests while allowed, then waits for more input if allowed.
    void pump();
    void wait_readable();
    void on_readable();
    void run(Packet p);
    void enqueue(SharedFrame frame);
    void write();
    void note_high_water() noexcept;

    Server* server_;
    asio::local::stream_protocol::socket socket_;
    std::uint64_t id_;
    std::size_t output_bound_;
    FrameReader reader_;
    std::deque<SharedFrame> out_;
    std::size_t queued_{0};
    std::size_t high_water_{0};
    std::uint64_t dropping_{0};
    std::set<std::string> events_;
    bool busy_{false};       ///< a command of this client is running
    bool pumping_{false};    ///< inside pump() (a synchronous answer must not recurse)
    bool waiting_{false};    ///< a wait for input is in flight
    bool writing_{false};    ///< a write is in flight
    bool held_back_{false};  ///< not taking requests because of its output (counted once)
    bool closed_{false};
};

}  // namespace ikeplex::vici
