// The seam between IKE_AUTH's revocation check and the host's fetcher (docs/revocation.md): when
// a peer's certificate has no known status and a URI could give one (its CRL distribution points,
// its AIA OCSP responder, or its authority's crl_uris/ocsp_uris), the engine holds the exchange —
// a responder holds its IKE_AUTH response, an initiator the processing of the response — and
// asks the host with a RevocationQuery (Output::revocation_queries). The host fetches, puts what
// it learnt into the RevocationCache (Services::revocation) and calls
// IkeSaManager::on_revocation_answer(); the engine checks again with what is now known and goes
// on. No answer within Settings::revocation_timeout: the check goes on with the status unknown,
// and the connection's `revocation` mode decides.
#pragma once

#include <cstdint>
#include <vector>

#include "util/bytes.h"

namespace ikeplex::ike {

struct RevocationQuery {
    std::uint32_t ike_id{0};
    std::uint32_t seq{0};  ///< to quote in the answer
    /// A certificate of the peer whose status is unknown, and its issuer (DER).
    struct Subject {
        Bytes cert;
        Bytes issuer;
    };
    std::vector<Subject> subjects;
};

}  // namespace ikeplex::ike
