#include "daemon/vici_control.h"

#include <algorithm>
#include <charconv>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "daemon/vici_command.h"

namespace ikeplex::daemon {

namespace {

std::optional<std::uint32_t> number(const vici::Message& m, std::string_view key) {
    const auto v = m.get(key);
    if (!v) {
        return std::nullopt;
    }
    std::uint32_t n = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size()) {
        return std::nullopt;
    }
    return n;
}

/// VICI timeouts are milliseconds; absent: `fallback`; 0: wait for the outcome however long
/// it takes (charon's meaning; returned as 0 ms: no timer); negative: do not wait at all.
std::optional<std::chrono::milliseconds> wait_time(const vici::Message& m,
                                                   std::chrono::milliseconds fallback) {
    const auto v = m.get("timeout");
    if (!v || v->empty()) {
        return fallback;
    }
    if (v->front() == '-') {
        return std::nullopt;
    }
    std::uint32_t n = 0;
    std::from_chars(v->data(), v->data() + v->size(), n);
    return std::chrono::milliseconds(n);
}

/// The SAs a terminate or rekey request names: IKE SAs by ike / ike-id when it names no
/// child, else Child SAs by child / child-id (narrowed by ike / ike-id when given).
struct Selection {
    std::vector<std::uint32_t> ikes;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> children;  ///< (IKE SA, Child SA)
    [[nodiscard]] bool empty() const noexcept { return ikes.empty() && children.empty(); }
};

Selection select(const vici::Message& req, const ike::IkeSaManager& m) {
    const auto child = req.get("child");
    const auto ike = req.get("ike");
    const auto child_id = number(req, "child-id");
    const auto ike_id = number(req, "ike-id");
    Selection s;
    for (const ike::IkeSa* sa : m.sas()) {
        const std::string name = sa->config() != nullptr ? sa->config()->name : "";
        const bool ike_match = (ike && name == *ike) || (ike_id && *ike_id == sa->id());
        if (!child && !child_id) {
            if (ike_match) {
                s.ikes.push_back(sa->id());
            }
            continue;
        }
        if ((ike || ike_id) && !ike_match) {
            continue;
        }
        for (const auto& ch : sa->children()) {
            if ((child && ch->name() == *child) || (child_id && *child_id == ch->id)) {
                s.children.emplace_back(sa->id(), ch->id);
            }
        }
    }
    return s;
}

}  // namespace

void ControlCommands::register_with(vici::Server& server) {
    add_command(server, "initiate", this, &ControlCommands::initiate);
    add_command(server, "terminate", this, &ControlCommands::terminate);
    add_command(server, "rekey", this, &ControlCommands::rekey);
}

void ControlCommands::initiate(const vici::Message& req, const vici::Reply& reply) {
    const std::string child(req.get("child").value_or(""));
    std::string ike(req.get("ike").value_or(""));
    if (child.empty() && ike.empty()) {
        reply.respond(result(false, "missing configuration name"));
        return;
    }
    if (ike.empty()) {
        // The connection that has this child.
        for (const ike::PeerConfig& c : host_.manager().configs()) {
            if (c.child(child) != nullptr) {
                ike = c.name;
                break;
            }
        }
        if (ike.empty()) {
            reply.respond(result(false, "CHILD_SA config '" + child + "' not found"));
            return;
        }
    }
    Control c;
    c.reply = reply;
    c.initiate = true;
    c.child = child;
    c.conn = ike;
    c.loglevel = static_cast<int>(number(req, "loglevel").value_or(1));
    const auto wait = wait_time(req, default_wait(Kind::kInitiate, ike));
    const std::uint64_t id = track(std::move(c), wait.value_or(std::chrono::milliseconds(0)));
    current_control_ = id;
    Result<std::uint32_t> started = make_error(Errc::kInternal, "not run");
    host_.execute([&](ike::Step& s) { started = host_.manager().initiate(ike, child, s); });
    current_control_ = 0;
    auto it = controls_.find(id);
    if (!started) {
        finish(id, false, std::string(started.error().detail) + " ('" + ike + "')");
        return;
    }
    if (it == controls_.end()) {
        return;  // settled at once
    }
    it->second.ike_ids.insert(*started);
    if (!wait) {
        finish(id, true, {});  // timeout < 0: do not wait
        return;
    }
    settle_if_up(id, *started, child);
}

