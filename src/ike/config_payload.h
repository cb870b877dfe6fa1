// Configuration payloads in IKE_AUTH (RFC 7296 §2.19, §3.15): virtual IPs and attributes,
// both roles, as strongSwan's ike_config task behaves (facts, not code):
//
// - The initiator with `vips` (0.0.0.0 and/or ::, or an address it asks for) sends
//   CP(CFG_REQUEST) before SA in its first IKE_AUTH request: one INTERNAL_IP4_ADDRESS (empty,
//   or the 4 bytes asked for) / INTERNAL_IP6_ADDRESS (empty, or 16 bytes and prefix length 64)
//   per vip, then an empty INTERNAL_IP4_DNS / INTERNAL_IP6_DNS per family (what strongSwan's
//   resolve plugin requests). Its TSi is 0.0.0.0/0 (::/0) where it would be its address
//   ("dynamic"), until an address is assigned; then the assigned address.
// - The responder with `pools` leases an address per requested family (the first request of
//   each; strongSwan leases one per INTERNAL_IP4/6_ADDRESS attribute) (pools.h) for the peer's
//   identity and answers CP(CFG_REPLY) with the addresses and the attributes of the pools they
//   came from; "dynamic" remote selectors become the assigned addresses, so the Child SA is
//   narrowed to them. No address for any request: N(INTERNAL_ADDRESS_FAILURE) instead (also
//   without pools: strongSwan answers every CP so); pools but no CP(CFG_REQUEST):
//   N(FAILED_CP_REQUIRED). Either way no Child SA is built and the IKE SA stays (RFC 7296
//   §3.15.4, §2.19).
// - Leases go offline when the IKE SA goes (an IKE rekey hands them to the new IKE SA).
//
// The hooks below are what IKE_AUTH calls; with several IKE_AUTH rounds (EAP), the CP request
// belongs in the first request and the CP reply in the final response.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ike/exchange_state.h"
#include "ike/identity.h"
#include "ike/traffic_selector.h"
#include "util/ip_address.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

class IkeSa;
struct Step;

/// The virtual IPs of an IKE SA and the attributes that came with them.
struct VirtualIps final : ExchangeState {
    std::vector<IpAddress> local;   ///< assigned to us by the peer (list-sas local-vips)
    std::vector<IpAddress> remote;  ///< assigned by us to the peer (list-sas remote-vips)
    std::vector<IpAddress> dns;     ///< DNS servers the peer's CFG_REPLY named
    /// Every attribute of the peer's CFG_REPLY but the addresses (raw).
    std::vector<wire::ConfigAttribute> attributes;
    Identity lease_id;   ///< whose leases `remote` are
    bool asked{false};   ///< initiator: we sent a CFG_REQUEST
    bool asked4{false};  ///< ... asking for an IPv4 address (the reply's one IPv4 is taken)
    bool asked6{false};  ///< ... asking for an IPv6 address
    // Responder, from the first IKE_AUTH request to the final response:
    bool request_seen{false};
    std::vector<IpAddress> requested;  ///< the addresses asked for (any: all zero)
    /// EAP-RADIUS: the Access-Accept's Framed-IP-Address, handed out for the pool `radius`.
    std::optional<IpAddress> framed;
};

/// The pool name that stands for the AAA server's Framed-IP-Address (strongSwan's).
inline constexpr std::string_view kRadiusPool = "radius";

/// The identity leases are kept under: the peer's EAP identity if EAP authenticated it, else
/// its IDi.
Identity lease_identity(const IkeSa& sa);

// --- hooks for IKE_AUTH (ike_auth.cc) ---

/// Initiator, first IKE_AUTH request: appends CP(CFG_REQUEST) if the connection has `vips`.
/// Call before the SA payload is appended (RFC 7296 §2.19: CP before SA).
void append_cp_request(IkeSa& sa, std::vector<wire::Payload>& out);
/// Initiator, final IKE_AUTH response (the IKE SA established): takes the addresses and
/// attributes of a CP(CFG_REPLY) to a request we sent, and tells the host (Output::vips).
/// A hostile gateway gets no more than one address per family we asked for, three DNS
/// servers per family and 32 other attributes; nonsense (0.0.0.0, loopback, multicast, wrong
/// lengths) is refused. Each refusal is counted and logged (SaRegistry::note_cp_refused).
/// Call before completing the first Child SA.
void process_cp_reply(IkeSa& sa, std::span<const wire::Payload> response, Step& step);
/// Responder, first IKE_AUTH request: remembers what a CP(CFG_REQUEST) asks for: the first
/// address of each family (strongSwan leases one per attribute: we do not, so that one
/// request cannot drain a pool); further ones are counted and logged as refused.
void note_cp_request(IkeSa& sa, std::span<const wire::Payload> request, const Step& step);

/// What the responder adds to its final IKE_AUTH response.
struct CpAnswer {
    /// CP(CFG_REPLY), or N(INTERNAL_ADDRESS_FAILURE) / N(FAILED_CP_REQUIRED), or nothing;
    /// goes before the Child SA's payloads.
    std::vector<wire::Payload> payloads;
    bool child{true};  ///< false: build no Child SA (the IKE SA stays)
};
/// Responder, final IKE_AUTH response (peer authenticated, its connection chosen): leases
/// addresses for the request note_cp_request() saw. Call before accepting the Child SA (its
/// selectors are narrowed to the leased addresses).
CpAnswer answer_cp_request(IkeSa& sa, Step& step);

// --- the rest of the IKE SA's life ---

/// An IKE rekey: `to` takes over the virtual IPs of `from` (leases stay online).
void move_virtual_ips(IkeSa& from, IkeSa& to);
/// A reauthentication: the new IKE SA `to` asks for the addresses `from` has (as strongSwan
/// does), so a gateway that leases per identity gives them again.
void reuse_virtual_ips(const IkeSa& from, IkeSa& to);
/// The IKE SA goes: its leases go offline; the host removes what it installed for ours.
void release_virtual_ips(IkeSa& sa, Step& step);
/// The virtual IPs of an IKE SA (null if none were negotiated).
const VirtualIps* virtual_ips(const IkeSa& sa);

/// Child SA selectors where a virtual IP stands for the IKE SA's address: `configured`
/// (`local`: ours, else the peer's; empty: the address) with each "dynamic" one given the
/// virtual IPs (ours: the assigned ones, or 0.0.0.0/0 and ::/0 while we ask for them);
/// nothing when no virtual IP is involved.
std::optional<std::vector<TrafficSelector>> vip_ts(const IkeSa& sa,
                                                   std::span<const TrafficSelector> configured,
                                                   bool local);

}  // namespace ikeplex::ike
