// The answers a method half gives (eap.h's ServerStep and PeerStep), built in one place for
// every method. Internal to the eap layer.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "eap/eap.h"

namespace ikeplex::eap {

/// Send a request of type `t` (identifier `id`) and wait for the response.
inline ServerStep server_request(Type t, std::uint8_t id, Bytes type_data) {
    ServerStep s;
    s.kind = ServerStep::Kind::kRequest;
    s.request = Packet{Code::kRequest, id, t, std::move(type_data)};
    return s;
}

/// The peer is authenticated (the conversation sends EAP-Success).
inline ServerStep server_success() {
    ServerStep s;
    s.kind = ServerStep::Kind::kSuccess;
    return s;
}

/// Refused, with why (for the log; never a secret).
inline ServerStep server_failure(std::string reason) {
    ServerStep s;
    s.kind = ServerStep::Kind::kFailure;
    s.reason = std::move(reason);
    return s;
}

/// Answer a request of type `t` with identifier `id`.
inline PeerStep peer_response(Type t, std::uint8_t id, Bytes type_data) {
    PeerStep s;
    s.kind = PeerStep::Kind::kResponse;
    s.response = Packet{Code::kResponse, id, t, std::move(type_data)};
    return s;
}

/// The method cannot go on, with why (for the log; never a secret).
inline PeerStep peer_failure(std::string reason) {
    PeerStep s;
    s.kind = PeerStep::Kind::kFailure;
    s.reason = std::move(reason);
    return s;
}

}  // namespace ikeplex::eap
