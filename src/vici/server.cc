#include "vici/server.h"

#include <algorithm>
#include <cerrno>
#include <vector>

#include <sys/stat.h>

#include <unistd.h>

#include "util/log.h"
#include "vici/connection.h"

namespace ikeplex::vici {

using asio::local::stream_protocol;

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{10};
constexpr std::chrono::milliseconds kLastBackoff{1000};

/// accept() failed for a reason that passes by itself (the next call may well succeed).
bool transient(const asio::error_code& ec) {
    return ec == asio::error::connection_aborted || ec == asio::error::interrupted ||
           ec == asio::error::try_again || ec == asio::error::would_block || ec.value() == EPROTO;
}

}  // namespace

void Reply::event(const std::string& name, const Message& m) const {
    conn_->send(Packet{PacketType::kEvent, name, m});
}

void Reply::respond(const Message& m) const {
    conn_->send(Packet{PacketType::kCmdResponse, {}, m});
    conn_->finished();
}

bool Reply::alive() const noexcept {
    return !conn_->closed();
}

std::uint64_t Reply::client() const noexcept {
    return conn_->id();
}

Server::Server(asio::io_context& io, ServerLimits limits) : io_(io), limits_(limits) {}

// asio's timer cancel() throws only if the reactor cannot deregister a timer, which does not
// happen for steady timers; there is no error_code overload with ASIO_NO_DEPRECATED.
Server::~Server() {  // NOLINT(bugprone-exception-escape)
    close();
}

namespace {

/// Whether a server accepts on the unix socket at `path` now (a file left by a server that is
/// gone refuses the connection).
bool live_socket(const std::string& path, asio::io_context& io) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return false;
    }
    stream_protocol::socket probe(io);
    asio::error_code ec;
    probe.connect(stream_protocol::endpoint(path), ec);
    asio::error_code ignored;
    probe.close(ignored);
    return !ec || ec == asio::error::try_again;  // EAGAIN: accepting, its backlog full
}

}  // namespace

Status Server::listen(const std::string& path) {
    if (live_socket(path, io_)) {
        log::error(log::Subsystem::kVici,
                   "vici: unix://{} is in use by a running server (another ikeplexd or charon): "
                   "not taking it over",
                   path);
        return Error{Errc::kSystem, "the VICI socket is in use by a running server", EADDRINUSE, 0,
                     0};
    }
    ::unlink(path.c_str());
    auto l = std::make_unique<Listener>(io_);
    asio::error_code ec;
    l->acceptor.open(stream_protocol(), ec);
    if (!ec) {
        l->acceptor.bind(stream_protocol::endpoint(path), ec);
    }
    if (!ec) {
        l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        log::error(log::Subsystem::kVici, "vici: cannot listen on {}: {}", path, ec.message());
        return Error{Errc::kSystem, "cannot listen on the VICI socket", ec.value(), 0, 0};
    }
    ::chmod(path.c_str(), 0660);
    l->path = path;
    log::info(log::Subsystem::kVici, "vici: listening on unix://{}", path);
    listeners_.push_back(std::move(l));
    accept(*listeners_.back());
    return ok();
}

void Server::close() {
    for (auto& l : listeners_) {
        asio::error_code ec;
        l->acceptor.close(ec);
        l->retry_timer.cancel();
    }
    for (auto& [ptr, weak] : clients_) {
        if (auto c = weak.lock()) {
            c->detach();
            c->close();
        }
    }
    clients_.clear();
    for (auto& l : listeners_) {
        ::unlink(l->path.c_str());
    }
    // A cancelled accept's handler still runs, with operation_aborted, and touches nothing.
    listeners_.clear();
}

void Server::accept(Listener& l) {
    l.acceptor.async_accept([this, &l](const asio::error_code& ec, stream_protocol::socket sock) {
        if (ec == asio::error::operation_aborted) {
            return;  // closed (the server may be gone: touch nothing)
        }
        if (ec) {
            accept_failed(l, ec);
            return;
        }
        l.backoff = std::chrono::milliseconds(0);
        admit(std::move(sock));
        accept(l);
    });
}

