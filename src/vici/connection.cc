#include "vici/connection.h"

#include <algorithm>
#include <array>

#include <asio/write.hpp>

#include "util/log.h"
#include "vici/server.h"

namespace ikeplex::vici {

using asio::local::stream_protocol;

namespace {

/// What one wake-up reads at most (on the stack: an idle client holds no read buffer).
constexpr std::size_t kReadChunk = 16384;

/// Rough fixed cost of a client (socket, asio state, this object), for high_water().
constexpr std::size_t kClientOverhead = 2048;

}  // namespace

Connection::Connection(Server& server, stream_protocol::socket sock, std::uint64_t id,
                       std::size_t output_bound)
    : server_(&server), socket_(std::move(sock)), id_(id), output_bound_(output_bound) {}

void Connection::start() {
    asio::error_code ec;
    socket_.non_blocking(true, ec);  // read only what a wake-up found
    if (ec) {
        close();
        return;
    }
    note_high_water();
    pump();
}

void Connection::send(const Packet& p) {
    if (closed_) {
        return;
    }
    auto frame = encode_frame(p);
    if (!frame) {
        log::error(log::Subsystem::kVici, "vici: cannot encode {} '{}': {}", to_string(p.type),
                   p.name, frame.error().detail);
        return;
    }
    enqueue(std::make_shared<const Bytes>(std::move(*frame)));
}

bool Connection::offer(const SharedFrame& frame) {
    if (closed_) {
        return true;  // gone: nothing to count
    }
    if (queued_ >= output_bound_) {
        ++dropping_;
        return false;
    }
    dropping_ = 0;
    enqueue(frame);
    return true;
}

void Connection::finished() {
    busy_ = false;
    pump();
}

void Connection::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    asio::error_code ec;
    socket_.close(ec);
    out_.clear();
    queued_ = 0;
    if (server_ != nullptr) {
        server_->forget(this);
    }
}

void Connection::pump() {
    if (pumping_ || closed_) {
        return;  // the loop below goes on once the running command has answered
    }
    pumping_ = true;
    while (!closed_ && may_parse()) {
        auto next = reader_.next();
        if (!next) {
            if (server_ != nullptr) {
                ++server_->counters_.malformed;
            }
            log::info(log::Subsystem::kVici, "vici: bad packet from client {}: {}, closing", id_,
                      next.error().to_string());
            close();
            break;
        }
        if (!*next) {
            break;
        }
        run(std::move(**next));
    }
    pumping_ = false;
    if (closed_) {
        return;
    }
    if (!busy_ && queued_ >= output_bound_ && !held_back_) {
        held_back_ = true;
        if (server_ != nullptr) {
            ++server_->counters_.throttled;
        }
        log::debug(log::Subsystem::kVici,
                   "vici: client {} does not read its answers ({} bytes "
                   "queued): holding back its requests",
                   id_, queued_);
    } else if (queued_ < output_bound_) {
        held_back_ = false;
    }
    if (!waiting_ && may_read()) {
        wait_readable();
    }
}

void Connection::wait_readable() {
    waiting_ = true;
    socket_.async_wait(stream_protocol::socket::wait_read,
                       [self = shared_from_this()](const asio::error_code& ec) {
                           self->waiting_ = false;
                           if (ec || self->closed_) {
                               self->close();
                               return;
                           }
                           self->on_readable();
                       });
}

void Connection::on_readable() {
    std::array<std::uint8_t, kReadChunk> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    asio::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
        pump();
        return;
    }
    if (ec) {
        close();  // eof or an error: the client is gone
        return;
    }
    reader_.feed(ByteView(buf.data(), n));
    note_high_water();
    pump();
}

void Connection::run(Packet p) {
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
            log::info(log::Subsystem::kVici, "vici: client sent {}, closing", to_string(p.type));
            close();
            break;
    }
}

void Connection::enqueue(SharedFrame frame) {
    queued_ += frame->size();
    out_.push_back(std::move(frame));
    note_high_water();
    if (!writing_) {
        write();
    }
}

void Connection::write() {
    writing_ = true;
    const SharedFrame& front = out_.front();
    // The handler keeps the frame: close() may clear the queue while the write is in flight.
    asio::async_write(socket_, asio::buffer(*front),
                      [self = shared_from_this(), front](const asio::error_code& ec, std::size_t) {
                          self->writing_ = false;
                          if (ec || self->closed_) {
                              self->close();
                              return;
                          }
                          self->queued_ -= front->size();
                          self->out_.pop_front();
                          if (!self->out_.empty()) {
                              self->write();
                          } else {
                              self->out_.shrink_to_fit();  // a burst's blocks go back
                          }
                          self->pump();  // below the bound again: take requests
                      });
}

void Connection::note_high_water() noexcept {
    high_water_ = std::max(high_water_, queued_ + reader_.capacity() + kClientOverhead);
}

}  // namespace ikeplex::vici
