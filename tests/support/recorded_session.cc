#include "recorded_session.h"

#include <gtest/gtest.h>

#include "charon_log.h"
#include "crypto/registry.h"
#include "exchange_harness.h"
#include "ike/sk_cipher.h"
#include "vectors.h"
#include "wire/describe.h"

namespace ikeplex::test {

std::map<std::string, RecordedMessage> open_recorded_session(const std::string& dir,
                                                             const std::string& log) {
    const CharonLog keys = CharonLog::load(dir + "/" + log);
    const crypto::Registry& r = test_registry();
    const crypto::EncrInfo* encr = r.encr(20, 256);  // AES_GCM_16, 256-bit
    auto from_i = ike::SkCipher::create(r, *encr, nullptr, keys.get("Sk_ei secret"), {});
    auto from_r = ike::SkCipher::create(r, *encr, nullptr, keys.get("Sk_er secret"), {});
    std::map<std::string, RecordedMessage> out;
    if (!from_i || !from_r) {
        ADD_FAILURE() << "cannot build the recorded session's ciphers";
        return out;
    }
    for (const VectorMessage& v : all_vector_messages()) {
        if (v.name.rfind(dir + "/messages/", 0) != 0) {
            continue;
        }
        const std::string frame = v.name.substr(dir.size() + 10, 2);
        auto m = wire::parse_message(v.bytes);
        if (!m) {
            ADD_FAILURE() << v.name << ": " << wire::describe(m.error());
            continue;
        }
        if (m->sk() == nullptr) {
            out[frame] = RecordedMessage{m->header, m->payloads};
            continue;
        }
        auto opened = (m->header.from_initiator() ? *from_i : *from_r).open(v.bytes, *m);
        if (!opened) {
            ADD_FAILURE() << v.name << ": " << wire::describe(opened.error());
            continue;
        }
        auto inner = wire::parse_payload_chain(m->sk()->first_inner, opened->plaintext);
        if (!inner) {
            ADD_FAILURE() << v.name << ": " << wire::describe(inner.error());
            continue;
        }
        out[frame] = RecordedMessage{m->header, std::move(*inner)};
    }
    return out;
}

std::string payload_sequence(const wire::Header& h, const std::vector<wire::Payload>& inner) {
    const std::string d = wire::describe(h, inner);
    const auto open = d.find('[');
    const auto close = d.rfind(']');
    return open == std::string::npos || close == std::string::npos
                   ? d
                   : d.substr(open + 2, close - open - 3);
}

}  // namespace ikeplex::test
