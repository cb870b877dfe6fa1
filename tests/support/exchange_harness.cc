#include "exchange_harness.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "cert_factory.h"
#include "ike/proposal.h"
#include "log_capture.h"
#include "wire/describe.h"
#include "wire/message.h"

namespace ikeplex::test {

using ike::EventKind;
using ike::IkeState;

// ----------------------------------------------------------------------------- FakeBackend

void FakeBackend::apply(std::vector<ike::BackendCommand>& commands) {
    for (ike::BackendCommand& cmd : commands) {
        if (auto* in = std::get_if<ike::InstallSa>(&cmd)) {
            if (refuse && refuse(*in)) {
                refused.emplace_back(in->child_id, in->spi);
                continue;
            }
            ++installs;
            const auto key = std::make_pair(in->spi, in->inbound);
            if (sas.contains(key)) {
                errors.push_back(fmt::format("SA {} {} installed twice", in->spi,
                                             in->inbound ? "in" : "out"));
            }
            sas.insert_or_assign(key, std::move(*in));
        } else if (const auto* del = std::get_if<ike::DeleteSa>(&cmd)) {
            ++deletes;
            if (sas.erase({del->spi, del->inbound}) == 0) {
                errors.push_back(fmt::format("delete of absent SA {} {}", del->spi,
                                             del->inbound ? "in" : "out"));
            }
        } else if (const auto* pol = std::get_if<ike::InstallPolicy>(&cmd)) {
            // A policy that had asked for per-CPU acquires and no longer does: when it came
            // relative to the SAs matters (the kernel raises per-CPU acquires meanwhile).
            const PolicyKey key{pol->reqid, pol->local_ts, pol->remote_ts};
            if (auto old = policies.find(key);
                old != policies.end() && old->second.per_cpu_acquire && !pol->per_cpu_acquire) {
                per_cpu_dropped_after_installs = installs;
            }
            policies.insert_or_assign(key, *pol);
        } else if (const auto* dp = std::get_if<ike::DeletePolicy>(&cmd)) {
            if (policies.erase(PolicyKey{dp->reqid, dp->local_ts, dp->remote_ts}) == 0) {
                errors.push_back(
                        fmt::format("delete of absent policy (reqid {})", dp->reqid.value()));
            }
        } else if (const auto* up = std::get_if<ike::UpdateSaAddresses>(&cmd)) {
            auto it = sas.find({up->spi, up->inbound});
            if (it == sas.end() || it->second.src != up->old_src || it->second.dst != up->old_dst) {
                errors.push_back(fmt::format("update of absent or moved SA {} {}", up->spi,
                                             up->inbound ? "in" : "out"));
            } else {
                it->second.src = up->src;
                it->second.dst = up->dst;
                it->second.udp_encap = up->udp_encap;
            }
            updates.push_back(*up);
        }
    }
    commands.clear();
}

// ----------------------------------------------------------------------------- Node

Node::Node(std::string n, IpAddress addr, std::uint64_t seed, const crypto::Registry& registry,
           ike::Settings settings)
    : name(std::move(n)),
      address(addr),
      route_source(addr),
      random(seed),
      spis(random),
      manager(registry, random, spis, std::move(settings)) {
    manager.set_deterministic_keys(true);
    manager.set_trace_messages(true);
    manager.set_source_lookup([this](const IpAddress&) { return route_source; });
}

std::size_t Node::count(EventKind kind) const {
    return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(), [&](const ike::Event& e) { return e.kind == kind; }));
}

std::size_t Node::count(EventKind kind, std::uint32_t child_id) const {
    return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(),
            [&](const ike::Event& e) { return e.kind == kind && e.child_id == child_id; }));
}

std::string payload_summary(const ike::MessageTrace& m) {
    // describe() reads "EXCHANGE request N [ payloads ]": the part in brackets.
    const std::string d = wire::describe(m.header, m.payloads);
    const auto open = d.find("[ ");
    const auto close = d.rfind(" ]");
    return open == std::string::npos || close == std::string::npos || close < open + 2
                   ? std::string()
                   : d.substr(open + 2, close - open - 2);
}