void ControlCommands::settle_if_up(std::uint64_t id, std::uint32_t ike_id,
                                   const std::string& child) {
    // Already up, and nothing more being created (an RFC 9611 group's fallback, or a
    // connection without a child): nothing to wait for.
    const ike::IkeSa* sa = host_.manager().sa(ike_id);
    if (sa == nullptr || sa->state() != ike::IkeState::kEstablished) {
        return;
    }
    const ike::ChildConfig* cc = child.empty() ? nullptr : sa->config()->child(child);
    const bool pending = cc != nullptr && sa->creating(*cc, ResourceId::none());
    bool installed = child.empty();
    for (const auto& ch : sa->children()) {
        installed = installed || (ch->name() == child && ch->state == ike::ChildState::kInstalled);
    }
    if (installed && !pending) {
        finish(id, true, {});
    }
}

void ControlCommands::terminate(const vici::Message& req, const vici::Reply& reply) {
    if (!req.get("child") && !req.get("ike") && !number(req, "child-id") &&
        !number(req, "ike-id")) {
        reply.respond(result(false, "missing terminate selector"));
        return;
    }
    const Selection sel = select(req, host_.manager());
    if (sel.empty()) {
        reply.respond(result(false, "no matching SAs to terminate found"));
        return;
    }
    Control c;
    c.reply = reply;
    c.kind = Kind::kTerminate;
    c.initiate = false;
    c.loglevel = static_cast<int>(number(req, "loglevel").value_or(1));
    c.matches = sel.ikes.size() + sel.children.size();
    for (std::uint32_t i : sel.ikes) {
        c.ike_ids.insert(i);
        c.ikes_to_go.insert(i);
    }
    for (const auto& [i, k] : sel.children) {
        c.ike_ids.insert(i);
        c.children.insert(k);
    }
    const auto wait = wait_time(req, default_wait(Kind::kTerminate, {}));
    const std::uint64_t id = track(std::move(c), wait.value_or(std::chrono::milliseconds(0)));
    current_control_ = id;
    const bool force = req.get("force") == std::optional<std::string_view>("yes");
    host_.execute([&](ike::Step& s) {
        for (std::uint32_t i : sel.ikes) {
            if (!force) {
                (void)host_.manager().terminate_ike(i, s);
            } else if (ike::IkeSa* sa = host_.manager().find(i)) {
                sa->destroy("terminated by operator (forced)", s);
            }
        }
        for (const auto& [i, k] : sel.children) {
            (void)host_.manager().terminate_child(k, s);
        }
    });
    current_control_ = 0;
    if (!wait) {
        finish(id, true, {});
    }
}

