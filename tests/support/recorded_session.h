// A recorded strongSwan session (tests/vectors/<dir>) opened with the keys its charon log
// dumped: every encrypted message's inner payloads, in frame order.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "wire/message.h"

namespace ikeplex::test {

struct RecordedMessage {
    wire::Header header;
    std::vector<wire::Payload> inner;  ///< the decrypted payloads (IKE_SA_INIT: its payloads)
};

/// Frame ("01", "02", ...) -> message, for a session whose IKE SA used AES-GCM-16-256 (the
/// per-CPU capture); `log` names the charon log with the key dumps.
std::map<std::string, RecordedMessage> open_recorded_session(const std::string& dir,
                                                             const std::string& log);

/// "SA No TSi TSr N(RES_INFO)": the payload sequence as strongSwan's logs write it.
std::string payload_sequence(const wire::Header& h, const std::vector<wire::Payload>& inner);

}  // namespace ikeplex::test
