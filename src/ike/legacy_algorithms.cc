#include "ike/legacy_algorithms.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "crypto/algorithm_ids.h"
#include "ike/ike_sa.h"
#include "ike/proposal.h"
#include "wire/names.h"

namespace ikeplex::ike {

using wire::TransformType;

bool is_legacy_transform(TransformType type, std::uint16_t id) noexcept {
    switch (type) {
        case TransformType::kEncr:
            return id == crypto::encr::k3des;
        case TransformType::kPrf:
            return id == crypto::prf::kHmacSha1;
        case TransformType::kInteg:
            return id == crypto::integ::kHmacSha1_96;
        default:
            // KE and RFC 9370's additional key exchanges.
            return type != TransformType::kEsn &&
                   (id == crypto::ke::kModp1024 || id == crypto::ke::kModp1536);
    }
}

std::vector<std::string> legacy_transforms(const wire::Proposal& p) {
    std::vector<std::string> out;
    for (const wire::Transform& t : p.transforms) {
        if (!is_legacy_transform(t.type, t.id)) {
            continue;
        }
        const TransformType named = t.type > TransformType::kEsn ? TransformType::kKe : t.type;
        std::string name = wire::transform_name(named, t.id);
        if (std::find(out.begin(), out.end(), name) == out.end()) {
            out.push_back(std::move(name));
        }
    }
    return out;
}

std::string legacy_warning(const wire::Proposal& p) {
    return fmt::format(
            "legacy algorithm(s) {} (RFC 8247 downgrades them: 3DES MAY, SHA1 MUST-, "
            "MODP 1024/1536 SHOULD NOT)",
            fmt::join(legacy_transforms(p), ", "));
}

void note_legacy_choice(IkeSa& sa, const wire::Proposal& p, std::string_view what,
                        const Step& step) {
    if (legacy_transforms(p).empty()) {
        return;
    }
    sa.registry().note_legacy_chosen();
    PEER_LOG(sa.services().peer_log, step.now, warn, log::Subsystem::kCfg,
             "{}[{}] {} with {}: chosen proposal {} has {}",
             sa.config() != nullptr ? sa.config()->name : "", sa.id(), what, sa.remote().address,
             describe(p), legacy_warning(p));
}

}  // namespace ikeplex::ike
