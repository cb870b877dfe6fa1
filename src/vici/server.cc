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

Server::Server(asio::io_context& io, ServerLimits limits)
    : acceptor_(io), retry_timer_(io), limits_(limits) {}

// asio's timer cancel() throws only if the reactor cannot deregister a timer, which does not
// happen for steady timers; there is no error_code overload with ASIO_NO_DEPRECATED.
Server::~Server() {  // NOLINT(bugprone-exception-escape)
    close();
}

Status Server::listen(const std::string& path) {
    ::unlink(path.c_str());
    asio::error_code ec;
    acceptor_.open(stream_protocol(), ec);
    if (!ec) {
        acceptor_.bind(stream_protocol::endpoint(path), ec);
    }
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        log::error(log::Subsystem::kVici, "vici: cannot listen on {}: {}", path, ec.message());
        return Error{Errc::kSystem, "cannot listen on the VICI socket", ec.value(), 0, 0};
    }
    ::chmod(path.c_str(), 0660);
    path_ = path;
    log::info(log::Subsystem::kVici, "vici: listening on unix://{}", path);
    accept();
    return ok();
}

void Server::close() {
    asio::error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
    for (auto& [ptr, weak] : clients_) {
        if (auto c = weak.lock()) {
            c->detach();
            c->close();
        }
    }
    clients_.clear();
    if (!path_.empty()) {
        ::unlink(path_.c_str());
        path_.clear();
    }
}

void Server::accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, stream_protocol::socket sock) {
        if (ec == asio::error::operation_aborted) {
            return;  // closed (the server may be gone: touch nothing)
        }
        if (ec) {
            accept_failed(ec);
            return;
        }
        backoff_ = std::chrono::milliseconds(0);
        admit(std::move(sock));
        accept();
    });
}

void Server::accept_failed(const asio::error_code& ec) {
    ++counters_.accept_errors;
    if (!acceptor_.is_open()) {
        return;
    }
    // Out of descriptors or memory (EMFILE, ENFILE, ENOMEM, ENOBUFS) and anything else that
    // is not transient: the pending connections stay in the backlog until a retry after a
    // back-off succeeds (clients leaving free descriptors); accept() is never given up.
    backoff_ = transient(ec) ? std::chrono::milliseconds(0)
                             : std::clamp(backoff_ * 2, kFirstBackoff, kLastBackoff);
    if (accept_log_.allow(now_ms())) {
        log::warn(log::Subsystem::kVici,
                  "vici: accept failed: {} ({} clients); retrying in {} ms ({} similar "
                  "suppressed)",
                  ec.message(), clients_.size(), backoff_.count(), accept_log_.suppressed());
    }
    retry_timer_.expires_after(backoff_);
    retry_timer_.async_wait([this](const asio::error_code& wait_ec) {
        if (wait_ec) {
            return;  // cancelled: closed
        }
        accept();
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
