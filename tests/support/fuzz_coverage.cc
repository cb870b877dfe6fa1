// Lives in the test support library, which is never coverage-instrumented (tests/fuzz/
// CMakeLists.txt): in an instrumented file, declaring the section bounds collides with the
// declarations the coverage pass makes itself, and libFuzzer then finds no counters at all.
#include "fuzz_coverage.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

// The bounds of the inline 8-bit counters' section, defined by the linker when the section
// exists (weak: null otherwise).
extern "C" {
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp,readability-identifier-naming)
extern std::uint8_t __start___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
// NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp,readability-identifier-naming)
extern std::uint8_t __stop___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
}

namespace ikeplex::fuzz {
namespace {

/// The counters, or an empty span when they are to be left alone (no such section, or
/// IKEPLEX_FUZZ_SETUP_COVERAGE set).
std::span<std::uint8_t> counters() {
    static const bool keep = std::getenv("IKEPLEX_FUZZ_SETUP_COVERAGE") != nullptr;
    if (keep || __start___sancov_cntrs == nullptr || __stop___sancov_cntrs == nullptr) {
        return {};
    }
    return {__start___sancov_cntrs,
            static_cast<std::size_t>(__stop___sancov_cntrs - __start___sancov_cntrs)};
}

std::vector<std::uint8_t>& kept() {
    static std::vector<std::uint8_t> k;
    return k;
}

}  // namespace

void forget_setup_coverage() {
    const auto c = counters();
    std::memset(c.data(), 0, c.size());
}

namespace detail {

void keep_coverage() {
    const auto c = counters();
    kept().assign(c.begin(), c.end());
}

void restore_coverage() {
    const auto c = counters();
    if (kept().size() == c.size()) {
        std::memcpy(c.data(), kept().data(), c.size());
    }
}

}  // namespace detail

}  // namespace ikeplex::fuzz