void ControlCommands::rekey(const vici::Message& req, const vici::Reply& reply) {
    const Selection sel = select(req, host_.manager());
    if (sel.empty()) {
        vici::Message r;
        r.add("success", "no");
        r.add("matches", "0");
        r.add("errmsg", "no matching SAs to rekey found");
        reply.respond(r);
        return;
    }
    Control c;
    c.reply = reply;
    c.kind = Kind::kRekey;
    c.initiate = false;
    // control-log only to clients that ask for it (ikeplex; swanctl --rekey does not).
    c.loglevel = static_cast<int>(number(req, "loglevel").value_or(-1));
    c.matches = sel.ikes.size() + sel.children.size();
    for (std::uint32_t i : sel.ikes) {
        c.ike_ids.insert(i);
        c.ikes_to_go.insert(i);
    }
    const ike::IkeSaManager& m = host_.manager();
    for (const auto& [i, k] : sel.children) {
        c.ike_ids.insert(i);
        const ike::ChildSa* ch = m.sa(i) != nullptr ? m.sa(i)->child(k) : nullptr;
        c.rekeying[k] = {i, ch != nullptr ? ch->name() : std::string()};
    }
    const auto wait = wait_time(req, default_wait(Kind::kRekey, {}));
    const std::uint64_t id = track(std::move(c), wait.value_or(std::chrono::milliseconds(0)));
    current_control_ = id;
    std::string refused;
    bool renewed = false;  // a Child SA the peer's rekey had just replaced counts as done
    host_.execute([&](ike::Step& s) {
        for (std::uint32_t i : sel.ikes) {
            if (auto st = host_.manager().rekey_ike(i, s); !st) {
                refused = st.error().detail;
                controls_.at(id).ikes_to_go.erase(i);
            }
        }
        for (const auto& [i, k] : sel.children) {
            auto st = host_.manager().rekey_child(k, s);
            if (!st) {
                refused = fmt::format("CHILD_SA {{{}}}: {}", k, st.error().detail);
            }
            if (!st || !*st) {
                renewed = renewed || st.has_value();
                controls_.at(id).rekeying.erase(k);
            }
        }
    });
    current_control_ = 0;
    auto it = controls_.find(id);
    if (it == controls_.end()) {
        return;  // settled at once
    }
    if (it->second.ikes_to_go.empty() && it->second.rekeying.empty()) {
        // Nothing to wait for: done if one was already renewed and none refused.
        finish(id, renewed && refused.empty(), refused);
    } else if (!wait) {
        finish(id, true, {});  // timeout < 0: do not wait
    }
}

std::chrono::milliseconds ControlCommands::default_wait(Kind kind, const std::string& conn) const {
    const ike::Settings& s = host_.manager().settings();
    if (kind != Kind::kInitiate) {
        return exchange_time(s) + std::chrono::seconds(5);
    }
    const ike::ConfigPtr cfg = host_.manager().configs().find(conn);
    return initiate_time(s, cfg != nullptr ? cfg->keyingtries : 1);
}

std::chrono::milliseconds exchange_time(const ike::Settings& s) {
    double total = 0;
    auto wait = static_cast<double>(s.retransmit_timeout.count());
    for (std::uint32_t k = 0; k <= s.retransmit_tries; ++k) {
        total += wait;
        wait *= s.retransmit_base;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(total));
}

std::chrono::milliseconds initiate_time(const ike::Settings& s, std::uint32_t keyingtries) {
    // Each attempt: IKE_SA_INIT and IKE_AUTH; between two, the longest back-off (1.5 x).
    const std::uint32_t tries = std::max<std::uint32_t>(keyingtries, 1);
    std::chrono::milliseconds total = 2 * exchange_time(s) * tries + std::chrono::seconds(5);
    std::chrono::milliseconds delay = s.restart_delay;
    for (std::uint32_t k = 1; k < tries; ++k) {
        total += std::min(delay, std::max(s.restart_delay_max, s.restart_delay)) * 3 / 2;
        delay *= 2;
    }
    return total;
}

std::uint64_t ControlCommands::track(Control c, std::chrono::milliseconds timeout) {
    // Commands whose client left and that wait without a timer: forget them.
    std::erase_if(controls_, [](const auto& kv) {
        return !kv.second.timer && kv.second.reply && !kv.second.reply->alive();
    });
    const std::uint64_t id = next_control_++;
    if (timeout.count() > 0) {
        c.timer = std::make_unique<asio::steady_timer>(io_, timeout);
        c.timer->async_wait([this, id](const asio::error_code& ec) {
            if (!ec) {
                finish(id, false, "timeout");
            }
        });
    }
    controls_.emplace(id, std::move(c));
    return id;
}

