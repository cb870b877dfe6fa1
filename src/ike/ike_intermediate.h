// IKE_INTERMEDIATE (RFC 9242) with the additional key exchanges of RFC 9370 §2.2.2: after
// IKE_SA_INIT, one exchange per chosen ADDITIONAL_KEY_EXCHANGE round (NONE rounds skipped), in
// order of transform type; each exchange carries KEi(n) / KEr(n) and updates every IKE SA key:
//
//   SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr)
//   {SK_d(n) | SK_ai(n) | ... | SK_pr(n)} = prf+(SKEYSEED(n), Ni | Nr | SPIi | SPIr)
//
// The next message (the next IKE_INTERMEDIATE or IKE_AUTH) uses the new keys. Every
// IKE_INTERMEDIATE message enters AUTH through IntAuth (intermediate_auth.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "crypto/keymat.h"
#include "ike/exchanges.h"
#include "ike/proposal.h"

namespace ikeplex::ike {

/// The additional key exchange rounds of an IKE SA being established.
struct Intermediate final : ExchangeState {
    std::array<std::uint16_t, 7> rounds{};  ///< the method chosen per round; 0 = none
    std::size_t next{0};                    ///< the first round not done yet
    /// Both sides announced INTERMEDIATE_EXCHANGE_SUPPORTED (RFC 9242 §3.1).
    bool negotiated{false};
    /// Responder: the keys of the round just answered, installed once the response is sent.
    std::optional<crypto::IkeKeys> pending;

    /// The next round with a key exchange, if any.
    [[nodiscard]] std::optional<std::size_t> next_round() const noexcept;
};

/// After IKE_SA_INIT derived the keys (either role): records the rounds `a` chose; an
/// initiator queues IKE_INTERMEDIATE ahead of IKE_AUTH. IKE_INTERMEDIATE is negotiated when
/// the peer's IKE_SA_INIT message (`peer`) announces INTERMEDIATE_EXCHANGE_SUPPORTED (and, for
/// the initiator, we announced it: we offered additional key exchanges). An error (logged) if
/// rounds were chosen without it.
Status begin_intermediate(IkeSa& sa, const IkeAlgorithms& a, std::span<const wire::Payload> peer,
                          const Step& step);

/// An IKE_INTERMEDIATE message, sent (`datagram` = the whole message as protected) or received
/// (the message, or its first fragment), with its inner payloads `plain`: IntAuth_i (requests)
/// or IntAuth_r (responses) takes it in, with the SK_p of the keys in force now.
Status note_intermediate_message(IkeSa& sa, bool response, ByteView datagram, ByteView plain);

/// Responder: installs the keys of the round whose response was just protected (if any).
void install_intermediate_keys(IkeSa& sa, Step& step);

/// Responder: whether key exchange rounds are still due (IKE_AUTH must wait for them).
bool intermediate_pending(const IkeSa& sa);

ExchangePtr make_ike_intermediate();
Response respond_ike_intermediate(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);

}  // namespace ikeplex::ike
