// The RADIUS client's transport: sockets, identifiers, retransmissions, failover
// (radius_client.h). Packets are built and read in radius_requests.cc.
#include "daemon/radius_client.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <deque>
#include <variant>

#include <sys/socket.h>

#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "radius/security.h"
#include "util/log.h"

namespace ikeplex::daemon {

namespace {

constexpr std::size_t kIds = 256;

asio::ip::udp::endpoint to_asio(const IpAddress& a, std::uint16_t port) {
    if (a.is_v4()) {
        asio::ip::address_v4::bytes_type b{};
        std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
        return {asio::ip::address_v4(b), port};
    }
    asio::ip::address_v6::bytes_type b{};
    std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
    return {asio::ip::address_v6(b), port};
}

}  // namespace

struct RadiusClient::Socket {
    Socket(asio::io_context& io, bool acct) : sock(io), accounting(acct) {}
    asio::ip::udp::socket sock;
    bool accounting;
    std::size_t server{0};
    std::uint8_t next_id{0};
    std::size_t in_use{0};
    std::array<std::shared_ptr<Transaction>, kIds> outstanding{};
    std::deque<std::shared_ptr<Transaction>> waiting;  ///< for a free identifier
    std::array<std::uint8_t, radius::kMaxPacket> buffer{};
};

struct RadiusClient::Server {
    Server(asio::io_context& io, config::RadiusServer c)
        : cfg(std::move(c)), auth(io, false), acct(io, true) {}
    config::RadiusServer cfg;
    Socket auth;
    Socket acct;
    bool failed{false};  ///< did not answer the last request it had: tried after the others
};

struct RadiusClient::Transaction {
    explicit Transaction(asio::io_context& io) : timer(io) {}
    bool accounting{false};
    std::variant<RadiusAuthRequest, std::pair<radius::AcctStatus, RadiusSession>> request;
    AuthCallback auth_done;
    AcctCallback acct_done;
    std::vector<std::size_t> order;  ///< servers still to try, the current one first
    bool bound{false};               ///< a State binds it to its first server
    Socket* socket{nullptr};         ///< while it holds an identifier there
    std::uint8_t id{0};
    Bytes wire;
    radius::Authenticator request_auth{};
    std::uint32_t retransmits{0};  ///< on the current server
    asio::steady_timer timer;
};

Result<std::unique_ptr<RadiusClient>> RadiusClient::create(asio::io_context& io,
                                                           config::RadiusSettings settings,
                                                           Random& random) {
    auto c = std::make_unique<RadiusClient>(Token{}, io, std::move(settings), random);
    IKEPLEX_TRY(c->open());
    return c;
}

RadiusClient::RadiusClient(Token /*create()*/, asio::io_context& io,
                           config::RadiusSettings settings, Random& random)
    : io_(io), settings_(std::move(settings)), random_(random) {
    std::stable_sort(settings_.servers.begin(), settings_.servers.end(),
                     [](const config::RadiusServer& a, const config::RadiusServer& b) {
                         return a.preference > b.preference;
                     });
}

// asio's cancel() throws only if the reactor cannot deregister a timer, which does not happen
// for a timer of this io_context (as in engine_host.cc).
RadiusClient::~RadiusClient() {  // NOLINT(bugprone-exception-escape)
    life_.reset();
    for (auto& s : servers_) {
        for (Socket* sock : {&s->auth, &s->acct}) {
            for (auto& t : sock->outstanding) {
                if (t) {
                    t->timer.cancel();
                    t.reset();
                }
            }
            asio::error_code ec;
            sock->sock.close(ec);
        }
    }
}

Status RadiusClient::open() {
    for (std::size_t i = 0; i < settings_.servers.size(); ++i) {
        auto s = std::make_unique<Server>(io_, settings_.servers[i]);
        for (Socket* sock : {&s->auth, &s->acct}) {
            const std::uint16_t port = sock->accounting ? s->cfg.acct_port : s->cfg.auth_port;
            const auto remote = to_asio(s->cfg.address, port);
            asio::error_code ec;
            sock->sock.open(remote.protocol(), ec);
            if (!ec) {
                sock->sock.connect(remote, ec);  // the kernel then drops other sources
            }
            if (!ec) {
                sock->sock.non_blocking(true, ec);
            }
            if (ec) {
                log::error(log::Subsystem::kCfg, "RADIUS server '{}' ({}[{}]): {}", s->cfg.name,
                           s->cfg.address, port, ec.message());
                return Error{Errc::kSystem, "cannot open a RADIUS socket", ec.value(), 0, port};
            }
            sock->server = i;
            sock->next_id = static_cast<std::uint8_t>(random_.u32());
            arm_read(*sock);
        }
        servers_.push_back(std::move(s));
    }
    log::info(log::Subsystem::kCfg, "loaded {} RADIUS server configuration{}", servers_.size(),
              servers_.size() == 1 ? "" : "s");
    return ok();
}

std::size_t RadiusClient::pending() const noexcept {
    std::size_t n = 0;
    for (const auto& s : servers_) {
        n += s->auth.in_use + s->auth.waiting.size() + s->acct.in_use + s->acct.waiting.size();
    }
    return n;
}

std::vector<std::size_t> RadiusClient::server_order() const {
    std::vector<std::size_t> order(servers_.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::stable_partition(order.begin(), order.end(),
                          [this](std::size_t i) { return !servers_[i]->failed; });
    return order;
}

void RadiusClient::authenticate(RadiusAuthRequest r, AuthCallback done) {
    auto t = std::make_shared<Transaction>(io_);
    t->auth_done = std::move(done);
    if (r.server && *r.server < servers_.size() && !r.state.empty()) {
        t->order = {*r.server};
        t->bound = true;
    } else {
        t->order = server_order();
    }
    t->request = std::move(r);
    start(std::move(t));
}

void RadiusClient::account(radius::AcctStatus status, const RadiusSession& s, AcctCallback done) {
    if (!settings_.accounting) {
        if (done) {
            asio::post(io_, [done = std::move(done)] { done(ok()); });
        }
        return;
    }
    auto t = std::make_shared<Transaction>(io_);
    t->accounting = true;
    t->acct_done = std::move(done);
    t->order = server_order();
    t->request = std::pair{status, s};
    start(std::move(t));
}

void RadiusClient::start(std::shared_ptr<Transaction> t) {
    ++counters_.requests;
    if (t->order.empty()) {
        asio::post(io_, [this, t, life = std::weak_ptr<int>(life_)] {
            if (!life.expired()) {
                finish(t, make_error(Errc::kConfig, "RADIUS: no server configured"));
            }
        });
        return;
    }
    const std::size_t first = t->order.front();
    send_to(std::move(t), first);
}

void RadiusClient::send_to(std::shared_ptr<Transaction> t, std::size_t server) {
    Server& srv = *servers_[server];
    Socket& sock = t->accounting ? srv.acct : srv.auth;
    if (sock.in_use == kIds) {
        ++counters_.queued;
        sock.waiting.push_back(std::move(t));
        return;
    }
    while (sock.outstanding[sock.next_id]) {
        ++sock.next_id;
    }
    t->id = sock.next_id++;
    t->socket = &sock;
    sock.outstanding[t->id] = t;
    ++sock.in_use;
    t->retransmits = 0;

    const ByteView secret = srv.cfg.secret->view();
    Result<Bytes> wire = make_error(Errc::kInternal, "RADIUS: no request");
    if (t->accounting) {
        const auto& [status, session] =
                std::get<std::pair<radius::AcctStatus, RadiusSession>>(t->request);
        radius::Packet p = build_accounting_request(status, session, srv.cfg.nas_identifier);
        p.identifier = t->id;
        wire = radius::seal_accounting_request(p, secret);
    } else {
        radius::Packet p = build_access_request(std::get<RadiusAuthRequest>(t->request),
                                                srv.cfg.nas_identifier);
        p.identifier = t->id;
        random_.fill(p.authenticator);
        wire = radius::seal_access_request(std::move(p), secret);
    }
    if (!wire) {
        release(*t);
        asio::post(io_, [this, t, e = wire.error(), life = std::weak_ptr<int>(life_)] {
            if (!life.expired()) {
                finish(t, e);
            }
        });
        return;
    }
    t->wire = std::move(*wire);
    t->request_auth = radius::request_authenticator(t->wire);
    log::debug(log::Subsystem::kCfg, "sending RADIUS {} to server '{}'",
               t->accounting ? "Accounting-Request" : "Access-Request", srv.cfg.name);
    transmit(*t);
    arm_timer(t);
}

void RadiusClient::transmit(Transaction& t) {
    asio::error_code ec;
    t.socket->sock.send(asio::buffer(t.wire), 0, ec);
    ++counters_.sent;
    if (ec) {  // e.g. ECONNREFUSED from an earlier ICMP error: the timer retransmits
        log::debug(log::Subsystem::kCfg, "sending RADIUS message failed: {}", ec.message());
    }
}

void RadiusClient::arm_timer(const std::shared_ptr<Transaction>& t) {
    const double factor = std::pow(settings_.retransmit_base, t->retransmits);
    const auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(
            std::llround(static_cast<double>(settings_.retransmit_timeout.count()) * factor)));
    t->timer.expires_after(wait);
    t->timer.async_wait([this, t, life = std::weak_ptr<int>(life_)](const asio::error_code& ec) {
        if (ec || life.expired() || t->socket == nullptr) {
            return;
        }
        on_timeout(t);
    });
}

void RadiusClient::on_timeout(const std::shared_ptr<Transaction>& t) {
    if (t->retransmits < settings_.retransmit_tries) {
        ++t->retransmits;
        ++counters_.retransmits;
        log::debug(log::Subsystem::kCfg, "retransmitting RADIUS message");
        transmit(*t);
        arm_timer(t);
        return;
    }
    Server& srv = *servers_[t->socket->server];
    srv.failed = true;
    log::info(log::Subsystem::kCfg, "RADIUS server '{}' is not responding", srv.cfg.name);
    release(*t);
    t->order.erase(t->order.begin());
    if (!t->bound && !t->order.empty()) {
        ++counters_.failovers;
        const std::size_t next = t->order.front();
        send_to(t, next);
        return;
    }
    ++counters_.timeouts;
    finish(t, make_error(Errc::kSystem, "RADIUS: no server answered"));
}

void RadiusClient::release(Transaction& t) {
    Socket* s = t.socket;
    if (s == nullptr) {
        return;
    }
    t.timer.cancel();
    t.socket = nullptr;
    std::shared_ptr<Transaction> keep = std::move(s->outstanding[t.id]);
    --s->in_use;
    if (!s->waiting.empty()) {
        std::shared_ptr<Transaction> next = std::move(s->waiting.front());
        s->waiting.pop_front();
        send_to(std::move(next), s->server);
    }
}

void RadiusClient::finish(const std::shared_ptr<Transaction>& t, Result<radius::Packet> reply) {
    release(*t);
    if (t->accounting) {
        if (t->acct_done) {
            t->acct_done(reply ? ok() : Status(reply.error()));
        }
        return;
    }
    if (!reply) {
        if (t->auth_done) {
            t->auth_done(reply.error());
        }
        return;
    }
    const std::size_t server = t->order.front();
    auto facts = read_auth_reply(*reply, t->request_auth, servers_[server]->cfg.secret->view());
    if (facts) {
        facts->server = server;
        facts->server_name = servers_[server]->cfg.name;
    }
    if (t->auth_done) {
        t->auth_done(std::move(facts));
    }
}

void RadiusClient::arm_read(Socket& s) {
    s.sock.async_wait(asio::ip::udp::socket::wait_read,
                      [this, &s, life = std::weak_ptr<int>(life_)](const asio::error_code& ec) {
                          if (ec || life.expired()) {
                              return;
                          }
                          drain(s);
                          arm_read(s);
                      });
}

void RadiusClient::drain(Socket& s) {
    for (int n = 0; n < 64; ++n) {
        const ssize_t len =
                ::recv(s.sock.native_handle(), s.buffer.data(), s.buffer.size(), MSG_DONTWAIT);
        if (len < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            continue;  // ECONNREFUSED and the like: an ICMP error, the timer deals with it
        }
        on_datagram(s, ByteView(s.buffer.data(), static_cast<std::size_t>(len)));
    }
}

void RadiusClient::on_datagram(Socket& s, ByteView data) {
    if (data.size() < radius::kHeaderSize) {
        ++counters_.dropped;
        return;
    }
    const std::shared_ptr<Transaction> t = s.outstanding[data[1]];
    if (!t) {
        ++counters_.dropped;
        log::debug(log::Subsystem::kCfg, "RADIUS reply with unknown identifier {}", data[1]);
        return;
    }
    const Server& srv = *servers_[s.server];
    auto reply = radius::open_reply(data, t->request_auth, srv.cfg.secret->view(), true);
    const bool code_ok =
            reply && ((reply->code == radius::Code::kAccountingResponse) == s.accounting);
    if (!reply || !code_ok) {
        ++counters_.dropped;
        log::info(log::Subsystem::kCfg, "received invalid RADIUS message from '{}', ignored: {}",
                  srv.cfg.name, reply ? "unexpected code" : reply.error().to_string());
        return;
    }
    ++counters_.replies;
    servers_[s.server]->failed = false;
    log::debug(log::Subsystem::kCfg, "received RADIUS {} from server '{}'",
               radius::to_string(reply->code), srv.cfg.name);
    finish(t, std::move(reply));
}

}  // namespace ikeplex::daemon