void ControlCommands::finish(std::uint64_t id, bool success, const std::string& errmsg) {
    auto it = controls_.find(id);
    if (it == controls_.end()) {
        return;
    }
    Control c = std::move(it->second);
    controls_.erase(it);
    if (c.timer) {
        c.timer->cancel();
    }
    if (!c.reply) {
        return;
    }
    vici::Message r;
    r.add("success", success ? "yes" : "no");
    if (c.kind == Kind::kRekey) {
        r.add("matches", std::to_string(c.matches));
    } else if (!c.initiate) {
        r.add("matches", std::to_string(c.matches));
        r.add("terminated", std::to_string(success ? c.matches : 0));
    }
    if (!success && !errmsg.empty()) {
        r.add("errmsg", errmsg);
    }
    c.reply->respond(r);
}

void ControlCommands::on_log(std::uint32_t ike_id, int level, const vici::Message& m) {
    for (auto& [id, c] : controls_) {
        const bool concerns = id == current_control_ ||
                              (ike_id != 0 && c.ike_ids.contains(ike_id)) ||
                              (c.retrying && m.get("ikesa-name") == c.conn);
        if (concerns && level <= c.loglevel && c.reply && c.reply->alive()) {
            c.reply->event("control-log", m);
        }
    }
}

std::optional<bool> ControlCommands::outcome(Control& c, const ike::Event& e, std::string& why) {
    why = e.reason;
    if (c.kind == Kind::kInitiate && e.kind == ike::EventKind::kHeal && e.conn == c.conn) {
        return heal_outcome(c, e, why);
    }
    if (c.retrying && e.conn == c.conn) {
        c.ike_ids.insert(e.ike_id);  // the next attempt's IKE SA
    }
    if (!c.ike_ids.contains(e.ike_id)) {
        // An IKE rekey hands the SA over: follow it.
        return std::nullopt;
    }
    using ike::EventKind;
    if (c.initiate) {
        switch (e.kind) {
            case EventKind::kChildUp:
                return c.child.empty() || e.name == c.child ? std::optional<bool>(true)
                                                            : std::nullopt;
            case EventKind::kIkeUp:
                return c.child.empty() ? std::optional<bool>(true) : std::nullopt;
            case EventKind::kChildFailed:
                return e.name == c.child ? std::optional<bool>(false) : std::nullopt;
            case EventKind::kIkeFailed:
            case EventKind::kIkeDown:
                if (retry_pending(c.conn)) {
                    c.retrying = true;  // keyingtries: follow the connection's next attempt
                    return std::nullopt;
                }
                if (const auto next = redirected_to(c.conn, c.ike_ids)) {
                    c.ike_ids.insert(*next);  // RFC 5685: follow the IKE SA at the new gateway
                    return std::nullopt;
                }
                if (c.retrying) {
                    why = fmt::format("{} (giving up after {} attempts)", e.reason, c.attempts + 1);
                }
                return false;
            default:
                return std::nullopt;
        }
    }
    if (c.kind == Kind::kRekey) {
        return rekey_outcome(c, e, why);
    }
    switch (e.kind) {
        case EventKind::kChildDown:
            c.children.erase(e.child_id);
            break;
        case EventKind::kIkeDown:
        case EventKind::kIkeFailed:
            c.ikes_to_go.erase(e.ike_id);
            break;
        default:
            break;
    }
    if (c.children.empty() && c.ikes_to_go.empty()) {
        return true;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> ControlCommands::redirected_to(
        const std::string& conn, const std::set<std::uint32_t>& known) const {
    for (const ike::IkeSa* sa : host_.manager().sas()) {
        if (sa->is_original_initiator() && sa->state() == ike::IkeState::kConnecting &&
            sa->config() != nullptr && sa->config()->name == conn && !known.contains(sa->id())) {
            return sa->id();
        }
    }
    return std::nullopt;
}

bool ControlCommands::retry_pending(const std::string& conn) const {
    const auto pending = host_.manager().pending_restarts();
    return std::any_of(pending.begin(), pending.end(),
                       [&](const ike::PendingRestart& p) { return p.conn == conn; });
}

std::optional<bool> ControlCommands::heal_outcome(Control& c, const ike::Event& e,
                                                  std::string& why) {
    std::string line;
    if (e.reason == "retry") {
        c.retrying = true;
        c.attempts = e.attempt;
        line = fmt::format("{}: attempt {} failed, next attempt in {:.1f} s", e.conn, e.attempt,
                           static_cast<double>(e.next_in.count()) / 1000);
    } else if (e.reason == "give-up") {
        why = fmt::format("giving up after {} attempt{}", e.attempt, e.attempt == 1 ? "" : "s");
        line = e.conn + ": " + why;
    } else if (e.reason == "restart" && e.ike_id != 0) {
        c.ike_ids.insert(e.ike_id);
    }
    if (!line.empty() && c.loglevel >= 1 && c.reply && c.reply->alive()) {
        vici::Message m;
        m.add("group", "IKE");
        m.add("level", "1");
        m.add("msg", line);
        c.reply->event("control-log", m);
    }
    return e.reason == "give-up" ? std::optional<bool>(false) : std::nullopt;
}

std::optional<bool> ControlCommands::rekey_outcome(Control& c, const ike::Event& e,
                                                   std::string& why) {
    using ike::EventKind;
    const auto on_ike = [&](std::uint32_t ike) {
        return c.ikes_to_go.contains(ike) ||
               std::any_of(c.rekeying.begin(), c.rekeying.end(),
                           [&](const auto& kv) { return kv.second.first == ike; });
    };
    switch (e.kind) {
        case EventKind::kIkeRekeyed:
            c.ikes_to_go.erase(e.ike_id);
            for (auto& [k, v] : c.rekeying) {
                if (v.first == e.ike_id) {
                    v.first = e.new_id;  // its Child SAs moved to the new IKE SA
                }
            }
            break;
        case EventKind::kIkeRekeyFailed:
            if (c.ikes_to_go.contains(e.ike_id)) {
                why = "IKE_SA rekey failed: " + e.reason;
                return false;
            }
            break;
        case EventKind::kChildRekeyed:
            c.rekeying.erase(e.child_id);
            break;
        case EventKind::kChildFailed:
            for (const auto& [k, v] : c.rekeying) {
                if (v.first == e.ike_id && v.second == e.name) {
                    why = fmt::format("CHILD_SA {}{{{}}} rekey failed: {}", e.name, k, e.reason);
                    return false;
                }
            }
            break;
        case EventKind::kChildDown:
            if (c.rekeying.contains(e.child_id)) {
                why = fmt::format("CHILD_SA {}{{{}}} went away before its rekey completed ({})",
                                  e.name, e.child_id, e.reason);
                return false;
            }
            break;
        case EventKind::kIkeDown:
        case EventKind::kIkeFailed:
            if (on_ike(e.ike_id)) {
                why = fmt::format("IKE_SA {}[{}] went away before the rekey completed ({})", e.conn,
                                  e.ike_id, e.reason);
                return false;
            }
            break;
        default:
            break;
    }
    if (c.ikes_to_go.empty() && c.rekeying.empty()) {
        return true;
    }
    return std::nullopt;
}

void ControlCommands::on_event(const ike::Event& e) {
    // IKE rekeys move SAs to new ids: waiting commands follow them.
    if (e.kind == ike::EventKind::kIkeRekeyed) {
        for (auto& [id, c] : controls_) {
            if (c.ike_ids.contains(e.ike_id)) {
                c.ike_ids.insert(e.new_id);
            }
        }
    }
    std::vector<std::tuple<std::uint64_t, bool, std::string>> done;
    for (auto& [id, c] : controls_) {
        std::string why;
        if (auto o = outcome(c, e, why)) {
            done.emplace_back(id, *o, why);
        }
    }
    for (const auto& [id, success, why] : done) {
        finish(id, success, success ? std::string() : why);
    }
}

}  // namespace ikeplex::daemon
