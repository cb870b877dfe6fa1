// The engine's state in VICI messages, in the layout strongSwan's charon uses (so swanctl,
// govici and exporters read it unchanged): list-sa / ike-updown / child-updown sections,
// list-conn sections, stats.
#pragma once

#include <cstdint>
#include <string>

#include "ike/manager.h"
#include "kernel/backend.h"
#include "vici/message.h"

namespace ikeplex::daemon {

/// Adds `<conn name> { uniqueid = ..., state = ..., ..., child-sas { ... } }` for `sa` to `m`.
/// `only_child`: just that Child SA (child-updown), 0 = all.
void add_ike_section(vici::Message& m, const ike::IkeSaManager& mgr, const kernel::Backend& backend,
                     const ike::IkeSa& sa, std::int64_t now_ms, std::uint32_t only_child = 0);
/// The fields of one IKE SA (without the enclosing section).
void fill_ike(vici::Message& m, const ike::IkeSaManager& mgr, const ike::IkeSa& sa,
              std::int64_t now_ms);
/// The fields of one Child SA (without the enclosing section).
void fill_child(vici::Message& m, const ike::IkeSaManager& mgr, const kernel::Backend& backend,
                const ike::IkeSa& sa, const ike::ChildSa& c, std::int64_t now_ms);
/// `<conn name> { local_addrs = [...], ..., children { ... } }` for list-conn.
void add_conn_section(vici::Message& m, const ike::PeerConfig& c);

}  // namespace ikeplex::daemon
