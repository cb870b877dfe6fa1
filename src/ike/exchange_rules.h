// The second check before a handler runs (after wire::payload_rules): which variant of an
// exchange a message is, and whether it carries what that variant requires (libreswan's
// transitions, anchors.md A.6). Handlers may then assume their payloads are present.
#pragma once

#include <span>

#include "util/result.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

enum class Variant : std::uint8_t {
    kIkeSaInit,
    kIkeAuth,      ///< with or without a Child SA
    kChildCreate,  ///< CREATE_CHILD_SA for a new Child SA
    kChildRekey,   ///< CREATE_CHILD_SA with N(REKEY_SA)
    kIkeRekey,     ///< CREATE_CHILD_SA with an IKE proposal and KE, no TS
    kInformational,
    kFollowupKe,    ///< RFC 9370 IKE_FOLLOWUP_KE: KE and N(ADDITIONAL_KEY_EXCHANGE)
    kIntermediate,  ///< IKE_INTERMEDIATE (RFC 9242)
};
const char* to_string(Variant v) noexcept;

/// The variant of a request, or INVALID_SYNTAX when a required payload is missing.
Result<Variant> check_request(wire::ExchangeType type, std::span<const wire::Payload> ps);
/// A response either carries an error notify or what its exchange requires.
Status check_response(wire::ExchangeType type, std::span<const wire::Payload> ps);

}  // namespace ikeplex::ike
