#include "ike/auth_octets.h"

#include <algorithm>

#include "util/bytes.h"

namespace ikeplex::ike {

Bytes id_payload_body(const wire::IdPayload& id) {
    Bytes b(4 + id.data.size(), 0);
    b[0] = static_cast<std::uint8_t>(id.id_type);
    std::copy(id.data.begin(), id.data.end(), b.begin() + 4);
    return b;
}

Result<Bytes> auth_octets(const crypto::Prf& prf, ByteView own_first_message, ByteView peer_nonce,
                          ByteView sk_p, ByteView id_body) {
    const SecretBytes maced_id = IKEPLEX_TRY(prf.compute(sk_p, {id_body}));
    Bytes octets(own_first_message.begin(), own_first_message.end());
    octets.insert(octets.end(), peer_nonce.begin(), peer_nonce.end());
    octets.insert(octets.end(), maced_id.view().begin(), maced_id.view().end());
    return octets;
}

Result<SecretBytes> psk_auth(const crypto::Prf& prf, ByteView psk, ByteView octets) {
    // RFC 7296 §2.15: the pad string is the 17 ASCII characters, no terminating NUL.
    const SecretBytes key = IKEPLEX_TRY(prf.compute(psk, {as_bytes("Key Pad for IKEv2")}));
    return prf.compute(key.view(), {octets});
}

Result<bool> psk_auth_verify(const crypto::Prf& prf, ByteView psk, ByteView octets,
                             ByteView received) {
    const SecretBytes expected = IKEPLEX_TRY(psk_auth(prf, psk, octets));
    return expected.equals(received);
}

}  // namespace ikeplex::ike
