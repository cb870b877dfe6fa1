// Counters of the revocation fetcher and service (http_fetcher.h, revocation_service.h), kept
// in DaemonCounters for VICI's `stats` (section `revocation`).
#pragma once

#include <cstdint>

namespace ikeplex::daemon {

struct FetchCounters {
    std::uint64_t ok{0};
    std::uint64_t failed{0};  ///< no answer, an HTTP error, too big, a scheme not allowed
    std::uint64_t timeout{0};
    std::uint64_t shared{0};  ///< requests that joined a transfer already in flight
};

struct RevocationCounters {
    std::uint64_t queries{0};     ///< the engine's RevocationQuery entries taken
    std::uint64_t answers{0};     ///< on_revocation_answer calls
    std::uint64_t crls{0};        ///< CRLs fetched, checked and cached
    std::uint64_t ocsp{0};        ///< OCSP answers checked and cached
    std::uint64_t unusable{0};    ///< fetched but not usable (parse, signature, issuer, nonce)
    std::uint64_t prefetches{0};  ///< authority CRL fetches started by the prefetch schedule
};

}  // namespace ikeplex::daemon
