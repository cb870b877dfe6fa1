// One-line message summaries in strongSwan's style, for logs:
//   "IKE_AUTH request 1 [ IDi AUTH SA TSi TSr N(RES_INFO) ]"
// Payloads use strongSwan's short names; notifies N(SHORT), EAP EAP/REQ/ID, CP CPRQ(ADDR DNS),
// fragments EF(1/3). An encrypted message not yet decrypted shows [ E ].
#pragma once

#include <span>
#include <string>

#include "util/result.h"
#include "wire/header.h"
#include "wire/message.h"

namespace ikeplex::wire {

/// Summary of `m` as it is on the wire (outer payloads).
std::string describe(const Message& m);
/// Summary of a message whose SK contents have been decrypted into `payloads`.
std::string describe(const Header& h, std::span<const Payload> payloads);
/// One payload in detail for strongSwan's log level 3, e.g.
///   "SA: proposal 1 ESP (SPI 4 bytes) ENCR AES_GCM_16/256, ESN NO_EXT_SEQ"
///   "N(NATD_S_IP): protocol NONE, SPI 0 bytes, data 20 bytes"
/// Sizes of keys, nonces and AUTH, never their bytes; identities and selectors in full.
std::string describe_detail(const Payload& p);
/// A parse or rule error with its notify named, e.g.
/// "invalid syntax: Nonce: size outside 16..256 bytes [8] -> INVALID_SYNTAX".
std::string describe(const Error& e);

}  // namespace ikeplex::wire
