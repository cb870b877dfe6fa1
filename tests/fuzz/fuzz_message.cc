// libFuzzer target: the IKEv2 message parser (outer message and, with the first byte as the
// first payload type, an inner payload chain as found in a decrypted SK payload).
// Asserts parse(write(parse(x))) == parse(x) for whatever parses, and runs the rule checks and
// describe() on it. Seed corpus: every real message in tests/vectors (fuzz/CMakeLists.txt).
#include <cstdint>
#include <cstdlib>

#include "wire/describe.h"
#include "wire/message.h"
#include "wire/payload_rules.h"

namespace {

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void fuzz_message(ikeplex::ByteView data) {
    using namespace ikeplex::wire;
    auto m = parse_message(data);
    if (!m) {
        (void)describe(m.error());
        return;
    }
    (void)describe(*m);
    (void)check_header_rules(m->header);
    (void)check_outer_rules(m->header, m->payloads);
    auto bytes = write_message(*m);
    require(bytes.has_value());
    auto again = parse_message(*bytes);
    require(again.has_value() && *again == *m);
    // A parsed message is re-written exactly unless it had non-zero reserved bits.
    require(write_message(*again).value() == *bytes);
}

void fuzz_chain(ikeplex::ByteView data) {
    using namespace ikeplex::wire;
    if (data.empty()) {
        return;
    }
    const auto first = static_cast<PayloadType>(data[0]);
    auto chain = parse_payload_chain(first, data.subspan(1));
    if (!chain) {
        return;
    }
    Header h;
    h.exchange = ExchangeType::kIkeAuth;
    (void)check_inner_rules(h, *chain);
    (void)describe(h, *chain);
    auto bytes = write_payload_chain(*chain);
    require(bytes.has_value());
    auto again = parse_payload_chain(first, *bytes);
    require(again.has_value() && *again == *chain);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ikeplex::ByteView in(data, size);
    fuzz_message(in);
    fuzz_chain(in);
    return 0;
}
