// Structural rules per exchange type and direction: which payloads may appear, how many, and
// whether inside or outside SK (RFC 7296 §1.2–§1.5, §3.14; RFC 7383). The first of two checks
// before a handler runs; the engine's exchange rules then check the exchange *variant* (e.g. a
// CREATE_CHILD_SA rekey needs N(REKEY_SA)).
#pragma once

#include <span>

#include "util/result.h"
#include "wire/header.h"
#include "wire/payloads.h"

namespace ikeplex::wire {

/// Whether the exchange's messages are carried in SK (everything after IKE_SA_INIT).
/// kUnsupported for exchange types ikeplex does not implement.
Result<bool> is_encrypted_exchange(ExchangeType t);

/// Header-level rules: a non-zero initiator SPI; IKE_SA_INIT has message id 0 and, in the
/// request, a zero responder SPI (RFC 7296 §3.1).
Status check_header_rules(const Header& h);

/// Rules for the payloads outside SK. For IKE_SA_INIT these are all its payloads; for the
/// encrypted exchanges only SK or SKF may appear (non-critical unknown payloads are skipped).
Status check_outer_rules(const Header& h, std::span<const Payload> outer);

/// Rules for the decrypted payloads of an encrypted exchange.
Status check_inner_rules(const Header& h, std::span<const Payload> inner);

}  // namespace ikeplex::wire
