// The engine's state in VICI messages, in the layout strongSwan's charon uses (so swanctl,
// govici and exporters read it unchanged): list-sa / ike-updown / child-updown sections,
// list-conn sections, stats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ike/manager.h"
#include "kernel/backend.h"
#include "vici/message.h"
#include "vici/packet.h"

namespace ikeplex::daemon {

/// The most an event's message may take: a VICI frame less the packet's type and longest name.
inline constexpr std::size_t kMaxEventMessage = vici::kMaxFrameLength - 2 - vici::kMaxNameLength;

/// Adds `<conn name> { uniqueid = ..., state = ..., ..., child-sas { ... } }` for `sa` to `m`.
/// `only_child`: just that Child SA (child-updown), 0 = all.
/// The whole of `m` stays within `max_bytes` encoded: Child SAs that do not fit are left out,
/// and the IKE SA's section then says so before its child-sas: `child-sas-truncated = yes`,
/// `child-sas-total = N` (all it has). Never is an IKE SA left out (one event per IKE SA, as
/// swanctl expects; it ignores keys it does not know).
void add_ike_section(vici::Message& m, const ike::IkeSaManager& mgr, const kernel::Backend& backend,
                     const ike::IkeSa& sa, std::int64_t now_ms, std::uint32_t only_child = 0,
                     std::size_t max_bytes = kMaxEventMessage);
/// The fields of one IKE SA (without the enclosing section).
void fill_ike(vici::Message& m, const ike::IkeSaManager& mgr, const ike::IkeSa& sa,
              std::int64_t now_ms);
/// The fields of one Child SA (without the enclosing section).
void fill_child(vici::Message& m, const ike::IkeSaManager& mgr, const kernel::Backend& backend,
                const ike::IkeSa& sa, const ike::ChildSa& c, std::int64_t now_ms);
/// `<conn name> { local_addrs = [...], local_port, remote_port, ..., children { ... } }` for
/// list-conn.
void add_conn_section(vici::Message& m, const ike::PeerConfig& c);
/// The list-policy events: one per policy the installed Child SAs use, as charon lists one per
/// child config (`<ike>/<child> { child, ike, mode, local-ts, remote-ts }`). The members of an
/// RFC 9611 group (and a Child SA and its rekeyed successor) share their policies: listed once.
/// `child`: only that child config.
std::vector<vici::Message> policy_events(const ike::IkeSaManager& mgr,
                                         std::optional<std::string_view> child);

}  // namespace ikeplex::daemon
