#include "daemon/vici_events.h"

#include <fmt/format.h>

#include "daemon/vici_format.h"

namespace ikeplex::daemon {

using ike::EventKind;

void EventPublisher::register_with(vici::Server& server) const {
    for (const char* e :
         {"log", "control-log", "ike-updown", "child-updown", "ike-rekey", "child-rekey", "list-sa",
          "list-conn", "list-policy", "list-cert", "list-authority", "ike-heal"}) {
        server.add_event(e);
    }
}

void EventPublisher::on_event(const ike::Event& e) {
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
        case EventKind::kIkeDown:
        case EventKind::kChildUp:
        case EventKind::kChildDown:
            updown(e);
            break;
        case EventKind::kIkeRekeyed:
            ike_rekey(e);
            break;
        case EventKind::kChildRekeyed:
            child_rekey(e);
            break;
        case EventKind::kHeal:
            heal(e);
            break;
        case EventKind::kIkeFailed:
        case EventKind::kChildFailed:
        case EventKind::kIkeRekeyFailed:
            break;  // only commands waiting for them care
    }
    forget(e);
}

void EventPublisher::snapshot(std::uint32_t ike_id, std::uint32_t child_id) {
    if (!server_.wanted("ike-updown") && !server_.wanted("child-updown")) {
        return;  // nobody would read it: no copy of every SA (memory and CPU per SA)
    }
    const ike::IkeSaManager& m = host_.manager();
    const ike::IkeSa* s = m.sa(ike_id);
    if (s == nullptr) {
        return;
    }
    const std::int64_t now = host_.now().ms;
    vici::Message ike_fields;  // fill_* append: always into a fresh message
    fill_ike(ike_fields, m, *s, now);
    ike_snapshots_[ike_id] = std::move(ike_fields);
    if (const ike::ChildSa* c = child_id != 0 ? s->child(child_id) : nullptr) {
        vici::Message child_fields;
        fill_child(child_fields, m, backend_, *s, *c, now);
        child_snapshots_[child_id] = std::move(child_fields);
    }
}

void EventPublisher::forget(const ike::Event& e) {
    if (e.kind == EventKind::kIkeDown || e.kind == EventKind::kIkeRekeyed) {
        ike_snapshots_.erase(e.ike_id);
    } else if (e.kind == EventKind::kChildDown || e.kind == EventKind::kChildRekeyed) {
        child_snapshots_.erase(e.child_id);  // a rekeyed Child SA's down event comes first
    }
}

void EventPublisher::add_gone(vici::Message& msg, const ike::Event& e,
                              std::uint32_t child_id) const {
    vici::Message& body = msg.add_section(e.conn.empty() ? "unknown" : e.conn);
    if (const ike::IkeSa* sa = host_.manager().sa(e.ike_id)) {
        fill_ike(body, host_.manager(), *sa, host_.now().ms);
    } else if (auto it = ike_snapshots_.find(e.ike_id); it != ike_snapshots_.end()) {
        body = it->second;
        body.set("state", "DELETING");
    } else {
        body.add("uniqueid", std::to_string(e.ike_id));
        body.add("version", "2");
        body.add("state", "DELETING");
    }
    if (child_id == 0) {
        return;
    }
    vici::Message& c =
            body.add_section("child-sas").add_section(fmt::format("{}-{}", e.name, child_id));
    if (auto it = child_snapshots_.find(child_id); it != child_snapshots_.end()) {
        c = it->second;
        c.set("state", "DELETED");
    } else {
        c.add("name", e.name);
        c.add("uniqueid", std::to_string(child_id));
        c.add("state", "DELETED");
    }
}

void EventPublisher::updown(const ike::Event& e) {
    const bool child = e.kind == EventKind::kChildUp || e.kind == EventKind::kChildDown;
    const char* name = child ? "child-updown" : "ike-updown";
    if (!server_.wanted(name)) {
        return;
    }
    vici::Message msg;
    if (e.kind == EventKind::kIkeUp || e.kind == EventKind::kChildUp) {
        msg.add("up", "yes");
    }
    const ike::IkeSa* sa = host_.manager().sa(e.ike_id);
    const std::uint32_t child_id = child ? e.child_id : 0;
    if (sa != nullptr && (!child || sa->child(e.child_id) != nullptr)) {
        add_ike_section(msg, host_.manager(), backend_, *sa, host_.now().ms, child_id);
    } else {
        add_gone(msg, e, child_id);
    }
    server_.publish(name, msg);
}

void EventPublisher::ike_rekey(const ike::Event& e) {
    const ike::IkeSa* fresh = host_.manager().sa(e.new_id);
    if (!server_.wanted("ike-rekey") || fresh == nullptr) {
        return;
    }
    vici::Message msg;
    vici::Message& body =
            msg.add_section(fresh->config() != nullptr ? fresh->config()->name : "unknown");
    body.add_section("old").add("uniqueid", std::to_string(e.ike_id));
    fill_ike(body.add_section("new"), host_.manager(), *fresh, host_.now().ms);
    server_.publish("ike-rekey", msg);
}

void EventPublisher::child_rekey(const ike::Event& e) {
    const ike::IkeSaManager& m = host_.manager();
    const ike::IkeSa* sa = m.sa(e.ike_id);
    if (!server_.wanted("child-rekey") || sa == nullptr) {
        return;
    }
    const std::int64_t now = host_.now().ms;
    vici::Message msg;
    vici::Message& body = msg.add_section(sa->config() != nullptr ? sa->config()->name : "unknown");
    fill_ike(body, m, *sa, now);
    vici::Message& child = body.add_section("child-sas").add_section(e.name);
    vici::Message& old = child.add_section("old");
    if (const ike::ChildSa* c = sa->child(e.child_id)) {
        fill_child(old, m, backend_, *sa, *c, now);
    } else {
        old.add("uniqueid", std::to_string(e.child_id));
    }
    if (const ike::ChildSa* c = sa->child(e.new_id)) {
        fill_child(child.add_section("new"), m, backend_, *sa, *c, now);
    }
    server_.publish("child-rekey", msg);
}

void EventPublisher::heal(const ike::Event& e) {
    if (!server_.wanted("ike-heal")) {
        return;
    }
    vici::Message msg;
    msg.add("conn", e.conn);
    msg.add("action", e.reason);
    if (!e.name.empty()) {
        msg.add("child", e.name);
    }
    if (e.ike_id != 0) {
        msg.add("uniqueid", std::to_string(e.ike_id));
    }
    if (e.attempt != 0) {
        msg.add("attempt", std::to_string(e.attempt));
    }
    if (e.reason == "retry") {
        msg.add("next-attempt-in",
                fmt::format("{:.3f}", static_cast<double>(e.next_in.count()) / 1000));
    }
    server_.publish("ike-heal", msg);
}

}  // namespace ikeplex::daemon