std::vector<const ike::MessageTrace*> Node::find(const MessageQuery& q) const {
    std::vector<const ike::MessageTrace*> out;
    for (std::size_t i = q.since; i < messages.size(); ++i) {
        const ike::MessageTrace& m = messages[i];
        const bool notify_ok =
                !q.notify || std::any_of(m.payloads.begin(), m.payloads.end(), [&](const auto& p) {
                    const auto* n = p.template as<wire::NotifyPayload>();
                    return n != nullptr && n->type == *q.notify;
                });
        if ((!q.sent || m.sent == *q.sent) && (!q.exchange || m.header.exchange == *q.exchange) &&
            (!q.response || m.header.is_response() == *q.response) && notify_ok &&
            (!q.payloads || payload_summary(m) == *q.payloads)) {
            out.push_back(&m);
        }
    }
    return out;
}

TimePoint Node::time_of(const ike::MessageTrace& m) const {
    const auto i = static_cast<std::size_t>(&m - messages.data());
    return i < message_times.size() ? message_times[i] : ike::kNever;
}

std::vector<const ike::IkeSa*> Node::established() const {
    std::vector<const ike::IkeSa*> out;
    for (const ike::IkeSa* sa : manager.sas()) {
        if (sa->state() == IkeState::kEstablished || sa->state() == IkeState::kRekeying) {
            out.push_back(sa);
        }
    }
    return out;
}

// ----------------------------------------------------------------------------- Harness

const crypto::Registry& test_registry() {
    static const std::unique_ptr<crypto::Registry> registry = [] {
        auto r = crypto::Registry::create();
        if (!r) {
            std::abort();
        }
        return std::move(*r);
    }();
    return *registry;
}

Harness::Harness(std::uint64_t seed, ike::Settings settings) : Harness(seed, settings, settings) {}

Harness::Harness(std::uint64_t seed, ike::Settings a_settings, ike::Settings b_settings)
    : registry_(test_registry()),
      settings_a_(a_settings),
      settings_b_(b_settings),
      a_(std::make_unique<Node>("a", IpAddress::v4(0x0a630001), seed * 3 + 1, registry_,
                                a_settings)),
      b_(std::make_unique<Node>("b", IpAddress::v4(0x0a630002), seed * 3 + 2, registry_,
                                b_settings)),
      net_random_(seed * 3 + 3) {
    LogCapture::install();
    LogCapture::clear();
}

std::int64_t Harness::unix_time() const noexcept {
    return kPinnedNow + now_.ms / 1000;
}

Node& Harness::restart(Node& n, std::uint64_t seed) {
    std::unique_ptr<Node>& slot = &n == a_.get() ? a_ : b_;
    const std::string name = n.name;
    const IpAddress address = n.address;
    slot = std::make_unique<Node>(name, address, seed, registry_,
                                  &n == a_.get() ? settings_a_ : settings_b_);
    return *slot;
}

Node& Harness::add_node(std::string name, IpAddress address, std::uint64_t seed,
                        ike::Settings settings) {
    extra_.push_back(std::make_unique<Node>(std::move(name), address, seed, registry_, settings));
    return *extra_.back();
}

void Harness::nat_a(IpAddress public_address) {
    nat_public_ = public_address;
}

void Harness::no_nat_a() {
    nat_public_.reset();
    nat_out_.clear();
}

void Harness::move(Node& n, IpAddress to) {
    n.gone.push_back(n.address);
    std::erase(n.gone, to);
    n.address = to;
    n.route_source = to;
}

bool Harness::chance(double p) {
    if (p <= 0) {
        return false;
    }
    return static_cast<double>(net_random_.u32()) / 4294967296.0 < p;
}

