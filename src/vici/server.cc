#include "vici/server.h"

#include <array>
#include <deque>

#include <sys/stat.h>

#include <asio/write.hpp>
#include <unistd.h>

#include "util/log.h"

namespace ikeplex::vici {

using asio::local::stream_protocol;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Server& server, stream_protocol::socket sock, std::uint64_t id)
        : server_(&server), socket_(std::move(sock)), id_(id) {}

    void start() { read(); }

    void send(const Packet& p) {
        if (closed_) {
            return;
        }
        auto frame = encode_frame(p);
        if (!frame) {
            log::error(log::Subsystem::kVici, "vici: cannot encode {} '{}': {}", to_string(p.type),
                       p.name, frame.error().detail);
            return;
        }
        out_.push_back(std::move(*frame));
        if (out_.size() == 1) {
            write();
        }
    }

    void finished() {
        busy_ = false;
        while (!busy_ && !waiting_.empty() && !closed_) {
            Packet p = std::move(waiting_.front());
            waiting_.pop_front();
            run(std::move(p));
        }
    }

    void handle(Packet p) {
        if (p.type == PacketType::kCmdRequest && busy_) {
            waiting_.push_back(std::move(p));  // one command at a time, in order
            return;
        }
        run(std::move(p));
    }

    void close() {
        if (closed_) {
            return;
        }
        closed_ = true;
        asio::error_code ec;
        socket_.close(ec);
        if (server_ != nullptr) {
            server_->forget(this);
        }
    }

    void detach() { server_ = nullptr; }
    [[nodiscard]] bool closed() const noexcept { return closed_; }
    [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
    [[nodiscard]] bool subscribed(const std::string& e) const { return events_.contains(e); }

private:
    void run(Packet p) {
        if (server_ == nullptr) {
            return;
        }
        switch (p.type) {
            case PacketType::kCmdRequest:
                busy_ = true;
                server_->dispatch(shared_from_this(), std::move(p));
                break;
            case PacketType::kEventRegister:
                if (server_->events_.contains(p.name)) {
                    events_.insert(p.name);
                    send(Packet{PacketType::kEventConfirm, {}, {}});
                } else {
                    send(Packet{PacketType::kEventUnknown, {}, {}});
                }
                break;
            case PacketType::kEventUnregister:
                events_.erase(p.name);
                send(Packet{PacketType::kEventConfirm, {}, {}});
                break;
            default:
                ++server_->counters_.malformed;
                log::info(log::Subsystem::kVici, "vici: client sent {}, closing",
                          to_string(p.type));
                close();
                break;
        }
    }

    void read() {
        auto self = shared_from_this();
        socket_.async_read_some(asio::buffer(buf_), [this, self](const asio::error_code& ec,
                                                                 std::size_t n) {
            if (ec || closed_) {
                close();
                return;
            }
            reader_.feed(ByteView(buf_.data(), n));
            for (;;) {
                auto next = reader_.next();
                if (!next) {
                    if (server_ != nullptr) {
                        ++server_->counters_.malformed;
                    }
                    log::info(log::Subsystem::kVici, "vici: bad packet from client {}: {}, closing",
                              id_, next.error().to_string());
                    close();
                    return;
                }
                if (!*next) {
                    break;
                }
                handle(std::move(**next));
                if (closed_) {
                    return;
                }
            }
            read();
        });
    }

    void write() {
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(out_.front()),
                          [this, self](const asio::error_code& ec, std::size_t) {
                              if (ec) {
                                  close();
                                  return;
                              }
                              out_.pop_front();
                              if (!out_.empty() && !closed_) {
                                  write();
                              }
                          });
    }

    Server* server_;
    stream_protocol::socket socket_;
    std::uint64_t id_;
    FrameReader reader_;
    std::array<std::uint8_t, 16384> buf_{};
    std::deque<Bytes> out_;
    std::deque<Packet> waiting_;
    std::set<std::string> events_;
    bool busy_{false};
    bool closed_{false};
};

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

Server::Server(asio::io_context& io) : acceptor_(io) {}

Server::~Server() {
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
        if (ec) {
            return;  // closed
        }
        auto c = std::make_shared<Connection>(*this, std::move(sock), next_client_++);
        clients_[c.get()] = c;
        ++counters_.clients;
        c->start();
        accept();
    });
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
}

void Server::add_command(const std::string& name, Command c) {
    commands_[name] = std::move(c);
}

void Server::add_event(const std::string& name) {
    events_.insert(name);
}

void Server::publish(const std::string& name, const Message& m) {
    for (auto& [ptr, weak] : clients_) {
        if (auto c = weak.lock(); c && c->subscribed(name)) {
            c->send(Packet{PacketType::kEvent, name, m});
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
