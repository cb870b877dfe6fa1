// Stateless COOKIEs for IKE_SA_INIT (RFC 7296 §2.6): under load the responder answers with a
// cookie and keeps no state until the initiator returns it.
//
//   Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)
#pragma once

#include <cstdint>

#include "crypto/registry.h"
#include "ike/time.h"
#include "util/bytes.h"
#include "util/ip_address.h"
#include "util/random.h"
#include "util/secret_bytes.h"
#include "util/strong_id.h"

namespace ikeplex::ike {

class CookieJar {
public:
    CookieJar(const crypto::Registry& registry, Random& random);

    /// The cookie for an initiator (the current secret).
    [[nodiscard]] Bytes make(ByteView ni, const IpAddress& ip, IkeSpi spi_i) const;
    /// Whether `cookie` is one we made, with the current or the previous secret.
    [[nodiscard]] bool verify(ByteView cookie, ByteView ni, const IpAddress& ip,
                              IkeSpi spi_i) const;
    /// Replaces the secret if it is older than the rotation period (the previous one stays
    /// valid so cookies in flight still work).
    void rotate(TimePoint now);

private:
    [[nodiscard]] Bytes compute(std::uint8_t version, const SecretBytes& secret, ByteView ni,
                                const IpAddress& ip, IkeSpi spi_i) const;

    const crypto::Registry& registry_;
    Random& random_;
    std::uint8_t version_{0};
    SecretBytes current_;
    SecretBytes previous_;
    TimePoint created_{};
};

}  // namespace ikeplex::ike
