// Engine events as VICI events: ike-updown, child-updown, ike-rekey, child-rekey (the layout
// of charon's vici plugin, so existing event consumers keep working).
#include <fmt/format.h>

#include "daemon/daemon.h"
#include "daemon/vici_format.h"

namespace ikeplex::daemon {

void Daemon::publish_event(const ike::Event& e) {
    using ike::EventKind;
    const ike::IkeSaManager& m = host_->manager();
    const std::int64_t now = host_->now().ms;
    const ike::IkeSa* sa = m.sa(e.ike_id);
    // Snapshots of what comes up, so that a down event can still describe what went.
    const auto snapshot = [&](std::uint32_t ike_id, std::uint32_t child_id) {
        const ike::IkeSa* s = m.sa(ike_id);
        if (s == nullptr) {
            return;
        }
        vici::Message ike_fields;  // fill_* append: always into a fresh message
        fill_ike(ike_fields, m, *s, now);
        ike_snapshots_[ike_id] = std::move(ike_fields);
        if (const ike::ChildSa* c = child_id != 0 ? s->child(child_id) : nullptr) {
            vici::Message child_fields;
            fill_child(child_fields, m, *backend_.backend, *s, *c, now);
            child_snapshots_[child_id] = std::move(child_fields);
        }
    };
    const auto minimal = [&](vici::Message& msg, std::uint32_t child_id) {
        // The SA is gone already: what was known about it, in list-sa's layout (the IKE SA's
        // section named after its connection, its Child SAs under child-sas).
        vici::Message& body = msg.add_section(e.conn.empty() ? "unknown" : e.conn);
        if (sa != nullptr) {
            fill_ike(body, m, *sa, now);
        } else if (auto it = ike_snapshots_.find(e.ike_id); it != ike_snapshots_.end()) {
            body = it->second;
            body.set("state", "DELETING");
        } else {
            body.add("uniqueid", std::to_string(e.ike_id));
            body.add("version", "2");
            body.add("state", "DELETING");
        }
        if (child_id != 0) {
            vici::Message& c = body.add_section("child-sas")
                                       .add_section(fmt::format("{}-{}", e.name, child_id));
            if (auto it = child_snapshots_.find(child_id); it != child_snapshots_.end()) {
                c = it->second;
                c.set("state", "DELETED");
            } else {
                c.add("name", e.name);
                c.add("uniqueid", std::to_string(child_id));
                c.add("state", "DELETED");
            }
        }
    };
    switch (e.kind) {
        case EventKind::kIkeUp:
            snapshot(e.ike_id, 0);
            break;
        case EventKind::kChildUp:
            snapshot(e.ike_id, e.child_id);
            break;
        case EventKind::kIkeRekeyed:
            snapshot(e.new_id, 0);
            break;
        case EventKind::kChildRekeyed:
            snapshot(e.ike_id, e.new_id);
            break;
        default:
            break;
    }
    switch (e.kind) {
        case EventKind::kIkeUp:
        case EventKind::kIkeDown: {
            if (!vici_.wanted("ike-updown")) {
                return;
            }
            vici::Message msg;
            if (e.kind == EventKind::kIkeUp) {
                msg.add("up", "yes");
            }
            if (sa != nullptr) {
                add_ike_section(msg, m, *backend_.backend, *sa, now);
            } else {
                minimal(msg, 0);
            }
            vici_.publish("ike-updown", msg);
            return;
        }
        case EventKind::kChildUp:
        case EventKind::kChildDown: {
            if (!vici_.wanted("child-updown")) {
                return;
            }
            vici::Message msg;
            if (e.kind == EventKind::kChildUp) {
                msg.add("up", "yes");
            }
            if (sa != nullptr && sa->child(e.child_id) != nullptr) {
                add_ike_section(msg, m, *backend_.backend, *sa, now, e.child_id);
            } else {
                minimal(msg, e.child_id);
            }
            vici_.publish("child-updown", msg);
            return;
        }
        case EventKind::kIkeRekeyed: {
            const ike::IkeSa* fresh = m.sa(e.new_id);
            if (!vici_.wanted("ike-rekey") || fresh == nullptr) {
                return;
            }
            vici::Message msg;
            vici::Message& body =
                    msg.add_section(fresh->config() != nullptr ? fresh->config()->name : "unknown");
            body.add_section("old").add("uniqueid", std::to_string(e.ike_id));
            vici::Message& n = body.add_section("new");
            fill_ike(n, m, *fresh, now);
            vici_.publish("ike-rekey", msg);
            return;
        }
        case EventKind::kChildRekeyed: {
            if (!vici_.wanted("child-rekey") || sa == nullptr) {
                return;
            }
            vici::Message msg;
            vici::Message& body =
                    msg.add_section(sa->config() != nullptr ? sa->config()->name : "unknown");
            fill_ike(body, m, *sa, now);
            vici::Message& child = body.add_section("child-sas").add_section(e.name);
            vici::Message& old = child.add_section("old");
            if (const ike::ChildSa* c = sa->child(e.child_id)) {
                fill_child(old, m, *backend_.backend, *sa, *c, now);
            } else {
                old.add("uniqueid", std::to_string(e.child_id));
            }
            if (const ike::ChildSa* c = sa->child(e.new_id)) {
                fill_child(child.add_section("new"), m, *backend_.backend, *sa, *c, now);
            }
            vici_.publish("child-rekey", msg);
            return;
        }
        case EventKind::kIkeFailed:
        case EventKind::kChildFailed:
            return;  // only commands waiting for them care
    }
}

void Daemon::forget_snapshots(const ike::Event& e) {
    using ike::EventKind;
    if (e.kind == EventKind::kIkeDown || e.kind == EventKind::kIkeRekeyed) {
        ike_snapshots_.erase(e.ike_id);
    } else if (e.kind == EventKind::kChildDown || e.kind == EventKind::kChildRekeyed) {
        child_snapshots_.erase(e.child_id);  // a rekeyed Child SA's down event comes first
    }
}

}  // namespace ikeplex::daemon
