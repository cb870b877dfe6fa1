// Legacy algorithms accepted on purpose (issue 24): HMAC-SHA1 (PRF and HMAC_SHA1_96), MODP 1024
// and 1536 (groups 2 and 5), 3DES. RFC 8247 (IKEv2) and RFC 8221 (ESP) downgrade them: a
// proposal naming one is accepted with a warning, or refused where ikeplexd.conf says so.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wire/payloads.h"

namespace ikeplex::ike {

/// Whether transform (type, id) is one of the legacy algorithms above.
[[nodiscard]] bool is_legacy_transform(wire::TransformType type, std::uint16_t id) noexcept;

/// strongSwan's names of the legacy transforms in `p` ("HMAC_SHA1_96", "MODP_1024"), in the
/// proposal's order, each once; empty if there is none.
[[nodiscard]] std::vector<std::string> legacy_transforms(const wire::Proposal& p);

/// The warning for a proposal with legacy transforms: names them and cites RFC 8247 / RFC 8221.
[[nodiscard]] std::string legacy_warning(const wire::Proposal& p);

class IkeSa;
struct Step;
/// When `p`, the proposal chosen for `sa` (`what` "IKE_SA") or one of its Child SAs (`what`
/// "CHILD_SA name"), names legacy algorithms: a warning (rate-limited, PEER_LOG) naming them
/// and the peer, and the manager's `legacy_chosen` counter. Either role, IKE and ESP.
void note_legacy_choice(IkeSa& sa, const wire::Proposal& p, std::string_view what,
                        const Step& step);

}  // namespace ikeplex::ike
