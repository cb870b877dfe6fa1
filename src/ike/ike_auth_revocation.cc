#include "ike/ike_auth_revocation.h"

#include <algorithm>
#include <utility>

#include "crypto/revocation_cache.h"
#include "ike/ike_sa.h"
#include "ike/revocation_query.h"
#include "util/log.h"

namespace ikeplex::ike {
namespace {

using crypto::CertStatus;
using crypto::RevocationMode;
using RevEvent = SaRegistry::RevocationEvent;

/// An IKE SA's revocation hold: at most one query at a time; kept after it ends so that the
/// next query of the IKE SA (another round) gets the next seq.
struct RevocationHold final : ExchangeState {
    RevocationHold() = default;
    RevocationHold(const RevocationHold&) = delete;
    RevocationHold& operator=(const RevocationHold&) = delete;
    RevocationHold(RevocationHold&&) = delete;
    RevocationHold& operator=(RevocationHold&&) = delete;
    ~RevocationHold() override { release(); }

    /// Gives the max_revocation_holds slot back (once).
    void release() noexcept {
        if (registry != nullptr) {
            registry->release_revocation_hold();
            registry = nullptr;
        }
    }

    SaRegistry* registry{nullptr};  ///< set while the hold takes a slot
    std::uint32_t seq{0};
    bool waiting{false};
    RevocationMode mode{RevocationMode::kRelaxed};
    std::vector<crypto::Certificate> chain;
    RevocationResume resume;
};

const char* mode_name(RevocationMode m) {
    switch (m) {
        case RevocationMode::kStrict:
            return "strict";
        case RevocationMode::kIfUri:
            return "ifuri";
        case RevocationMode::kRelaxed:
            return "relaxed";
    }
    return "?";
}

/// Whether a fetch could give `cert`'s status: its own CDP/AIA URIs, or those its authority
/// (the `authorities` entry whose cacert is `issuer`) names.
bool has_uri(const Credentials& creds, const crypto::Certificate& cert,
             const crypto::Certificate& issuer) {
    if (crypto::has_revocation_uri(cert)) {
        return true;
    }
    return std::any_of(creds.authorities.begin(), creds.authorities.end(), [&](const auto& a) {
        return a.cacert && a.cacert->same_as(issuer) &&
               (!a.crl_uris.empty() || !a.ocsp_uris.empty());
    });
}

struct Decision {
    enum class Kind : std::uint8_t { kPass, kRevoked, kUnknown, kQuery } kind{Kind::kPass};
    std::size_t index{0};  ///< the certificate it is about
    bool any_unknown{false};
    bool unknown_uri{false};  ///< a certificate without status names a URI
};

/// The decision on `chain` with what is known now; `final`: no query may be made (a query's
/// answer or timeout, or no hold possible). With kQuery, `subjects` lists what to ask about.
Decision decide(const IkeSa& sa, RevocationMode mode, std::span<const crypto::Certificate> chain,
                bool final, std::int64_t unix_time,
                std::vector<RevocationQuery::Subject>* subjects) {
    const Services& sv = sa.services();
    const std::vector<CertStatus> status =
            crypto::chain_status(chain, sv.credentials.crls, sv.revocation, unix_time);
    Decision d;
    for (std::size_t i = 0; i < status.size(); ++i) {
        if (status[i] == CertStatus::kRevoked) {
            return Decision{Decision::Kind::kRevoked, i};
        }
    }
    for (std::size_t i = 0; i < status.size(); ++i) {
        if (status[i] != CertStatus::kUnknown) {
            continue;
        }
        const bool uri = has_uri(sv.credentials, chain[i], chain[i + 1]);
        if (!d.any_unknown) {
            d.index = i;
        }
        d.any_unknown = true;
        d.unknown_uri = d.unknown_uri || uri;
        if (uri && !final && subjects != nullptr) {
            subjects->push_back(RevocationQuery::Subject{chain[i].der(), chain[i + 1].der()});
            d.kind = Decision::Kind::kQuery;
        } else if (d.kind == Decision::Kind::kPass &&
                   (mode == RevocationMode::kStrict || (mode == RevocationMode::kIfUri && uri))) {
            d.kind = Decision::Kind::kUnknown;
            d.index = i;
        }
    }
    return d;
}

/// Logs and counts a final decision; whether the peer passes.
bool conclude(IkeSa& sa, RevocationMode mode, std::span<const crypto::Certificate> chain,
              const Decision& d, const Step& step) {
    const Services& sv = sa.services();
    switch (d.kind) {
        case Decision::Kind::kRevoked:
            sa.registry().note_revocation(RevEvent::kRevoked);
            PEER_LOG(sv.peer_log, step.now, info, log::Subsystem::kIke,
                     "{} certificate '{}' is revoked, sending AUTHENTICATION_FAILED", sa.label(),
                     chain[d.index].subject());
            return false;
        case Decision::Kind::kUnknown:
        case Decision::Kind::kQuery:
            sa.registry().note_revocation(RevEvent::kUnknown);
            PEER_LOG(sv.peer_log, step.now, info, log::Subsystem::kIke,
                     "{} certificate '{}': no revocation status (revocation = {}), sending "
                     "AUTHENTICATION_FAILED",
                     sa.label(), chain[d.index].subject(), mode_name(mode));
            return false;
        case Decision::Kind::kPass:
            // Quiet for the default (relaxed, nothing to fetch): there was nothing to decide.
            if (d.any_unknown && (mode != RevocationMode::kRelaxed || d.unknown_uri)) {
                PEER_LOG(sv.peer_log, step.now, info, log::Subsystem::kIke,
                         "{} certificate '{}': no revocation status, accepted (revocation = {})",
                         sa.label(), chain[d.index].subject(), mode_name(mode));
            }
            return true;
    }
    return false;
}

/// The held check ends (an answer, or `timed_out`): decided with what is known now.
void end_hold(IkeSa& sa, RevocationHold& h, bool timed_out, Step& step) {
    h.waiting = false;
    h.release();
    sa.services().timers.cancel({sa.id(), TimerKind::kRevocation, h.seq});
    if (timed_out) {
        sa.registry().note_revocation(RevEvent::kTimeout);
        IKE_LOG(info, sa, "no answer to revocation query {} within {} s", h.seq,
                std::chrono::duration_cast<std::chrono::seconds>(
                        sa.services().settings.revocation_timeout)
                        .count());
    }
    const std::vector<crypto::Certificate> chain = std::move(h.chain);
    const RevocationResume resume = std::move(h.resume);
    h.chain.clear();
    h.resume = nullptr;
    const Decision d = decide(sa, h.mode, chain, true, step.unix_time, nullptr);
    const bool passed = conclude(sa, h.mode, chain, d, step);
    if (resume) {
        resume(sa, passed, step);
    }
}

}  // namespace

RevocationVerdict check_revocation(IkeSa& sa, RevocationMode mode,
                                   std::vector<crypto::Certificate> chain, Step& step,
                                   RevocationResume resume) {
    std::vector<RevocationQuery::Subject> subjects;
    const RevocationHold* old = sa.states().find<RevocationHold>();
    const bool may_hold = old == nullptr || !old->waiting;  // one query per IKE SA at a time
    Decision d = decide(sa, mode, chain, !may_hold, step.unix_time, &subjects);
    if (d.kind == Decision::Kind::kQuery && !sa.registry().acquire_revocation_hold()) {
        sa.registry().note_revocation(RevEvent::kHoldRefused);
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
                 "{} certificate '{}': too many IKE SAs wait for a revocation status "
                 "(max_revocation_holds), not asking",
                 sa.label(), chain[d.index].subject());
        d = decide(sa, mode, chain, true, step.unix_time, nullptr);
    }
    if (d.kind != Decision::Kind::kQuery) {
        return conclude(sa, mode, chain, d, step) ? RevocationVerdict::kPass
                                                  : RevocationVerdict::kFail;
    }
    auto& h = sa.states().get<RevocationHold>();
    h.registry = &sa.registry();
    ++h.seq;
    h.waiting = true;
    h.mode = mode;
    h.resume = std::move(resume);
    sa.registry().note_revocation(RevEvent::kHeld);
    PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
             "{} certificate '{}': revocation status unknown, IKE_AUTH waits for query {} ({} "
             "certificate(s))",
             sa.label(), chain[d.index].subject(), h.seq, subjects.size());
    h.chain = std::move(chain);
    step.out.revocation_queries.push_back(RevocationQuery{sa.id(), h.seq, std::move(subjects)});
    sa.services().timers.set({sa.id(), TimerKind::kRevocation, h.seq},
                             step.now + sa.services().settings.revocation_timeout);
    return RevocationVerdict::kHeld;
}

void on_revocation_answer(IkeSa& sa, std::uint32_t seq, Step& step) {
    auto* h = sa.states().find<RevocationHold>();
    if (h == nullptr || !h->waiting || h->seq != seq || sa.state() == IkeState::kDestroyed) {
        IKE_LOG(debug, sa, "answer to revocation query {} not awaited, ignored", seq);
        return;
    }
    end_hold(sa, *h, false, step);
}

void on_revocation_timeout(IkeSa& sa, std::uint32_t seq, Step& step) {
    auto* h = sa.states().find<RevocationHold>();
    if (h != nullptr && h->waiting && h->seq == seq && sa.state() != IkeState::kDestroyed) {
        end_hold(sa, *h, true, step);
    }
}

}  // namespace ikeplex::ike