void Harness::act(Node& n, const std::function<void(ike::Step&)>& f) {
    LogCapture::set_current(n.name);
    ike::Output out;
    ike::Step step{now_, out, unix_time()};
    f(step);
    process(n, out);
}

void Harness::process(Node& n, ike::Output& out) {
    for (ike::OutDatagram& d : out.datagrams) {
        send(n, std::move(d));
    }
    n.backend.apply(out.commands);
    if (on_events && !out.events.empty()) {
        on_events(n, out.events);
    }
    for (ike::Event& e : out.events) {
        n.events.push_back(std::move(e));
    }
    for (ike::VirtualIpChange& v : out.vips) {
        n.vips.push_back(std::move(v));
    }
    for (ike::EapBackendQuery& q : out.eap_queries) {
        n.eap_queries.push_back(std::move(q));
    }
    for (ike::RevocationQuery& q : out.revocation_queries) {
        n.revocation_queries.push_back(std::move(q));
    }
    for (ike::MessageTrace& m : out.messages) {
        n.messages.push_back(std::move(m));
        n.message_times.push_back(now_);
    }
    n.wakeup = out.wakeup;
    out.clear();
    // Refused installs reach the engine as the daemon reports them: at once, in a step of
    // their own.
    auto refused = std::move(n.backend.refused);
    n.backend.refused.clear();
    for (const auto& r : refused) {
        act(n, [&](ike::Step& s) {
            n.manager.on_backend_event(ike::InstallFailed{r.first, r.second, "refused by the test"},
                                       s);
        });
    }
}

void Harness::send(Node& from, ike::OutDatagram&& out) {
    Datagram d{out.local, out.remote, std::move(out.data), &from == a_.get(), index_++, now_};
    if (d.from_a && nat_public_) {
        // NAT: a's private source becomes the public address with a mapped port.
        auto [it, added] = nat_out_.try_emplace(
                d.src.port, static_cast<std::uint16_t>(40000 + nat_out_.size()));
        d.src = Endpoint{*nat_public_, it->second};
    }
    sent.push_back(d);
    const bool source_gone =
            std::find(from.gone.begin(), from.gone.end(), out.local.address) != from.gone.end();
    if (source_gone || (drop && drop(d)) || chance(conditions.loss)) {
        ++lost;
        return;
    }
    const int copies = chance(conditions.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
        Duration delay = conditions.delay;
        if (chance(conditions.reorder)) {
            delay += Duration(static_cast<std::int64_t>(
                    net_random_.u32() %
                    static_cast<std::uint32_t>(conditions.reorder_delay.count() + 1)));
        }
        flight_.push_back(InFlight{now_ + delay + Duration(i), seq_++, d});
    }
}

Node* Harness::node_for(const Endpoint& dst, Endpoint& rewritten) {
    rewritten = dst;
    if (nat_public_ && dst.address == *nat_public_) {
        for (const auto& [priv, pub] : nat_out_) {
            if (pub == dst.port) {
                rewritten = Endpoint{a_->address, priv};
                return a_.get();
            }
        }
        return nullptr;  // no mapping: the NAT drops it
    }
    if (dst.address == a_->address) {
        return a_.get();
    }
    if (dst.address == b_->address) {
        return b_.get();
    }
    for (const auto& n : extra_) {
        if (dst.address == n->address) {
            return n.get();
        }
    }
    return nullptr;
}

