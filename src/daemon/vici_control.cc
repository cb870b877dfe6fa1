// VICI control commands: initiate, terminate, rekey (charon's semantics: initiate and
// terminate stream control-log and answer when the SAs are up or gone, or at the timeout).
#include <charconv>

#include "daemon/daemon.h"
#include "util/log.h"

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

/// VICI timeouts are milliseconds; 0 or absent: wait (we still stop at `fallback`); negative:
/// do not wait at all.
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
    return n == 0 ? fallback : std::chrono::milliseconds(n);
}

vici::Message failure(const std::string& why) {
    vici::Message r;
    r.add("success", "no");
    r.add("errmsg", why);
    return r;
}

}  // namespace

void Daemon::register_control_commands() {
    vici_.add_command("initiate", [this](const vici::Message& req, const vici::Reply& reply) {
        const std::string child(req.get("child").value_or(""));
        std::string ike(req.get("ike").value_or(""));
        if (child.empty() && ike.empty()) {
            reply.respond(failure("missing configuration name"));
            return;
        }
        if (ike.empty()) {
            // The connection that has this child.
            for (const ike::PeerConfig& c : host_->manager().configs()) {
                if (c.child(child) != nullptr) {
                    ike = c.name;
                    break;
                }
            }
            if (ike.empty()) {
                reply.respond(failure("CHILD_SA config '" + child + "' not found"));
                return;
            }
        }
        Control c;
        c.reply = reply;
        c.initiate = true;
        c.child = child;
        c.loglevel = static_cast<int>(number(req, "loglevel").value_or(1));
        const auto wait = wait_time(req, std::chrono::seconds(60));
        const std::uint64_t id = track(std::move(c), wait.value_or(std::chrono::milliseconds(0)));
        current_control_ = id;
        Result<std::uint32_t> started = make_error(Errc::kInternal, "not run");
        host_->execute([&](ike::Step& s) { started = host_->manager().initiate(ike, child, s); });
        current_control_ = 0;
        auto it = controls_.find(id);
        if (!started) {
            finish_control(id, false, std::string(started.error().detail) + " ('" + ike + "')");
            return;
        }
        if (it == controls_.end()) {
            return;  // settled at once
        }
        it->second.ike_ids.insert(*started);
        if (!wait) {
            finish_control(id, true, {});  // timeout < 0: do not wait
            return;
        }
        // Already up, and nothing more being created (an RFC 9611 group's fallback, or a
        // connection without a child): nothing to wait for.
        const ike::IkeSa* sa = host_->manager().sa(*started);
        if (sa != nullptr && sa->state() == ike::IkeState::kEstablished) {
            const ike::ChildConfig* cc = child.empty() ? nullptr : sa->config()->child(child);
            const bool pending = cc != nullptr && sa->creating(*cc, ResourceId::none());
            bool installed = child.empty();
            for (const auto& ch : sa->children()) {
                installed = installed ||
                            (ch->name() == child && ch->state == ike::ChildState::kInstalled);
            }
            if (installed && !pending) {
                finish_control(id, true, {});
            }
        }
    });

    vici_.add_command("terminate", [this](const vici::Message& req, const vici::Reply& reply) {
        const auto child = req.get("child");
        const auto ike = req.get("ike");
        const auto child_id = number(req, "child-id");
        const auto ike_id = number(req, "ike-id");
        if (!child && !ike && !child_id && !ike_id) {
            reply.respond(failure("missing terminate selector"));
            return;
        }
        Control c;
        c.reply = reply;
        c.initiate = false;
        c.loglevel = static_cast<int>(number(req, "loglevel").value_or(1));
        std::vector<std::uint32_t> ikes;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> kids;  // (ike, child)
        for (const ike::IkeSa* sa : host_->manager().sas()) {
            const std::string name = sa->config() != nullptr ? sa->config()->name : "";
            const bool ike_match = (ike && name == *ike) || (ike_id && *ike_id == sa->id());
            if (!child && !child_id) {
                if (ike_match) {
                    ikes.push_back(sa->id());
                }
                continue;
            }
            if ((ike || ike_id) && !ike_match) {
                continue;
            }
            for (const auto& ch : sa->children()) {
                if ((child && ch->name() == *child) || (child_id && *child_id == ch->id)) {
                    kids.emplace_back(sa->id(), ch->id);
                }
            }
        }
        if (ikes.empty() && kids.empty()) {
            reply.respond(failure("no matching SAs to terminate found"));
            return;
        }
        c.matches = ikes.size() + kids.size();
        for (std::uint32_t i : ikes) {
            c.ike_ids.insert(i);
            c.ikes_to_go.insert(i);
        }
        for (const auto& [i, k] : kids) {
            c.ike_ids.insert(i);
            c.children.insert(k);
        }
        const auto wait = wait_time(req, std::chrono::seconds(30));
        const std::uint64_t id = track(std::move(c), wait.value_or(std::chrono::milliseconds(0)));
        current_control_ = id;
        const bool force = req.get("force") == std::optional<std::string_view>("yes");
        host_->execute([&](ike::Step& s) {
            for (std::uint32_t i : ikes) {
                if (force) {
                    if (ike::IkeSa* sa = host_->manager().find(i)) {
                        sa->destroy("terminated by operator (forced)", s);
                    }
                } else {
                    (void)host_->manager().terminate_ike(i, s);
                }
            }
            for (const auto& [i, k] : kids) {
                (void)host_->manager().terminate_child(k, s);
            }
        });
        current_control_ = 0;
        if (!wait) {
            finish_control(id, true, {});
        }
    });

    vici_.add_command("rekey", [this](const vici::Message& req, const vici::Reply& reply) {
        const auto child = req.get("child");
        const auto ike = req.get("ike");
        const auto child_id = number(req, "child-id");
        const auto ike_id = number(req, "ike-id");
        std::size_t matches = 0;
        host_->execute([&](ike::Step& s) {
            std::vector<std::uint32_t> ikes;
            std::vector<std::uint32_t> kids;
            for (const ike::IkeSa* sa : host_->manager().sas()) {
                const std::string name = sa->config() != nullptr ? sa->config()->name : "";
                const bool ike_matches = (ike && name == *ike) || (ike_id && *ike_id == sa->id());
                if (!child && !child_id && ike_matches) {
                    ikes.push_back(sa->id());
                }
                if ((ike || ike_id) && !ike_matches) {
                    continue;  // --ike / --ike-id narrow --child / --child-id, as for terminate
                }
                for (const auto& ch : sa->children()) {
                    if ((child && ch->name() == *child) || (child_id && *child_id == ch->id)) {
                        kids.push_back(ch->id);
                    }
                }
            }
            for (std::uint32_t i : ikes) {
                if (host_->manager().rekey_ike(i, s)) {
                    ++matches;
                }
            }
            for (std::uint32_t k : kids) {
                if (host_->manager().rekey_child(k, s)) {
                    ++matches;
                }
            }
        });
        vici::Message r;
        r.add("success", matches > 0 ? "yes" : "no");
        r.add("matches", std::to_string(matches));
        if (matches == 0) {
            r.add("errmsg", "no matching SAs to rekey found");
        }
        reply.respond(r);
    });
}

}  // namespace ikeplex::daemon
