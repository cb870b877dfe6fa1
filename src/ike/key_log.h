// The one way IKE SA keys leave the engine: a hook the daemon sets only when ikeplexd.conf asks
// for key logs (save_keys, Wireshark's ikev2_decryption_table). Child SA keys need no hook: they
// reach the backend in InstallSa, where the daemon can see them.
#pragma once

#include <functional>

#include "crypto/keymat.h"
#include "util/strong_id.h"

namespace ikeplex::ike {

/// A new IKE SA's keys, the moment they are derived (IKE_SA_INIT or an IKE SA rekey), before
/// the IKE_AUTH or any later message they protect.
struct IkeKeyRecord {
    IkeSpi spi_i;
    IkeSpi spi_r;
    const crypto::IkeSuite& suite;
    const crypto::IkeKeys& keys;
};

/// Called on the control thread; must not keep the references.
using IkeKeyLog = std::function<void(const IkeKeyRecord&)>;

}  // namespace ikeplex::ike
