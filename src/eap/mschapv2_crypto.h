// The MS-CHAPv2 computations (RFC 2759 §8) and the MSK EAP-MSCHAPv2 exports (RFC 3079 §3.4,
// composed as strongSwan's eap-mschapv2 composes it). MD4 and DES come from crypto/legacy.h,
// the one place that loads OpenSSL's legacy provider; SHA-1 from the default provider.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "eap/eap.h"
#include "util/bytes.h"
#include "util/result.h"
#include "util/secret_bytes.h"

namespace ikeplex::eap::mschapv2 {

inline constexpr std::size_t kChallengeSize = 16;     ///< Authenticator- and Peer-Challenge
inline constexpr std::size_t kNtResponseSize = 24;    ///< RFC 2759 §8.1
inline constexpr std::size_t kAuthResponseSize = 20;  ///< the 20 bytes behind "S="
inline constexpr std::size_t kMskSize = 64;

/// A UTF-8 password as the UTF-16LE that RFC 2759 hashes (code points above U+FFFF as
/// surrogate pairs). kInvalidArgument for malformed UTF-8.
Result<SecretBytes> utf16le_password(ByteView utf8);

/// RFC 2759 §8.3 NtPasswordHash: MD4 of the UTF-16LE password (`utf8`: as configured).
Result<SecretBytes> nt_password_hash(ByteView utf8);
/// RFC 2759 §8.4 HashNtPasswordHash: MD4(PasswordHash).
Result<SecretBytes> hash_nt_password_hash(const SecretBytes& password_hash);

/// The user name that enters ChallengeHash: what follows the first backslash of the Name
/// ("DOMAIN\user" -> "user", RFC 2759 §4 and strongSwan's extract_username), else all of it.
std::string_view hash_user_name(std::string_view name);

/// RFC 2759 §8.2 ChallengeHash: SHA1(PeerChallenge | AuthenticatorChallenge | UserName)[0..8].
Result<std::array<std::uint8_t, 8>> challenge_hash(ByteView peer_challenge,
                                                   ByteView authenticator_challenge,
                                                   std::string_view user_name);

/// RFC 2759 §8.6 DesEncrypt's key: 7 bytes spread over 8 with odd parity in the low bits.
std::array<std::uint8_t, 8> expand_des_key(ByteView key7);

/// RFC 2759 §8.5 ChallengeResponse: three DES encryptions of the challenge under the
/// zero-padded 21-byte password hash; 24 bytes.
Result<Bytes> challenge_response(ByteView challenge8, const SecretBytes& password_hash);

/// RFC 2759 §8.1 GenerateNTResponse, from the password hash (user_name: as hash_user_name).
Result<Bytes> generate_nt_response(ByteView authenticator_challenge, ByteView peer_challenge,
                                   std::string_view user_name, const SecretBytes& password_hash);

/// RFC 2759 §8.7 GenerateAuthenticatorResponse: the 20 bytes behind "S=".
Result<Bytes> authenticator_response(const SecretBytes& password_hash_hash, ByteView nt_response,
                                     ByteView peer_challenge, ByteView authenticator_challenge,
                                     std::string_view user_name);

/// "S=" and the 20 bytes as 40 upper-case hex digits (RFC 2759 §5).
std::string authenticator_string(ByteView auth_response);

/// RFC 3079 §3.4 GetMasterKey: SHA1(PasswordHashHash | NT-Response | Magic1)[0..16].
Result<SecretBytes> master_key(const SecretBytes& password_hash_hash, ByteView nt_response);
/// RFC 3079 §3.4 GetAsymmetricStartKey for 128-bit keys (16 bytes): Magic2 for the client's
/// send key and the server's receive key, Magic3 for the other two.
Result<SecretBytes> asymmetric_start_key(const SecretBytes& master, bool is_send, bool is_server);

/// The MSK as strongSwan's eap-mschapv2 exports it (GenerateMSK() in
/// src/libcharon/plugins/eap_mschapv2/eap_mschapv2.c, read through the `search` tool; 5.x,
/// unchanged since 2015): MasterReceiveKey | MasterSendKey | 32 zero bytes, 64 bytes, where
/// MasterReceiveKey = GetAsymmetricStartKey(server, receive) (Magic2) and MasterSendKey =
/// GetAsymmetricStartKey(server, send) (Magic3), each 16 bytes. Both sides export the same.
/// Proven live: interop_strongswan_eap (strongSwan 5.9.8's client derives the same MSK) and
/// interop_freeradius_eap (FreeRADIUS's MS-MPPE-Recv-Key | MS-MPPE-Send-Key are its first 32).
Result<Msk> strongswan_msk(const SecretBytes& password_hash_hash, ByteView nt_response);

/// Everything one side derives from one exchange.
struct Derived {
    Bytes nt_response;    ///< 24 bytes
    Bytes auth_response;  ///< 20 bytes
    Msk msk;              ///< 64 bytes
};
/// NT-Response, AuthenticatorResponse and MSK for `name` (the Name field; its user part
/// enters the hashes) and the configured UTF-8 password.
Result<Derived> derive(ByteView authenticator_challenge, ByteView peer_challenge,
                       std::string_view name, ByteView utf8_password);

}  // namespace ikeplex::eap::mschapv2
