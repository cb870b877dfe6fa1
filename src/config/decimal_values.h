// Handlers for charon's settings that take decimal fractions (ikeplexd.conf: the engine's
// retransmission keys, and the same keys of the eap-radius client).
#pragma once

#include "config/swanctl_values.h"

namespace ikeplex::config {

/// Fractional seconds as charon reads them ("retransmit_timeout = 4.0", "0.5"): more than 0,
/// at most a day; kept to the millisecond.
Handler fractional_seconds(Reporter& r, ike::Duration& out);
/// A decimal factor from `lo` to `hi` ("retransmit_base = 1.8").
Handler factor(Reporter& r, double& out, double lo, double hi);

}  // namespace ikeplex::config