bool Harness::step_once(TimePoint until) {
    // The earliest of: a datagram arriving, a's timer, b's timer.
    auto next_packet = std::min_element(
            flight_.begin(), flight_.end(), [](const InFlight& x, const InFlight& y) {
                return std::tie(x.at.ms, x.seq) < std::tie(y.at.ms, y.seq);
            });
    TimePoint next = ike::kNever;
    if (next_packet != flight_.end()) {
        next = next_packet->at;
    }
    Node* timer_node = nullptr;
    std::vector<Node*> nodes{a_.get(), b_.get()};
    for (const auto& n : extra_) {
        nodes.push_back(n.get());
    }
    for (Node* n : nodes) {
        if (n->wakeup < next ||
            (timer_node == nullptr && n->wakeup == next && next_packet == flight_.end())) {
            next = n->wakeup;
            timer_node = n;
        }
    }
    if (next == ike::kNever || next > until) {
        return false;
    }
    now_ = std::max(now_, next);
    if (timer_node != nullptr) {
        act(*timer_node, [&](ike::Step& s) { timer_node->manager.on_timer(s); });
        return true;
    }
    InFlight f = std::move(*next_packet);
    flight_.erase(next_packet);
    Endpoint dst;
    Node* to = node_for(f.d.dst, dst);
    if (to == nullptr) {
        ++lost;
        return true;
    }
    ++delivered;
    act(*to, [&](ike::Step& s) { to->manager.on_datagram(f.d.data, dst, f.d.src, s); });
    return true;
}

std::optional<Datagram> Harness::deliver_next() {
    auto next = std::min_element(flight_.begin(), flight_.end(),
                                 [](const InFlight& x, const InFlight& y) {
                                     return std::tie(x.at.ms, x.seq) < std::tie(y.at.ms, y.seq);
                                 });
    if (next == flight_.end()) {
        return std::nullopt;
    }
    InFlight f = std::move(*next);
    flight_.erase(next);
    now_ = std::max(now_, f.at);
    Endpoint dst;
    Node* to = node_for(f.d.dst, dst);
    if (to == nullptr) {
        ++lost;
        return f.d;
    }
    ++delivered;
    act(*to, [&](ike::Step& s) { to->manager.on_datagram(f.d.data, dst, f.d.src, s); });
    return f.d;
}

void Harness::run_for(Duration d) {
    const TimePoint until = now_ + d;
    while (step_once(until)) {
    }
    now_ = until;
}

bool Harness::run_until(const std::function<bool()>& done, Duration limit) {
    const TimePoint until = now_ + limit;
    while (!done()) {
        if (!step_once(until)) {
            now_ = until;
            return done();
        }
    }
    return true;
}

std::vector<Datagram> Harness::sent_by(const Node& n, wire::ExchangeType type,
                                       bool response) const {
    std::vector<Datagram> out;
    for (const Datagram& d : sent) {
        auto h = wire::peek_header(d.data);
        if (d.from_a == (&n == a_.get()) && h && h->exchange == type &&
            h->is_response() == response) {
            out.push_back(d);
        }
    }
    return out;
}

std::size_t Harness::count_sent(wire::ExchangeType type, bool response) const {
    std::size_t n = 0;
    for (const Datagram& d : sent) {
        auto h = wire::peek_header(d.data);
        if (h && h->exchange == type && h->is_response() == response) {
            ++n;
        }
    }
    return n;
}

// ----------------------------------------------------------------------------- configuration

namespace {

ike::TrafficSelector ts(const char* text) {
    return *ike::TrafficSelector::parse(text);
}

ike::PeerConfig side(const char* name, const char* local, const char* remote, const char* local_net,
                     const char* remote_net, const std::string& ike, const std::string& esp) {
    ike::PeerConfig c;
    c.name = name;
    c.local_addrs = {*IpAddress::parse(local)};
    c.remote_addrs = {*IpAddress::parse(remote)};
    c.ike_proposals = *ike::parse_proposals(ike, wire::ProtocolId::kIke);
    c.local.id = *ike::Identity::parse(local);
    c.remote.id = *ike::Identity::parse(remote);
    ike::ChildConfig child;
    child.name = "net";
    child.local_ts = {ts(local_net)};
    child.remote_ts = {ts(remote_net)};
    child.esp_proposals = *ike::parse_proposals(esp, wire::ProtocolId::kEsp);
    c.children.push_back(std::move(child));
    return c;
}

}  // namespace

