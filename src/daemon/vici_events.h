// Engine events as VICI events: ike-updown, child-updown, ike-rekey, child-rekey (the layout
// of charon's vici plugin, so existing event consumers keep working).
#pragma once

#include <cstdint>
#include <map>

#include "daemon/engine_host.h"
#include "kernel/backend.h"
#include "vici/server.h"

namespace ikeplex::daemon {

class EventPublisher {
public:
    EventPublisher(vici::Server& server, const EngineHost& host, const kernel::Backend& backend)
        : server_(server), host_(host), backend_(backend) {}

    /// Registers the event names clients may ask for (also log, control-log and the list-*
    /// events the query commands stream).
    void register_with(vici::Server& server) const;
    /// Publishes what `e` means to the clients registered for it.
    void on_event(const ike::Event& e);

private:
    /// Keeps what list-sa shows of SAs that come up, so a down event can describe them; only
    /// while a client is registered for ike-updown or child-updown (a client registered later
    /// gets the SA's id and state for SAs that came up before it).
    void snapshot(std::uint32_t ike_id, std::uint32_t child_id);
    /// Drops the snapshots of SAs that event `e` ends.
    void forget(const ike::Event& e);
    /// `e`'s SA is gone already: what was known about it, in list-sa's layout (the IKE SA's
    /// section named after its connection, its Child SAs under child-sas).
    void add_gone(vici::Message& msg, const ike::Event& e, std::uint32_t child_id) const;
    void updown(const ike::Event& e);
    void ike_rekey(const ike::Event& e);
    void child_rekey(const ike::Event& e);
    /// ike-heal (ikeplex's own): conn, action (restart|retry|trap|give-up), child, uniqueid,
    /// attempt, next-attempt-in (seconds).
    void heal(const ike::Event& e);

    vici::Server& server_;
    const EngineHost& host_;
    const kernel::Backend& backend_;
    /// What list-sa showed of each live IKE and Child SA when it came up, for the down events
    /// (published after the step, when the SA may be gone already). Erased on the way down.
    std::map<std::uint32_t, vici::Message> ike_snapshots_;
    std::map<std::uint32_t, vici::Message> child_snapshots_;
};

}  // namespace ikeplex::daemon
