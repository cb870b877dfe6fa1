#include "util/result.h"

#include <cstdio>

#include <fmt/format.h>

namespace ikeplex {

const char* to_string(Errc code) noexcept {
    switch (code) {
        case Errc::kTruncated:
            return "truncated";
        case Errc::kBadLength:
            return "bad length";
        case Errc::kInvalidSyntax:
            return "invalid syntax";
        case Errc::kUnsupportedCritical:
            return "unsupported critical payload";
        case Errc::kUnsupportedVersion:
            return "unsupported version";
        case Errc::kTooLarge:
            return "too large";
        case Errc::kInvalidArgument:
            return "invalid argument";
        case Errc::kRuleViolation:
            return "payload rule violation";
        case Errc::kUnsupported:
            return "unsupported";
        case Errc::kNoProposal:
            return "no proposal chosen";
        case Errc::kAuthFailed:
            return "authentication failed";
        case Errc::kIntegrity:
            return "integrity check failed";
        case Errc::kReplay:
            return "replay";
        case Errc::kCrypto:
            return "crypto failure";
        case Errc::kNetlink:
            return "netlink failure";
        case Errc::kSystem:
            return "system error";
        case Errc::kNotFound:
            return "not found";
        case Errc::kState:
            return "invalid state";
        case Errc::kConfig:
            return "configuration error";
        case Errc::kPassphrase:
            return "wrong or missing passphrase";
        case Errc::kInternal:
            return "internal error";
    }
    return "unknown error";
}

std::string Error::to_string() const {
    std::string s = fmt::format("{}: {}", ikeplex::to_string(code), detail);
    if (sys_errno != 0) {
        s += fmt::format(" (errno {})", sys_errno);
    }
    if (arg != 0) {
        s += fmt::format(" [{}]", arg);
    }
    return s;
}

void result_access_failure(const Error& e) noexcept {
    std::fprintf(stderr, "ikeplex: value() of a failed Result: %s\n", e.to_string().c_str());
    std::abort();
}

}  // namespace ikeplex
