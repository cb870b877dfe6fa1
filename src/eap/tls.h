// EAP-TLS (RFC 5216) over TLS 1.2: the server and peer halves with their framing options.
//
// make_server(Type::kTls, ...) / make_peer(Type::kTls, ...) use the defaults below; tests (and
// later a config key) pick other sizes here. The defaults are strongSwan's eap-tls plugin's
// (`charon.plugins.eap-tls.fragment_size = 1024`, `max_message_count = 32`), so ikeplex frames
// its messages as strongSwan does: the L flag and TLS Message Length in the first fragment of
// every message (strongSwan's `include_length = yes`), fragments of at most `fragment_size`
// bytes counting the whole EAP packet.
#pragma once

#include <cstddef>
#include <memory>

#include "eap/eap.h"

namespace ikeplex::eap {

struct TlsOptions {
    /// The largest EAP packet a fragment makes (Code through TLS Data); at least 16.
    std::size_t fragment_size{1024};
    /// The largest reassembled TLS message accepted from the other side (its TLS Message
    /// Length or the sum of its fragments).
    std::size_t max_message_bytes{std::size_t{64} * 1024};
    /// How many EAP-TLS packets one conversation may receive (fragments and acknowledgements
    /// count); 0 for no limit.
    unsigned max_packets{32};
};

Result<std::unique_ptr<ServerMethod>> make_tls_server(ServerContext ctx, TlsOptions options = {});
Result<std::unique_ptr<PeerMethod>> make_tls_peer(PeerContext ctx, TlsOptions options = {});

}  // namespace ikeplex::eap
