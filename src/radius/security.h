// What the shared secret protects in RADIUS: the authenticators and the hidden attributes.
//
// - Access-Request: a random Request Authenticator (RFC 2865 §3) and, on every request,
//   Message-Authenticator = HMAC-MD5(secret, the packet with this field zeroed) (RFC 3579
//   §3.2), as the last attribute.
// - Accounting-Request: Request Authenticator = MD5(Code | ID | Length | 16 zero octets |
//   attributes | secret) (RFC 2866 §3).
// - Every reply: Response Authenticator = MD5(Code | ID | Length | Request Authenticator |
//   attributes | secret) (RFC 2865 §3); Access-Accept/Reject/Challenge must also carry a valid
//   Message-Authenticator, computed with the Request Authenticator in the header (RFC 3579
//   §3.2: a reply to a request with EAP-Message without one is silently discarded).
// - MS-MPPE-Send-Key / MS-MPPE-Recv-Key (RFC 2548 §2.4.2-2.4.3): Salt(2) | encrypted String,
//   where b(1) = MD5(secret | Request Authenticator | Salt), b(i) = MD5(secret | c(i-1)) and
//   the plaintext is Key-Length(1) | Key | zero padding to a multiple of 16.
// - User-Password (RFC 2865 §5.2): the same chaining without a salt.
//
// MD5 and HMAC-MD5 come from OpenSSL's default provider (not the legacy one).
#pragma once

#include <cstdint>
#include <initializer_list>

#include "radius/radius.h"
#include "util/bytes.h"
#include "util/result.h"
#include "util/secret_bytes.h"

namespace ikeplex::radius {

/// MD5(data1 | data2 | ...).
Result<Authenticator> md5(std::initializer_list<ByteView> data);
/// HMAC-MD5(key, data): 16 bytes.
Result<Authenticator> hmac_md5(ByteView key, ByteView data);

/// The wire form of an Access-Request: `p.authenticator` must hold the caller's random
/// Request Authenticator; a Message-Authenticator is appended (any earlier one is replaced).
Result<Bytes> seal_access_request(Packet p, ByteView secret);
/// The wire form of an Accounting-Request, its Request Authenticator computed (RFC 2866 §3).
/// Returns the authenticator too: the reply's Response Authenticator covers it.
Result<Bytes> seal_accounting_request(const Packet& p, ByteView secret);
/// The Request Authenticator of a sealed request (its bytes 4..19).
Authenticator request_authenticator(ByteView sealed);

/// Checks that an Accounting-Request's authenticator is MD5(... zero ... secret) (the server's
/// check; tests use it to verify our requests).
Status verify_accounting_request(ByteView bytes, ByteView secret);
/// Checks an Access-Request's Message-Authenticator (the server's check).
Status verify_request_message_authenticator(ByteView bytes, ByteView secret);

/// Decodes and authenticates a reply to the request whose Request Authenticator is
/// `request_auth`: the Response Authenticator, and the Message-Authenticator (required for
/// Access-Accept/Reject/Challenge when `require_message_authenticator`; checked whenever
/// present). kIntegrity when either is wrong or missing.
Result<Packet> open_reply(ByteView bytes, const Authenticator& request_auth, ByteView secret,
                          bool require_message_authenticator = true);

/// A server's reply (tests, and the probe's fake servers): `p.identifier` as the request's;
/// a Message-Authenticator is appended when `with_message_authenticator`, then the Response
/// Authenticator computed.
Result<Bytes> seal_reply(Packet p, const Authenticator& request_auth, ByteView secret,
                         bool with_message_authenticator = true);

/// Decrypts the value of an MS-MPPE-Send-Key or -Recv-Key sub-attribute (Salt | String).
Result<SecretBytes> decrypt_mppe_key(ByteView value, const Authenticator& request_auth,
                                     ByteView secret);
/// Encrypts a key as the server does (`salt` with its high bit set, RFC 2548 §2.4.2).
Result<Bytes> encrypt_mppe_key(ByteView key, std::uint16_t salt, const Authenticator& request_auth,
                               ByteView secret);
/// The MSK from an Access-Accept: MS-MPPE-Recv-Key | MS-MPPE-Send-Key, the order strongSwan's
/// eap-radius uses (its decrypt_msk concatenates recv, then send). kNotFound unless both keys
/// are present; kIntegrity when one does not decrypt.
Result<SecretBytes> msk_from_reply(const Packet& reply, const Authenticator& request_auth,
                                   ByteView secret);

/// User-Password hiding (RFC 2865 §5.2), for PAP: the password padded to a multiple of 16
/// (at most 128 bytes).
Result<Bytes> hide_password(ByteView password, const Authenticator& request_auth, ByteView secret);

}  // namespace ikeplex::radius
