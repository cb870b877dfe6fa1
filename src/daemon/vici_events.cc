// Engine events as VICI events: ike-updown, child-updown, ike-rekey, child-rekey (the layout
// of charon's vici plugin, so existing event consumers keep working).
#include "daemon/daemon.h"
#include "daemon/vici_format.h"

namespace ikeplex::daemon {

void Daemon::publish_event(const ike::Event& e) {
    using ike::EventKind;
    const ike::IkeSaManager& m = host_->manager();
    const std::int64_t now = host_->now().ms;
    const ike::IkeSa* sa = m.sa(e.ike_id);
    const auto minimal = [&](vici::Message& msg, std::uint32_t child_id) {
        // The SA is gone already: what is still known about it.
        vici::Message& body = msg.add_section(e.name.empty() ? "unknown" : e.name);
        body.add("uniqueid", std::to_string(e.ike_id));
        if (child_id != 0) {
            vici::Message& c = body.add_section("child-sas").add_section(std::to_string(child_id));
            c.add("uniqueid", std::to_string(child_id));
        }
    };
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
                add_ike_section(msg, m, *backend_, *sa, now);
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
                add_ike_section(msg, m, *backend_, *sa, now, e.child_id);
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
                fill_child(old, m, *backend_, *sa, *c, now);
            } else {
                old.add("uniqueid", std::to_string(e.child_id));
            }
            if (const ike::ChildSa* c = sa->child(e.new_id)) {
                fill_child(child.add_section("new"), m, *backend_, *sa, *c, now);
            }
            vici_.publish("child-rekey", msg);
            return;
        }
        case EventKind::kIkeFailed:
        case EventKind::kChildFailed:
            return;  // only commands waiting for them care
    }
}

}  // namespace ikeplex::daemon
