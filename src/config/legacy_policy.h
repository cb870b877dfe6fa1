// The legacy algorithm policy of ikeplexd.conf (`legacy_algorithms = warn | refuse`, issue 24):
// what the configured proposals of a connection make of it.
#pragma once

#include <map>
#include <string>

#include "config/settings.h"
#include "config/swanctl.h"
#include "ike/config.h"

namespace ikeplex::config {

/// For every IKE proposal of `c` and ESP proposal of its children that names a legacy algorithm
/// (ike/legacy_algorithms.h): a warning naming them (`refuse` false) or an error (`refuse`
/// true), at the connection's or child's section in `positions` when known.
void check_legacy(const ike::PeerConfig& c, bool refuse,
                  const std::map<std::string, SourcePos>& positions, Findings& out);

}  // namespace ikeplex::config
