// Revocation checking in IKE_AUTH, both roles (docs/revocation.md): the status of each
// certificate of the peer's verified chain from the CRLs held (Credentials::crls) and what the
// host fetched (Services::revocation). Revoked fails at once. A status unknown that a URI could
// give (the certificate's CDP/AIA, its authority's crl_uris/ocsp_uris) holds the exchange and
// asks the host (RevocationQuery, revocation_query.h) — under every mode, so that a relaxed
// connection also fails on a certificate the fetch finds revoked. The answer, or
// revocation_timeout, decides with what is known then: unknown stays unknown and the round's
// `revocation` mode applies. Only a peer whose AUTH verified with a CA-issued certificate gets
// here, so a stranger cannot make the host fetch.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "crypto/crl.h"
#include "crypto/x509.h"

namespace ikeplex::ike {

class IkeSa;
struct Step;

/// How a held IKE_AUTH goes on once the status is decided (`passed` false: refuse the peer).
using RevocationResume = std::function<void(IkeSa& sa, bool passed, Step& step)>;

enum class RevocationVerdict : std::uint8_t {
    kPass,
    kFail,  ///< logged and counted; the caller sends or acts on AUTHENTICATION_FAILED
    kHeld,  ///< a RevocationQuery is out; `resume` runs with the decision later
};

/// Checks the peer's verified `chain` (CertStore::verify: the leaf first, the trust anchor last)
/// under the round's `mode`.
RevocationVerdict check_revocation(IkeSa& sa, crypto::RevocationMode mode,
                                   std::vector<crypto::Certificate> chain, Step& step,
                                   RevocationResume resume);

/// The host answered RevocationQuery `seq` (what it learnt is in Services::revocation); ignored
/// unless the IKE SA still holds for that query.
void on_revocation_answer(IkeSa& sa, std::uint32_t seq, Step& step);
/// No answer to query `seq` within Settings::revocation_timeout: decided with what is known.
void on_revocation_timeout(IkeSa& sa, std::uint32_t seq, Step& step);

}  // namespace ikeplex::ike
