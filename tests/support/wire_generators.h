// rapidcheck generators for IKEv2 messages that the writer accepts: every payload kind, with
// the invariants the RFCs fix (nonce sizes, address sizes, notify data sizes, SK last, ...)
// and otherwise arbitrary values.
#pragma once

#include <rapidcheck.h>

#include "wire/message.h"

namespace ikeplex::test {

rc::Gen<wire::Payload> gen_plain_payload();  ///< any payload except SK/SKF
rc::Gen<std::vector<wire::Payload>> gen_plain_chain();
rc::Gen<wire::Message> gen_message();

}  // namespace ikeplex::test
