#include "vici/client.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <unistd.h>

namespace ikeplex::vici {

Result<Client> Client::connect(const std::string& uri) {
    std::string path = uri;
    if (path.starts_with("unix://")) {
        path = path.substr(7);
    }
    sockaddr_un sa{};
    if (path.empty() || path.size() >= sizeof sa.sun_path) {
        return make_error(Errc::kInvalidArgument, "vici: bad socket path");
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        return Error{Errc::kSystem, "vici: socket", errno, 0, 0};
    }
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
        const int e = errno;
        return Error{Errc::kSystem, "vici: cannot connect to the daemon's socket", e, 0, 0};
    }
    return Client(std::move(fd));
}

Status Client::send(const Packet& p) {
    const Bytes frame = IKEPLEX_TRY(encode_frame(p));
    std::size_t done = 0;
    while (done < frame.size()) {
        const ssize_t n = ::send(fd_.get(), frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Error{Errc::kSystem, "vici: send", errno, 0, 0};
        }
        done += static_cast<std::size_t>(n);
    }
    return ok();
}

Result<Packet> Client::receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto next = reader_.next();
        if (!next) {
            return next.error();
        }
        if (*next) {
            return std::move(**next);
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return make_error(Errc::kState, "vici: timed out waiting for the daemon");
        }
        pollfd p{fd_.get(), POLLIN, 0};
        // poll() takes an int: long waits in slices of at most an hour.
        const int r =
                ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 3600000)));
        if (r < 0 && errno != EINTR) {
            return Error{Errc::kSystem, "vici: poll", errno, 0, 0};
        }
        if (r <= 0) {
            continue;
        }
        std::uint8_t buf[16384];
        const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n == 0) {
            return make_error(Errc::kState, "vici: the daemon closed the connection");
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Error{Errc::kSystem, "vici: recv", errno, 0, 0};
        }
        reader_.feed(ByteView(buf, static_cast<std::size_t>(n)));
    }
}

Result<Message> Client::request(const std::string& name, const Message& m,
                                const EventHandler& on_event, std::chrono::milliseconds timeout) {
    IKEPLEX_TRY(send(Packet{PacketType::kCmdRequest, name, m}));
    for (;;) {
        Packet p = IKEPLEX_TRY(receive(timeout));
        switch (p.type) {
            case PacketType::kCmdResponse:
                return std::move(p.message);
            case PacketType::kCmdUnknown:
                return make_error(Errc::kUnsupported, "vici: unknown command");
            case PacketType::kEvent:
                if (on_event) {
                    on_event(p.name, p.message);
                }
                break;
            default:
                return make_error(Errc::kInvalidSyntax,
                                  "vici: unexpected packet while waiting for a response");
        }
    }
}

Status Client::subscribe(const std::string& name) {
    IKEPLEX_TRY(send(Packet{PacketType::kEventRegister, name, {}}));
    for (;;) {
        Packet p = IKEPLEX_TRY(receive(std::chrono::seconds(10)));
        if (p.type == PacketType::kEventConfirm) {
            return ok();
        }
        if (p.type == PacketType::kEventUnknown) {
            return make_error(Errc::kUnsupported, "vici: unknown event");
        }
        // Events of earlier registrations may arrive first: drop them here.
    }
}

Result<Packet> Client::next_event(std::chrono::milliseconds timeout) {
    for (;;) {
        Packet p = IKEPLEX_TRY(receive(timeout));
        if (p.type == PacketType::kEvent) {
            return p;
        }
    }
}

}  // namespace ikeplex::vici
