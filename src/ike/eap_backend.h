// The seam between the responder's EAP and an AAA backend (EAP-RADIUS, RFC 3579): for a
// connection with `remote.auth = eap-radius` the engine does not run the method itself; it
// hands each EAP response of the peer to the host as an EapBackendQuery (Output::eap_queries)
// and holds the IKE_AUTH response back until the host answers with
// IkeSaManager::on_eap_backend_answer(). Retransmits of the request meanwhile are dropped; no
// answer within Settings::eap_backend_timeout ends the IKE SA.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/bytes.h"
#include "util/ip_address.h"
#include "util/secret_bytes.h"

namespace ikeplex::ike {

struct EapBackendQuery {
    std::uint32_t ike_id{0};
    std::uint32_t seq{0};  ///< to quote in the answer (the n-th query of this IKE SA)
    std::string identity;  ///< the peer's EAP identity (from its EAP-Identity response)
    Bytes eap;             ///< the peer's EAP packet, whole (RFC 3748 §4)
};

struct EapBackendAnswer {
    enum class Kind : std::uint8_t {
        kRequest,  ///< Access-Challenge: `eap` is the next request for the peer
        kAccept,   ///< Access-Accept: the peer is authenticated; `msk` from the server
        kReject,   ///< Access-Reject (or no server): EAP-Failure
    };
    Kind kind{Kind::kReject};
    Bytes eap;
    SecretBytes msk;
    /// kAccept: the Access-Accept's Framed-IP-Address. It becomes the peer's virtual IP when
    /// the connection's `pools` name `radius` (strongSwan's eap-radius provider).
    std::optional<IpAddress> framed_ip;
};

}  // namespace ikeplex::ike
