// What IKE_SA_INIT leaves for IKE_AUTH (RFC 7296 §2.15): the nonces and both IKE_SA_INIT
// messages that AUTH signs, the key exchange until the keys are derived, the hash algorithms
// the peer verifies signatures with (RFC 7427 §4) and, for the responder, the connections the
// IKE_SA_INIT left possible. It ends when authentication ends, either way.
#pragma once

#include <vector>

#include "crypto/algorithm_ids.h"
#include "crypto/ke.h"
#include "ike/config.h"
#include "ike/exchange_state.h"
#include "util/bytes.h"

namespace ikeplex::ike {

struct Handshake final : ExchangeState {
    Bytes ni;
    Bytes nr;
    Bytes own_init_message;   ///< the IKE_SA_INIT message this side sent, as sent
    Bytes peer_init_message;  ///< the one it received
    /// The key exchange until the keys are derived (then dropped).
    crypto::KeyExchangePtr ke;
    std::vector<crypto::HashAlgorithm> peer_hashes;
    /// Responder: the connections IKE_SA_INIT left possible; IKE_AUTH picks one by identity.
    std::vector<ConfigPtr> candidates;
    /// Initiator: the responder announced RFC 4739 in its IKE_SA_INIT response.
    bool peer_multiple_auth{false};
    /// RFC 9242 §3.3.2: IntAuth_iN and IntAuth_rN so far, and the IKE_INTERMEDIATE exchanges
    /// completed (IKE_AUTH's message id is one more); AUTH covers them when there were any.
    Bytes int_auth_i;
    Bytes int_auth_r;
    std::uint32_t intermediate_exchanges{0};
};

}  // namespace ikeplex::ike