void use_pubkey(PairConfig& cfg) {
    for (auto* p : {&cfg.a, &cfg.b}) {
        p->local.kind = ike::AuthKind::kPubkey;
        p->remote.kind = ike::AuthKind::kPubkey;
    }
    cfg.a.local.id = *ike::Identity::parse("a.test");
    cfg.a.remote.id = *ike::Identity::parse("b.test");
    cfg.b.local.id = *ike::Identity::parse("b.test");
    cfg.b.remote.id = *ike::Identity::parse("a.test");
}

PairConfig psk_pair(const std::string& ike_proposals, const std::string& esp_proposals) {
    return PairConfig{side("conn", "10.99.0.1", "10.99.0.2", "10.99.1.0/24", "10.99.2.0/24",
                           ike_proposals, esp_proposals),
                      side("conn", "10.99.0.2", "10.99.0.1", "10.99.2.0/24", "10.99.1.0/24",
                           ike_proposals, esp_proposals)};
}

ike::Credentials psk_credentials(const std::string& secret) {
    ike::Credentials c;
    c.psks.push_back(ike::Credentials::Psk{
            {},
            SecretBytes::copy_of(ByteView(reinterpret_cast<const std::uint8_t*>(secret.data()),
                                          secret.size()))});
    return c;
}

void load(Harness& h, PairConfig& cfg, ike::Credentials a_creds, ike::Credentials b_creds) {
    h.a().manager.load({cfg.a});
    h.b().manager.load({cfg.b});
    h.a().manager.set_credentials(std::move(a_creds));
    h.b().manager.set_credentials(std::move(b_creds));
}

// ----------------------------------------------------------------------------- invariants

namespace {

bool same_keys(const ike::InstallSa& x, const ike::InstallSa& y) {
    return x.encr_id == y.encr_id && x.encr_key_bits == y.encr_key_bits &&
           x.integ_id == y.integ_id && x.encr_key.equals(y.encr_key.view()) &&
           x.integ_key.equals(y.integ_key.view()) && x.esn == y.esn && x.mode == y.mode &&
           x.udp_encap == y.udp_encap;
}

void check_side(Node& n, Node& other, std::vector<std::string>& problems) {
    // Every backend SA belongs to a Child SA of the manager, and its twin is on the other side.
    for (const auto& [key, sa] : n.backend.sas) {
        const auto [spi, inbound] = key;
        ike::IkeSa* owner = n.manager.sa_of_child(sa.child_id);
        if (owner == nullptr) {
            problems.push_back(fmt::format("{}: backend SA {} without a Child SA {{{}}}", n.name,
                                           spi, sa.child_id));
            continue;
        }
        auto twin = other.backend.sas.find({spi, !inbound});
        if (twin == other.backend.sas.end()) {
            problems.push_back(fmt::format("{}: {} SA {} ({}{{{}}}) has no twin on {}", n.name,
                                           inbound ? "inbound" : "outbound", spi, sa.child_name,
                                           sa.child_id, other.name));
            continue;
        }
        if (!same_keys(sa, twin->second)) {
            problems.push_back(fmt::format(
                    "{}: SA {} differs from its twin (algorithms, keys or mode)", n.name, spi));
        }
    }
    // Every installed Child SA has both directions in the backend and a policy.
    for (const ike::IkeSa* sa : n.manager.sas()) {
        for (const auto& c : sa->children()) {
            if (c->state == ike::ChildState::kCreating) {
                continue;
            }
            const bool in = n.backend.sas.contains({c->spi_in, true});
            const bool out = c->outbound_removed || n.backend.sas.contains({c->spi_out, false});
            if (!in || !out) {
                problems.push_back(
                        fmt::format("{}: Child SA {{{}}} not fully in the backend", n.name, c->id));
            }
            // RFC 9611: both sides agree whether it belongs to a group.
            for (const ike::IkeSa* osa : other.manager.sas()) {
                for (const auto& oc : osa->children()) {
                    if (oc->spi_out == c->spi_in && oc->state != ike::ChildState::kCreating &&
                        oc->group_member != c->group_member) {
                        problems.push_back(fmt::format(
                                "{}: Child SA {{{}}} is{} a group member, its twin is{}", n.name,
                                c->id, c->group_member ? "" : " not",
                                oc->group_member ? "" : " not"));
                    }
                }
            }
            if (!n.backend.policies.contains({c->reqid, c->local_ts, c->remote_ts})) {
                problems.push_back(
                        fmt::format("{}: Child SA {{{}}} without its policy", n.name, c->id));
            }
        }
    }
    for (const auto& [key, pol] : n.backend.policies) {
        if (pol.trap) {
            continue;
        }
        bool used = false;
        for (const ike::IkeSa* sa : n.manager.sas()) {
            for (const auto& c : sa->children()) {
                used = used || (c->reqid == pol.reqid && c->local_ts == pol.local_ts &&
                                c->remote_ts == pol.remote_ts);
            }
        }
        if (!used) {
            problems.push_back(fmt::format("{}: policy (reqid {}) without a Child SA", n.name,
                                           pol.reqid.value()));
        }
    }
    for (const std::string& e : n.backend.errors) {
        problems.push_back(fmt::format("{}: backend: {}", n.name, e));
    }
    // Every established IKE SA exists, established, on the other side.
    for (const ike::IkeSa* sa : n.established()) {
        bool found = false;
        for (const ike::IkeSa* o : other.established()) {
            found = found || (o->spi_i() == sa->spi_i() && o->spi_r() == sa->spi_r());
        }
        if (!found) {
            problems.push_back(fmt::format("{}: IKE SA {} ({}_i {}_r, {}) missing on {}", n.name,
                                           sa->label(), sa->spi_i(), sa->spi_r(),
                                           ike::to_string(sa->state()), other.name));
        }
    }
}

}  // namespace

