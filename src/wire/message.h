// An IKEv2 message: header plus payload chain (RFC 7296 §3.1–§3.2), and the functions that read
// and write it.
//
// parse_message() checks syntax only: header, generic payload headers, each payload body, the
// chain's end, unknown payloads (skipped when not critical, an UNSUPPORTED_CRITICAL_PAYLOAD
// error when critical). Which payloads an exchange allows is payload_rules.h. An encrypted
// message parses to its SK (or SKF) payload; after decryption (crypto layer) the plaintext is
// read with parse_payload_chain(sk.first_inner, plaintext).
#pragma once

#include <span>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"
#include "wire/header.h"
#include "wire/payloads.h"

namespace ikeplex::wire {

struct Message {
    Header header;
    /// Payloads in wire order. For an encrypted message the last is SK or SKF.
    std::vector<Payload> payloads;

    /// The first payload of type `t`, or nullptr.
    [[nodiscard]] const Payload* find(PayloadType t) const noexcept;
    /// The SK payload, if the message has one.
    [[nodiscard]] const SkPayload* sk() const noexcept;
    /// The SKF payload, if the message is a fragment.
    [[nodiscard]] const SkfPayload* skf() const noexcept;
    bool operator==(const Message&) const = default;
};

/// Parses a whole datagram (without the RFC 3948 non-ESP marker).
Result<Message> parse_message(ByteView datagram);
/// Serialises `m`; Next Payload and Length fields are derived from the payloads.
Result<Bytes> write_message(const Message& m);

/// Parses a payload chain that starts with a payload of type `first` (the decrypted contents of
/// an SK payload). Encrypted payloads may not nest: SK/SKF here is an error.
Result<std::vector<Payload>> parse_payload_chain(PayloadType first, ByteView bytes);
/// Writes a payload chain (the plaintext of an SK payload); the caller puts
/// payloads.front().type into the SK payload's Next Payload.
Result<Bytes> write_payload_chain(std::span<const Payload> payloads);

/// Reads only the header, for dispatch before a full parse (e.g. to find the IKE SA).
Result<Header> peek_header(ByteView datagram);

}  // namespace ikeplex::wire
