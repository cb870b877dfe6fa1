// An established IKE SA between the exchange harness's two nodes, made directly instead of by
// IKE_SA_INIT and IKE_AUTH: each side gets the IKE SA (fixed nonces and SKEYSEED, keys derived
// with the real prf+) and the first Child SA of the connection's first child config, the way
// an IKE rekey makes its new IKE SA (ike_rekey.cc). Both sides start with message ids 0.
//
// For fuzz targets: a snapshot costs no key exchange and no authentication and runs none of
// the handshake's code, so every input can start from the same fresh state cheaply.
#pragma once

#include "exchange_harness.h"
#include "ike/sk_cipher.h"
#include "util/result.h"

namespace ikeplex::test {

struct Established {
    ike::IkeSa* initiator{nullptr};  ///< the original initiator's IKE SA
    ike::IkeSa* responder{nullptr};
};

/// Makes the IKE SA of connection "conn" (and its child config "net", or the first) on both
/// nodes of `h`, whose configurations are loaded (load()): `initiator_is_a` chooses which node
/// is the original initiator. The IKE SA uses the first IKE proposal of the connection, the
/// Child SA the first ESP proposal of the child (a group's fallback when it has per_cpu_sas).
Result<Established> establish_directly(Harness& h, bool initiator_is_a = true);

/// The other end of an IKE SA that only one engine holds: what a fake peer needs to talk to
/// it (the keys of both directions, the SPIs, the Child SA's SPIs).
struct PeerSide {
    IkeSpi spi_i;
    IkeSpi spi_r;
    bool peer_is_initiator{false};
    ike::SkCipher seal;       ///< peer to engine (what the engine opens)
    ike::SkCipher open;       ///< engine to peer
    std::uint32_t ike_id{0};  ///< the engine's IKE SA
    Spi engine_spi;           ///< the Child SA's inbound SPI on the engine
    Spi peer_spi;             ///< ... and on the peer (the engine's outbound SPI)
};

/// Makes the IKE SA of connection "conn" (and its first Child SA) on `engine` alone, as if
/// established with the other node's address, which holds nothing: the caller plays the
/// peer with the keys returned. `engine_is_initiator`: the engine is the original initiator.
Result<PeerSide> establish_with_peer(Harness& h, Node& engine, bool engine_is_initiator);

}  // namespace ikeplex::test
