// Property: parse(write(m)) == m for generated messages and payload chains (rapidcheck).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "wire/message.h"
#include "wire_generators.h"

namespace ikeplex::wire {
namespace {

RC_GTEST_PROP(WireProperty, MessageRoundTrip, ()) {
    const Message m = *test::gen_message();
    auto bytes = write_message(m);
    RC_ASSERT(bytes.has_value());
    auto back = parse_message(*bytes);
    if (!back) {
        RC_FAIL(back.error().to_string());
    }
    RC_ASSERT(*back == m);
    RC_ASSERT(*write_message(*back) == *bytes);
}

RC_GTEST_PROP(WireProperty, InnerChainRoundTrip, ()) {
    const std::vector<Payload> chain = *test::gen_plain_chain();
    auto bytes = write_payload_chain(chain);
    RC_ASSERT(bytes.has_value());
    const PayloadType first = chain.empty() ? PayloadType::kNone : chain.front().type;
    auto back = parse_payload_chain(first, *bytes);
    if (!back) {
        RC_FAIL(back.error().to_string());
    }
    RC_ASSERT(*back == chain);
}

}  // namespace
}  // namespace ikeplex::wire
