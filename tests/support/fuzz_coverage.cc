// Lives in the test support library, which is never coverage-instrumented (tests/fuzz/
// CMakeLists.txt): in an instrumented file, declaring the section bounds collides with the
// declarations the coverage pass makes itself, and libFuzzer then finds no counters at all.
#include "fuzz_coverage.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

// The bounds of the inline 8-bit counters' section, defined by the linker when the section
// exists (weak: null otherwise).
extern "C" {
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp,readability-identifier-naming)
extern std::uint8_t __start___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp,readability-identifier-naming)
extern std::uint8_t __stop___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
}

namespace ikeplex::fuzz {

void forget_setup_coverage() {
    static const bool keep = std::getenv("IKEPLEX_FUZZ_SETUP_COVERAGE") != nullptr;
    if (keep || __start___sancov_cntrs == nullptr || __stop___sancov_cntrs == nullptr) {
        return;
    }
    std::memset(__start___sancov_cntrs, 0,
                static_cast<std::size_t>(__stop___sancov_cntrs - __start___sancov_cntrs));
}

}  // namespace ikeplex::fuzz
