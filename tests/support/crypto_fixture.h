// Shared pieces of the crypto tests: one Registry for the whole test binary.
#pragma once

#include "crypto/registry.h"

namespace ikeplex::crypto::test {

inline const Registry& registry() {
    static const auto r = Registry::create().value();
    return *r;
}

}  // namespace ikeplex::crypto::test
