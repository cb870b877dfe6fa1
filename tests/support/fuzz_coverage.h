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

}  // namespace ikeplex::fuzz
