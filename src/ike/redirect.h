// RFC 5685, IKEv2 redirect, inside the engine: the notify data, what an IKE SA knows about it,
// and the hooks the exchanges call.
//
//   client (original initiator)                  gateway (original responder)
//   IKE_SA_INIT  N(REDIRECT_SUPPORTED) or N(REDIRECTED_FROM, old GW)  -->
//                <--  N(REDIRECT, new GW, Ni)              (§3: no IKE SA, SPIr = 0)
//   IKE_AUTH     <--  IDr, AUTH, N(REDIRECT, new GW)       (§6: no Child SA)
//   INFORMATIONAL <-- N(REDIRECT, new GW)                  (§5: an established IKE SA)
//
// The client follows each by setting up the connection again at the new gateway (the manager,
// manager_redirect.cc, once the old IKE SA is gone) and deletes an authenticated old one.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ike/exchange_state.h"
#include "ike/ike_sa.h"
#include "ike/redirect_config.h"

namespace ikeplex::ike {

/// GW Ident Type (RFC 5685 §9.2).
enum class GwType : std::uint8_t { kIpv4 = 1, kIpv6 = 2, kFqdn = 3 };

/// N(REDIRECT) data: GW Ident Type, GW Ident Len, the identity, then the nonce (IKE_SA_INIT
/// only); N(REDIRECTED_FROM): the same without the nonce, addresses only.
Bytes encode_gateway(const Gateway& gw, ByteView nonce = {});
struct RedirectData {
    Gateway gateway;
    Bytes nonce;
};
/// Decodes N(REDIRECT) or N(REDIRECTED_FROM) data (a bad length or unknown type: an error).
Result<RedirectData> decode_gateway(ByteView data);

/// What an IKE SA knows about redirection (both roles).
struct RedirectState final : ExchangeState {
    /// Gateway: the peer announced support (REDIRECT_SUPPORTED or REDIRECTED_FROM).
    bool peer_supported{false};
    /// Client: this IKE SA follows a redirect from that gateway (N(REDIRECTED_FROM)).
    std::optional<IpAddress> redirected_from;
    /// Client: once this IKE SA is gone, the connection is set up again there.
    std::optional<Gateway> target;
    /// Client: the Child SA configs to set up again there.
    std::vector<std::string> children;
};

/// The REDIRECT rule that matches a peer (its address, and for IKE_AUTH its identity), given
/// the IKE SAs established now; null if none.
const RedirectRule* match_redirect(const std::vector<RedirectRule>& rules, bool in_auth,
                                   const IpAddress& peer, const std::string* peer_id,
                                   std::size_t established);

// --- client (original initiator) ---
/// IKE_SA_INIT request: N(REDIRECTED_FROM) after a redirect, else N(REDIRECT_SUPPORTED)
/// (nothing with follow_redirects = no).
void append_redirect_support(IkeSa& sa, std::vector<wire::Payload>& out);
/// IKE_SA_INIT response with N(REDIRECT): false if it is to be dropped unanswered (§3: the
/// nonce data is not our Ni, or the notify is malformed; we keep waiting for the real one).
bool init_redirect_acceptable(IkeSa& sa, std::span<const wire::Payload> response);
/// IKE_SA_INIT response with N(REDIRECT) (checked above): the SA ends, the connection goes to
/// the new gateway. True if the response redirected.
bool follow_init_redirect(IkeSa& sa, std::span<const wire::Payload> response, Step& step);
/// IKE_AUTH's final response, the gateway authenticated: with N(REDIRECT), the IKE SA is
/// deleted and the connection goes to the new gateway (with `child`). True if it redirected.
bool follow_auth_redirect(IkeSa& sa, std::span<const wire::Payload> response,
                          const ChildConfig* child, Step& step);
/// An INFORMATIONAL request on an established IKE SA with N(REDIRECT) (§5).
void on_informational_redirect(IkeSa& sa, std::span<const wire::Payload> request, Step& step);

// --- gateway (original responder) ---
/// IKE_SA_INIT request: remembers whether the peer supports redirection.
void note_redirect_support(IkeSa& sa, std::span<const wire::Payload> request);
/// IKE_AUTH, the peer authenticated: a rule with remote_id matches, so the response gets
/// N(REDIRECT) and no Child SA. True if it does.
bool redirect_in_auth(IkeSa& sa, std::vector<wire::Payload>& out, Step& step);
/// An INFORMATIONAL request with N(REDIRECT) for an established IKE SA (VICI `redirect`).
ExchangePtr make_redirect(const Gateway& gw);

}  // namespace ikeplex::ike
