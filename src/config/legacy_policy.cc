#include "config/legacy_policy.h"

#include <fmt/format.h>

#include "ike/legacy_algorithms.h"
#include "ike/proposal.h"

namespace ikeplex::config {
namespace {

void check_proposals(const std::vector<wire::Proposal>& proposals, bool refuse,
                     const std::string& key, const std::map<std::string, SourcePos>& positions,
                     Findings& out) {
    const auto at = positions.find(key);
    const SourcePos pos = at != positions.end() ? at->second : SourcePos{};
    for (const wire::Proposal& p : proposals) {
        if (ike::legacy_transforms(p).empty()) {
            continue;
        }
        if (refuse) {
            out.errors.push_back(Diagnostic{
                    pos, fmt::format("{}: proposal {} has {}; refused (legacy_algorithms = refuse "
                                     "in ikeplexd.conf)",
                                     key, ike::describe(p), ike::legacy_warning(p))});
        } else {
            out.warnings.push_back(
                    Diagnostic{pos, fmt::format("{}: proposal {} has {}", key, ike::describe(p),
                                                ike::legacy_warning(p))});
        }
    }
}

}  // namespace

void check_legacy(const ike::PeerConfig& c, bool refuse,
                  const std::map<std::string, SourcePos>& positions, Findings& out) {
    const std::string key = "connections." + c.name;
    check_proposals(c.ike_proposals, refuse, key, positions, out);
    for (const ike::ChildConfig& child : c.children) {
        check_proposals(child.esp_proposals, refuse, key + ".children." + child.name, positions,
                        out);
    }
}

}  // namespace ikeplex::config
