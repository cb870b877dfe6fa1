// RFC 9370 §2.2.4: additional key exchanges of a CREATE_CHILD_SA (a new or rekeyed Child SA, an
// IKE SA rekey), one IKE_FOLLOWUP_KE exchange per ADDITIONAL_KEY_EXCHANGE_n method chosen:
//
//   HDR(CREATE_CHILD_SA), SK {SA, Ni, KEi, [TSi, TSr]}  -->
//                  <--  HDR(CREATE_CHILD_SA), SK {SA, Nr, KEr, [TSi, TSr],
//                                                 N(ADDITIONAL_KEY_EXCHANGE)(link1)}
//   HDR(IKE_FOLLOWUP_KE), SK {KEi(1), N(ADDITIONAL_KEY_EXCHANGE)(link1)}  -->
//                  <--  HDR(IKE_FOLLOWUP_KE), SK {KEr(1), N(ADDITIONAL_KEY_EXCHANGE)(link2)}
//   ...
//   HDR(IKE_FOLLOWUP_KE), SK {KEi(n), N(ADDITIONAL_KEY_EXCHANGE)(linkn)}  -->
//                  <--  HDR(IKE_FOLLOWUP_KE), SK {KEr(n)}
//
// The keys come once the last round is done: KEYMAT = prf+(SK_d, SK(0) | Ni | Nr | SK(1) | ...
// | SK(n)) and, for an IKE rekey, SKEYSEED = prf(SK_d, SK(0) | Ni | Nr | SK(1) | ... | SK(n)).
// The link data is the responder's: it keeps the pending creation under it (bounded, with a
// timeout) and answers an unknown one with STATE_NOT_FOUND.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "crypto/ke.h"
#include "ike/exchanges.h"
#include "util/secret_bytes.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

/// The ADDITIONAL_KEY_EXCHANGE_1..7 methods (transform types 6..12) of a chosen proposal, in
/// the order of their types; NONE left out.
std::vector<std::uint16_t> additional_methods(const wire::Proposal& p);

/// Nr | SK(1) | ... | SK(n): what follows Ni in KEYMAT and in a rekey's SKEYSEED.
SecretBytes nonce_and_secrets(ByteView nr, std::span<const SecretBytes> secrets);

/// The initiator's IKE_FOLLOWUP_KE rounds of one CREATE_CHILD_SA.
class FollowupRounds {
public:
    /// The CREATE_CHILD_SA response chose `methods` (not empty): it must carry the first link.
    Status start(std::vector<std::uint16_t> methods, std::span<const wire::Payload> response);
    /// Rounds are under way and not all done.
    [[nodiscard]] bool active() const noexcept { return next_ < methods_.size(); }
    /// The request of the next round: KEi(n), N(ADDITIONAL_KEY_EXCHANGE)(link).
    Result<std::vector<wire::Payload>> build(IkeSa& sa);
    /// The response to the round under way: its shared secret, and the next link if rounds
    /// remain. An error notify, a missing or wrong KE or link fails.
    Status process(std::span<const wire::Payload> response);
    /// SK(1) .. SK(n) so far.
    [[nodiscard]] std::span<const SecretBytes> secrets() const noexcept { return secrets_; }
    /// The round under way (1-based), for logs.
    [[nodiscard]] std::size_t round() const noexcept { return next_ + 1; }

private:
    std::vector<std::uint16_t> methods_;
    std::size_t next_{0};
    Bytes link_;
    crypto::KeyExchangePtr ke_;
    std::vector<SecretBytes> secrets_;
};

/// What the responder does once the last IKE_FOLLOWUP_KE is in (or when it gives up).
class FollowupCompletion {
public:
    FollowupCompletion() = default;
    FollowupCompletion(const FollowupCompletion&) = delete;
    FollowupCompletion& operator=(const FollowupCompletion&) = delete;
    FollowupCompletion(FollowupCompletion&&) = delete;
    FollowupCompletion& operator=(FollowupCompletion&&) = delete;
    virtual ~FollowupCompletion() = default;
    /// All rounds are done: derive the keys from Nr | SK(1) | ... | SK(n) (`tail`) and make
    /// the SA. Returns the payloads the last response carries besides KEr(n) (an error notify
    /// if it failed).
    virtual std::vector<wire::Payload> finish(IkeSa& sa, ByteView tail, Step& step) = 0;
    /// The rounds stopped (timeout, a bad request, the IKE SA goes): release what is held.
    virtual void discard(IkeSa& sa, Step& step) = 0;
    /// Whether it creates or rekeys a Child SA (false: it rekeys the IKE SA).
    [[nodiscard]] virtual bool child() const noexcept = 0;
};

/// Pending creations an IKE SA keeps as responder at most; more get TEMPORARY_FAILURE.
inline constexpr std::size_t kMaxPendingFollowups = 8;
/// How long the responder waits for the next IKE_FOLLOWUP_KE request (RFC 9370 §2.2.4 asks for
/// a timeout; the initiator's retransmissions of one request fit in it).
inline constexpr Duration kFollowupTimeout{30000};

/// Responder: the CREATE_CHILD_SA response (nonce `nr`) chose `methods` (not empty). Keeps
/// `completion`
/// under new link data and returns N(ADDITIONAL_KEY_EXCHANGE)(link1) for the response, or
/// nothing when the IKE SA has kMaxPendingFollowups already (the caller answers
/// TEMPORARY_FAILURE and drops `completion` after discard()).
std::optional<wire::Payload> expect_followups(IkeSa& sa, std::vector<std::uint16_t> methods,
                                              const Bytes& nr,
                                              std::unique_ptr<FollowupCompletion> completion,
                                              Step& step);
/// Whether the responder keeps pending creations (RFC 7296 §2.25-like: no IKE rekey then).
bool followups_pending(IkeSa& sa, bool child_only = false);
/// The IKE_FOLLOWUP_KE responder (responders.cc).
Response respond_followup_ke(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);
/// TimerKind::kFollowupKe: the pending creation `id` waited too long.
void on_followup_timeout(IkeSa& sa, std::uint32_t id, Step& step);
/// The IKE SA goes: every pending creation is discarded.
void discard_followups(IkeSa& sa, Step& step);

}  // namespace ikeplex::ike
