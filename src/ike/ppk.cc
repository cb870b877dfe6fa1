#include "ike/ppk.h"

#include <algorithm>
#include <string>

#include "ike/payload_access.h"
#include "ike/peer_log.h"
#include "util/hex.h"
#include "util/log.h"
#include "wire/message.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike::ppk {

using wire::NotifyType;
using wire::Payload;

namespace {

/// RFC 8784 §5.1 PPK_ID types; strongSwan sends and accepts PPK_ID_FIXED only.
constexpr std::uint8_t kPpkIdFixed = 2;

/// A PPK_ID for the log: its text if printable, else hex (an identifier, not a secret).
std::string shown(ByteView id) {
    const bool text =
            std::all_of(id.begin(), id.end(), [](std::uint8_t c) { return c >= 0x20 && c < 0x7f; });
    return text ? std::string(id.begin(), id.end()) : to_hex(id);
}

/// The SA's keys become the PPK ones; the originals go to `original`.
Status apply(IkeSa& sa, ByteView ppk, crypto::PpkKeys& original) {
    const IkeCrypto& c = *sa.crypto();
    original = IKEPLEX_TRY(
            crypto::derive_ppk_keys(c.prf, ppk, c.sk_d.view(), c.sk_pi.view(), c.sk_pr.view()));
    sa.swap_ppk_keys(original);
    return ok();
}

/// Initiator: both sides sent USE_PPK; the response is read again from the IKE_SA_INIT
/// message AUTH covers (its syntax was checked when it came).
bool exchanged_use_ppk(IkeSa& sa) {
    if (!wanted(*sa.config())) {
        return false;
    }
    auto m = wire::parse_message(sa.handshake().peer_init_message);
    return m && has_notify(m->payloads, NotifyType::kUsePpk);
}

}  // namespace

bool wanted(const PeerConfig& cfg) {
    return cfg.ppk_id.has_value() && cfg.local.kind != AuthKind::kEap;
}

bool offered(const Credentials& creds, std::span<const Payload> request) {
    return !creds.ppks.empty() && has_notify(request, NotifyType::kUsePpk);
}

Status Initiator::before_auth(IkeSa& sa, const std::function<Result<Bytes>()>& auth_without_ppk) {
    if (decided_) {
        return ok();  // the keys are switched once, whatever asks again
    }
    decided_ = true;
    const PeerConfig& cfg = *sa.config();
    const Error failed = make_error(Errc::kAuthFailed, "PPK required but not available");
    if (!exchanged_use_ppk(sa)) {
        if (cfg.ppk_required) {
            IKE_LOG(info, sa, "PPK required but peer does not support PPK");
            return failed;
        }
        return ok();
    }
    if (!cfg.ppk_id) {
        if (cfg.ppk_required) {
            IKE_LOG(info, sa, "PPK required but no PPK_ID configured");
            return failed;
        }
        return ok();
    }
    const SecretBytes* ppk = sa.services().credentials.find_ppk(cfg.ppk_id->data);
    if (ppk == nullptr) {
        if (cfg.ppk_required) {
            IKE_LOG(info, sa, "PPK required but no PPK found for '{}'", cfg.ppk_id->to_string());
            return failed;
        }
        IKE_LOG(info, sa, "no PPK for '{}' found, ignored because PPK is not required",
                cfg.ppk_id->to_string());
        return ok();
    }
    if (!cfg.ppk_required) {
        no_ppk_auth_ = IKEPLEX_TRY(auth_without_ppk());  // over SK_pi without the PPK
    }
    IKEPLEX_TRY(apply(sa, ppk->view(), original_));
    ppk_id_ = cfg.ppk_id->data;
    sent_ = true;
    return ok();
}

