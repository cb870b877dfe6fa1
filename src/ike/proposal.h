// Proposals: strongSwan's proposal keywords ("aes256gcm16-prfsha256-x25519"), selection
// (RFC 7296 §2.7, §3.3.6), and the algorithms a chosen proposal means for the crypto layer.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keymat.h"
#include "crypto/registry.h"
#include "util/result.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

/// Parses a comma-separated list of strongSwan proposals for `protocol` (IKE or ESP) into
/// numbered proposals (1, 2, ...), without SPI. kConfig with a detail naming the kind of
/// problem; `why`, if given, gets the message that names the proposal and the culprit
/// ("'aes256-foo' has an unknown algorithm 'foo'").
Result<std::vector<wire::Proposal>> parse_proposals(std::string_view text,
                                                    wire::ProtocolId protocol,
                                                    std::string* why = nullptr);

/// strongSwan's notation: "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519".
std::string describe(const wire::Proposal& p);

/// A list in strongSwan's log notation, comma-separated ("IKE:AES_GCM_16_256/..., IKE:..."):
/// at most `max` proposals, then "and N more" (a peer's list bounds the line).
std::string describe(std::span<const wire::Proposal> ps, std::size_t max = 8);

/// Responder selection: the first of `configured` (ikeplex's preference order, as strongSwan's
/// default) that one of `offered` also allows, each transform type resolved to one transform.
/// The result carries the offered proposal's number and SPI. `ignore_ke`: KE transforms do not
/// take part (Child SA proposals in IKE_AUTH, RFC 7296 §1.2). kNoProposal (notify
/// NO_PROPOSAL_CHOSEN) if nothing matches.
Result<wire::Proposal> select_proposal(std::span<const wire::Proposal> offered,
                                       std::span<const wire::Proposal> configured,
                                       bool ignore_ke = false);

/// Initiator: checks that a responder's single chosen proposal is acceptable: it names one of
/// our proposals and picks, per transform type, one transform that proposal offered.
Status verify_chosen(const wire::Proposal& chosen, std::span<const wire::Proposal> offered,
                     bool ignore_ke = false);

/// The Key Exchange Method of a proposal (0 = none).
std::uint16_t ke_method(const wire::Proposal& p) noexcept;
/// Every KE method offered, in order (for INVALID_KE_PAYLOAD).
std::vector<std::uint16_t> ke_methods(std::span<const wire::Proposal> ps);
/// The proposal without KE transforms, types 4 and 6..12 (Child SA proposals in IKE_AUTH,
/// RFC 9370 §2.2.3).
wire::Proposal without_ke(wire::Proposal p);
/// Whether any proposal has a transform of an additional key exchange type (6..12, RFC 9370)
/// other than NONE.
bool offers_additional_ke(std::span<const wire::Proposal> ps) noexcept;

/// The IKE SA algorithms of a chosen IKE proposal (with its KE method).
struct IkeAlgorithms {
    crypto::IkeSuite suite;
    std::uint16_t ke{0};
    /// RFC 9370: the ADDITIONAL_KEY_EXCHANGE_1..7 methods chosen (transform types 6..12), in
    /// order; 0 = none (or the NONE transform) for that round.
    std::array<std::uint16_t, 7> additional_ke{};
};
Result<IkeAlgorithms> ike_algorithms(const crypto::Registry& r, const wire::Proposal& p);

/// The Child SA algorithms of a chosen ESP proposal.
struct ChildAlgorithms {
    const crypto::EncrInfo* encr{nullptr};
    const crypto::IntegInfo* integ{nullptr};  ///< nullptr with AEAD
    bool esn{false};
    std::uint16_t ke{0};  ///< PFS group, 0 = none
    /// RFC 9370 additional key exchanges for CREATE_CHILD_SA (IKE_FOLLOWUP_KE), 0 = none.
    std::array<std::uint16_t, 7> additional_ke{};
    [[nodiscard]] std::size_t encr_key_size() const noexcept { return encr->key_size; }
    [[nodiscard]] std::size_t integ_key_size() const noexcept {
        return integ != nullptr ? integ->key_size : 0;
    }
};
Result<ChildAlgorithms> child_algorithms(const crypto::Registry& r, const wire::Proposal& p);

}  // namespace ikeplex::ike
