// When updown scripts run: engine events turned into up and down runs, as strongSwan's updown
// plugin sees CHILD_SA up and down (updown.h runs them). A rekey runs nothing: the SAs that
// replace one another, including both new SAs of a simultaneous rekey (RFC 7296 §2.8.1), form
// one lineage that runs its up when its first SA is installed and its down when its last one
// goes for another reason than a rekey. Each SA's data is captured when it is installed (the
// engine has removed it by the time its child-down event is handled).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "daemon/updown_env.h"
#include "ike/manager.h"
#include "ike/output.h"

namespace ikeplex::daemon {

class UpdownHooks {
public:
    /// Gets each run: the SA's data and whether it is an up (else a down).
    using Sink = std::function<void(const UpdownSa&, bool up)>;

    UpdownHooks(const ike::IkeSaManager& manager, Sink sink)
        : manager_(manager), sink_(std::move(sink)) {}

    /// One event of an engine call, in order. The call is over by then: the engine's state
    /// already says which new SA replaces which, and which of a collision's is redundant.
    void on_event(const ike::Event& e);
    /// Lineages whose up has run and whose down has not.
    [[nodiscard]] std::size_t up_count() const noexcept { return lineages_.size(); }

private:
    struct Lineage {
        std::uint32_t ike_id{0};
        std::map<std::uint32_t, UpdownSa> members;  ///< by Child SA id
    };
    void settle(std::uint32_t ike_id, std::uint32_t child_id);
    void down(std::uint32_t child_id);
    /// Whether the member still stands for its lineage: installed or being rekeyed, not
    /// replaced and not being deleted.
    [[nodiscard]] bool stands(std::uint32_t ike_id, std::uint32_t child_id) const;

    const ike::IkeSaManager& manager_;
    Sink sink_;
    std::map<std::uint32_t, Lineage> lineages_;       ///< by the id of its first Child SA
    std::map<std::uint32_t, std::uint32_t> lineage_;  ///< Child SA id -> lineage
};

}  // namespace ikeplex::daemon
