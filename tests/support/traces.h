// What exchange tests read off a traced message (ike::MessageTrace, in the clear): a notify,
// the SPI an SA payload proposes, the SPIs a Delete names, the nonce, the KE group.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "exchange_harness.h"
#include "ike/output.h"
#include "util/bytes.h"
#include "util/strong_id.h"
#include "wire/payloads.h"

namespace ikeplex::test {

/// The first notify of `type` in the message, or nullptr.
const wire::NotifyPayload* notify_in(const ike::MessageTrace& m, wire::NotifyType type);

/// An ESP SPI as carried on the wire (4 octets, network order); nothing for another size.
std::optional<Spi> spi_from(ByteView data);

/// The SPI of the first proposal of the message's SA payload: ESP (4 octets, a new Child SA's
/// inbound SPI of the sender, RFC 7296 §3.3.1) or IKE (8 octets, the sender's SPI of a new
/// IKE SA in a rekey).
std::optional<Spi> proposed_spi(const ike::MessageTrace& m);
std::optional<IkeSpi> proposed_ike_spi(const ike::MessageTrace& m);

/// Every ESP SPI the message's Delete payloads name (RFC 7296 §3.11).
std::vector<Spi> deleted_spis(const ike::MessageTrace& m);
/// Whether it deletes the IKE SA it belongs to (a Delete with protocol IKE and no SPI).
bool deletes_ike(const ike::MessageTrace& m);

/// The Nonce payload's data (empty without one).
Bytes nonce_of(const ike::MessageTrace& m);
/// The KE payload's Key Exchange Method (0 without one).
std::uint16_t ke_group_of(const ike::MessageTrace& m);

/// An IKE SA by its SPIs: (initiator's, responder's).
using IkeSpis = std::pair<IkeSpi, IkeSpi>;

/// The ESP SPIs that a node's INFORMATIONAL requests deleted, in order.
std::vector<Spi> deleted_child_spis(const Node& n);
/// The IKE SAs that a node's INFORMATIONAL requests deleted, in order.
std::vector<IkeSpis> deleted_ike_sas(const Node& n);

}  // namespace ikeplex::test
