// Reads the hex dumps strongSwan's charon writes at log level 4 ("Sk_ei secret => 36 bytes @
// 0x..." followed by "   0: B7 2E 39 ..." lines): the real-peer key schedules in tests/vectors.
#pragma once

#include <string>
#include <vector>

#include "util/bytes.h"

namespace ikeplex::test {

struct LogDump {
    std::string label;  ///< e.g. "Sk_ei secret", "seed", "AUTH = prf(prf(secret, keypad), octets)"
    std::string subsystem;  ///< e.g. "IKE", "CHD"
    Bytes bytes;
};

class CharonLog {
public:
    explicit CharonLog(const std::string& text);
    /// Loads tests/vectors/<relative>.
    static CharonLog load(const std::string& relative);

    [[nodiscard]] const std::vector<LogDump>& dumps() const { return dumps_; }
    /// The n-th (0-based) dump with this label; fails the test if there is none.
    [[nodiscard]] Bytes get(const std::string& label, std::size_t n = 0) const;
    [[nodiscard]] std::size_t count(const std::string& label) const;

private:
    std::vector<LogDump> dumps_;
};

}  // namespace ikeplex::test