std::vector<std::string> check_consistent(Harness& h) {
    std::vector<std::string> problems;
    check_side(h.a(), h.b(), problems);
    check_side(h.b(), h.a(), problems);
    for (Node* n : {&h.a(), &h.b()}) {
        if (const auto bad = n->manager.counters().illegal_transitions; bad != 0) {
            problems.push_back(fmt::format("{}: {} illegal IKE SA state changes", n->name, bad));
        }
    }
    return problems;
}

std::vector<std::string> check_empty(Node& n) {
    std::vector<std::string> problems;
    if (!n.manager.sas().empty()) {
        problems.push_back(fmt::format("{}: {} IKE SAs left", n.name, n.manager.sas().size()));
    }
    if (!n.backend.sas.empty()) {
        problems.push_back(fmt::format("{}: {} backend SAs left", n.name, n.backend.sas.size()));
    }
    const auto non_trap = std::count_if(n.backend.policies.begin(), n.backend.policies.end(),
                                        [](const auto& p) { return !p.second.trap; });
    if (non_trap != 0) {
        problems.push_back(fmt::format("{}: {} policies left", n.name, non_trap));
    }
    if (n.manager.pending_timers() != 0) {
        problems.push_back(fmt::format("{}: {} timers left", n.name, n.manager.pending_timers()));
    }
    if (n.spis.in_use() != 0) {
        problems.push_back(fmt::format("{}: {} SPIs still reserved", n.name, n.spis.in_use()));
    }
    if (const auto bad = n.manager.counters().illegal_transitions; bad != 0) {
        problems.push_back(fmt::format("{}: {} illegal IKE SA state changes", n.name, bad));
    }
    for (const auto& [index, size] : n.manager.index_sizes()) {
        if (size != 0) {
            problems.push_back(fmt::format("{}: {} entries left in index {}", n.name, size, index));
        }
    }
    return problems;
}

}  // namespace ikeplex::test