void Initiator::append(std::vector<Payload>& out) const {
    if (!sent_) {
        return;
    }
    Bytes id{kPpkIdFixed};
    id.insert(id.end(), ppk_id_.begin(), ppk_id_.end());
    out.push_back(wire::make_notify(NotifyType::kPpkIdentity, std::move(id)));
    if (!no_ppk_auth_.empty()) {
        out.push_back(wire::make_notify(NotifyType::kNoPpkAuth, no_ppk_auth_));
    }
}

bool Initiator::on_response(IkeSa& sa, std::span<const Payload> resp) {
    if (!sent_) {
        return true;
    }
    sent_ = false;                                     // decided once
    if (has_notify(resp, NotifyType::kPpkIdentity)) {  // its content is ignored (§3)
        IKE_LOG(info, sa, "using PPK for PPK_ID '{}'", shown(ppk_id_));
        sa.set_uses_ppk(true);
        return true;
    }
    if (sa.config()->ppk_required) {
        IKE_LOG(info, sa, "PPK required but the peer did not use PPK_ID '{}'", shown(ppk_id_));
        return false;
    }
    IKE_LOG(info, sa, "peer did not use PPK_ID '{}', continuing without PPK (NO_PPK_AUTH)",
            shown(ppk_id_));
    sa.swap_ppk_keys(original_);  // back to the keys without the PPK
    return true;
}

Result<ResponderChoice> respond(IkeSa& sa, const PeerConfig& cfg, std::span<const Payload> request,
                                const wire::AuthPayload& auth, const Step& step) {
    const Error failed = wire::error_with_notify(Errc::kAuthFailed, "PPK authentication failed",
                                                 NotifyType::kAuthenticationFailed);
    const auto refuse = [&](const std::string& why) {
        PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kCfg, "{} {}", sa.label(),
                 why);
        return failed;
    };
    ResponderChoice choice;
    if (!sa.handshake().use_ppk) {
        if (cfg.ppk_required) {
            return refuse("PPK required but peer does not support PPK");
        }
        return choice;  // Table 1: standard IKEv2
    }
    const auto* n = find_notify(request, NotifyType::kPpkIdentity);
    if (n == nullptr) {
        // §3: USE_PPK exchanged but no PPK_IDENTITY: MUST fail.
        return refuse("USE_PPK exchanged but no PPK_IDENTITY received");
    }
    const SecretBytes* ppk = nullptr;
    ByteView id;
    if (n->data.size() >= 2 && n->data[0] == kPpkIdFixed) {
        id = ByteView(n->data).subspan(1);
        const bool allowed =
                !cfg.ppk_id ||
                std::equal(id.begin(), id.end(), cfg.ppk_id->data.begin(), cfg.ppk_id->data.end());
        ppk = allowed ? sa.services().credentials.find_ppk(id) : nullptr;
    }
    if (ppk != nullptr) {
        crypto::PpkKeys without;
        if (!apply(sa, ppk->view(), without)) {
            return refuse("PPK key derivation failed");
        }
        IKE_LOG(info, sa, "using PPK for PPK_ID '{}'", shown(id));
        sa.set_uses_ppk(true);
        choice.used = true;
        return choice;
    }
    const std::string what =
            id.empty() ? std::string("an unsupported PPK_ID type") : "PPK_ID '" + shown(id) + "'";
    if (cfg.ppk_required) {
        return refuse("PPK required but no PPK found for " + what);
    }
    const auto* fallback = find_notify(request, NotifyType::kNoPpkAuth);
    if (fallback == nullptr) {
        return refuse("no PPK for " + what + " and no NO_PPK_AUTH");
    }
    IKE_LOG(info, sa, "no PPK for {} found, using NO_PPK_AUTH because PPK is not required", what);
    choice.no_ppk_auth = wire::AuthPayload{auth.method, fallback->data};
    return choice;
}

void append_response(const ResponderChoice& c, std::vector<Payload>& out) {
    if (c.used) {
        out.push_back(wire::make_notify(NotifyType::kPpkIdentity));
    }
}

}  // namespace ikeplex::ike::ppk