void Server::accept_failed(Listener& l, const asio::error_code& ec) {
    ++counters_.accept_errors;
    if (!l.acceptor.is_open()) {
        return;
    }
    // Out of descriptors or memory (EMFILE, ENFILE, ENOMEM, ENOBUFS) and anything else that
    // is not transient: the pending connections stay in the backlog until a retry after a
    // back-off succeeds (clients leaving free descriptors); accept() is never given up.
    l.backoff = transient(ec) ? std::chrono::milliseconds(0)
                              : std::clamp(l.backoff * 2, kFirstBackoff, kLastBackoff);
    if (accept_log_.allow(now_ms())) {
        log::warn(log::Subsystem::kVici,
                  "vici: accept failed on unix://{}: {} ({} clients); retrying in {} ms ({} "
                  "similar suppressed)",
                  l.path, ec.message(), clients_.size(), l.backoff.count(),
                  accept_log_.suppressed());
    }
    l.retry_timer.expires_after(l.backoff);
    l.retry_timer.async_wait([this, &l](const asio::error_code& wait_ec) {
        if (wait_ec) {
            return;  // cancelled: closed
        }
        accept(l);
    });
}

void Server::admit(stream_protocol::socket sock) {
    if (clients_.size() >= limits_.max_clients) {
        ++counters_.clients_refused;
        if (refused_log_.allow(now_ms())) {
            log::warn(log::Subsystem::kVici,
                      "vici: {} clients connected (the limit): closing a new one ({} similar "
                      "suppressed)",
                      clients_.size(), refused_log_.suppressed());
        }
        asio::error_code ignored;
        sock.close(ignored);
        return;
    }
    auto c = std::make_shared<Connection>(*this, std::move(sock), next_client_++,
                                          limits_.output_bound);
    clients_[c.get()] = c;
    ++counters_.clients;
    c->start();
}

void Server::dispatch(const std::shared_ptr<Connection>& c, Packet p) {
    ++counters_.requests;
    auto it = commands_.find(p.name);
    if (it == commands_.end()) {
        ++counters_.unknown_commands;
        log::info(log::Subsystem::kVici, "vici: unknown command '{}'", p.name);
        c->send(Packet{PacketType::kCmdUnknown, {}, {}});
        c->finished();
        return;
    }
    log::debug(log::Subsystem::kVici, "vici: client {} requests {}", c->id(), p.name);
    it->second(p.message, Reply(c));
}

void Server::forget(Connection* c) {
    clients_.erase(c);
    if (gone_) {
        gone_(c->high_water());
    }
}

void Server::dropped(const Connection& c) {
    ++counters_.events_dropped;
    if (c.dropping() == 1 && dropped_log_.allow(now_ms())) {
        log::warn(log::Subsystem::kVici,
                  "vici: client {} does not read its events: dropping them until it does ({} "
                  "similar suppressed)",
                  c.id(), dropped_log_.suppressed());
    }
}

std::uint64_t Server::now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
}

void Server::add_command(const std::string& name, Command c) {
    commands_[name] = std::move(c);
}

void Server::add_event(const std::string& name) {
    events_.insert(name);
}

void Server::publish(const std::string& name, const Message& m) {
    SharedFrame frame;  // encoded once, for the first subscriber
    // A drop logs, and a log line may be published again ("log"): walk a copy.
    std::vector<std::shared_ptr<Connection>> subscribers;
    for (auto& [ptr, weak] : clients_) {
        if (auto c = weak.lock(); c && c->subscribed(name)) {
            subscribers.push_back(std::move(c));
        }
    }
    for (const auto& c : subscribers) {
        if (!frame) {
            auto encoded = encode_frame(Packet{PacketType::kEvent, name, m});
            if (!encoded) {
                log::error(log::Subsystem::kVici, "vici: cannot encode event '{}': {}", name,
                           encoded.error().detail);
                return;
            }
            frame = std::make_shared<const Bytes>(std::move(*encoded));
        }
        if (!c->offer(frame)) {
            dropped(*c);
        }
    }
}

std::map<std::string, std::size_t> Server::listeners() const {
    std::map<std::string, std::size_t> out;
    for (const auto& [ptr, weak] : clients_) {
        if (auto c = weak.lock()) {
            for (const std::string& e : events_) {
                if (c->subscribed(e)) {
                    ++out[e];
                }
            }
        }
    }
    return out;
}

bool Server::wanted(const std::string& name) const {
    for (const auto& [ptr, weak] : clients_) {
        if (auto c = weak.lock(); c && c->subscribed(name)) {
            return true;
        }
    }
    return false;
}

}  // namespace ikeplex::vici
