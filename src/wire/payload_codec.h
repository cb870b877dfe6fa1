// Internal: parse and write the body of each payload (everything after the generic payload
// header). Used by message.cc; tests reach the per-payload functions directly.
//
// Parsers check what the bytes can tell — lengths, counts, value ranges the RFC fixes — and
// return Errors whose detail names the field ("SA transform: length"); they never interpret
// (proposal selection, TS narrowing and the like belong to the engine).
#pragma once

#include "util/bytes.h"
#include "util/reader.h"
#include "util/result.h"
#include "util/writer.h"
#include "wire/payloads.h"

namespace ikeplex::wire::codec {

/// The body of a length-delimited substructure (proposal, transform, selector, payload) whose
/// Length field `len` — already read — counts its 4-byte header too. `below_header` and
/// `exceeds` are the error details for a length below 4 and one beyond the enclosing data.
Result<Reader> substructure(Reader& r, std::uint16_t len, const char* below_header,
                            const char* exceeds);

/// Parses the body of a payload of type `type` (known to the codec); `next` is the generic
/// header's Next Payload, which SK and SKF keep as their first inner payload type.
Result<PayloadBody> parse_body(PayloadType type, PayloadType next, ByteView body);
/// Writes the body of `p` (its body must match its type).
Status write_body(Writer& w, const Payload& p);

Result<SaPayload> parse_sa(ByteView body);
Status write_sa(Writer& w, const SaPayload& sa);

Result<TsPayload> parse_ts(ByteView body);
Status write_ts(Writer& w, const TsPayload& ts);

Result<KePayload> parse_ke(ByteView body);
Result<IdPayload> parse_id(ByteView body);
Result<CertPayload> parse_cert(ByteView body);
Result<CertReqPayload> parse_certreq(ByteView body);
Result<AuthPayload> parse_auth(ByteView body);
Result<NoncePayload> parse_nonce(ByteView body);
Result<NotifyPayload> parse_notify(ByteView body);
Result<DeletePayload> parse_delete(ByteView body);
Status write_ke(Writer& w, const KePayload& p);
Status write_id(Writer& w, const IdPayload& p);
Status write_cert(Writer& w, const CertPayload& p);
Status write_certreq(Writer& w, const CertReqPayload& p);
Status write_auth(Writer& w, const AuthPayload& p);
Status write_nonce(Writer& w, const NoncePayload& p);
Status write_notify(Writer& w, const NotifyPayload& p);
Status write_delete(Writer& w, const DeletePayload& p);

Result<CpPayload> parse_cp(ByteView body);
Result<EapPayload> parse_eap(ByteView body);
Status write_cp(Writer& w, const CpPayload& p);
Status write_eap(Writer& w, const EapPayload& p);

Result<SkfPayload> parse_skf(PayloadType next, ByteView body);
Status write_skf(Writer& w, const SkfPayload& p);

/// Checks of notification data whose size the RFCs fix (e.g. NAT_DETECTION_* = 20 bytes).
Status verify_notify(const NotifyPayload& n);

}  // namespace ikeplex::wire::codec
