// Coverage bookkeeping for the engine fuzz targets.
#pragma once

namespace ikeplex::fuzz {

/// Forgets the coverage of what ran so far in this execution: a target calls it after the
/// set-up every input repeats identically (the same edges each time: no signal for
/// libFuzzer), so that libFuzzer collects and weighs only the input's own features; that
/// work grows with every edge hit (CollectFeatures, entropic's UpdateFeatureFrequency).
/// IKEPLEX_FUZZ_SETUP_COVERAGE=1 keeps it (for A/B measurements). Nothing in a build without
/// libFuzzer's inline 8-bit counters.
void forget_setup_coverage();

namespace detail {
void keep_coverage();
void restore_coverage();
}  // namespace detail

/// Runs `teardown` (the destruction of an input's state) without counting its coverage: the
/// counters are kept before and put back after. The teardown still runs under the sanitizers
/// (a crash in it is found); its edges are nearly the same for every input, and counting them
/// costs libFuzzer's bookkeeping as much as the input's own edges do.
/// IKEPLEX_FUZZ_SETUP_COVERAGE=1 counts them too (for A/B measurements).
template <typename F>
void without_coverage(F&& teardown) {
    detail::keep_coverage();
    teardown();
    detail::restore_coverage();
}

}  // namespace ikeplex::fuzz
