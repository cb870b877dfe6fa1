// The randomness a method draws its challenges from: the context's, else the kernel's CSPRNG.
#pragma once

#include "util/random.h"

namespace ikeplex::eap {

/// `injected` if set (tests, the simulator), else this thread's OsRandom.
inline Random& random_or_os(Random* injected) {
    if (injected != nullptr) {
        return *injected;
    }
    thread_local OsRandom os;
    return os;
}

}  // namespace ikeplex::eap
