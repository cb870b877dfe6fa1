// ReplayWindow (RFC 4303 §3.4.3, Appendix A): table-driven scenarios for window sizes 32, 64,
// 1024 and 4096 (in order, reordering inside the window, duplicates, too old, big jumps), a
// disabled window, ESN (wrap of the low 32 bits, packets of the previous subspace inside the
// window, the RFC's Case A/B inference) and a randomized comparison with a plain model.
#include "esp/replay_window.h"

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ikeplex::esp {
namespace {

constexpr std::uint64_t kEpoch = std::uint64_t{1} << 32U;

/// One packet: its transmitted low 32 bits, what check() must say, and what update() must say.
/// update() is called only when check() accepted and the ICV would verify (`authentic`), as a
/// worker does.
struct Step {
    std::uint32_t seq_low;
    std::optional<std::uint64_t> check;  ///< nullopt: replay / too old
    bool update{true};                   ///< expected update() result
    bool authentic{true};                ///< false: a forgery / misread number, ICV fails
};
using Steps = std::vector<Step>;

struct Scenario {
    std::string name;
    bool esn;
    Steps (*build)(std::uint32_t w, bool esn);
};

Step accept(std::uint64_t seq) {
    return {static_cast<std::uint32_t>(seq), seq};
}
Step reject(std::uint64_t seq) {
    return {static_cast<std::uint32_t>(seq), std::nullopt};
}
/// A packet older than the window in subspace 0. Without ESN: rejected. With ESN, RFC 4303
/// A2.2 Case A reads a seq_low below Bl as the next subspace, so check() passes it on as
/// 2^32 + seq_low and the ICV (computed by the sender with high bits 0) rejects it.
Step old(std::uint64_t seq, bool esn) {
    if (!esn) {
        return reject(seq);
    }
    return {static_cast<std::uint32_t>(seq), kEpoch + seq, true, false};
}

Steps in_order(std::uint32_t w, bool /*esn*/) {
    Steps s;
    for (std::uint64_t i = 1; i <= 3ULL * w + 5; ++i) {
        s.push_back(accept(i));
    }
    return s;
}

Steps reorder_inside(std::uint32_t w, bool esn) {
    const std::uint64_t top = w + 10;
    Steps s{accept(top)};
    // Everything in [top - w + 1, top - 1] arrives late and in reverse: all accepted.
    for (std::uint64_t i = top - 1; i > top - w; --i) {
        s.push_back(accept(i));
    }
    s.push_back(old(top - w, esn));    // just outside
    s.push_back(reject(top - w + 1));  // the oldest in the window, now a duplicate
    s.push_back(reject(top));
    return s;
}

Steps duplicates(std::uint32_t w, bool esn) {
    return {accept(1),     reject(1),     accept(3),     accept(2), reject(2),  reject(3),
            accept(w + 1), reject(w + 1), accept(w + 2), accept(w), old(1, esn)};
}

Steps too_old(std::uint32_t w, bool esn) {
    const std::uint64_t top = 5ULL * w;
    return {accept(top),         old(top - w, esn), old(top - w - 1, esn), old(1, esn),
            accept(top - w + 1), accept(top - 1),   reject(top - w + 1)};
}

Steps big_jumps(std::uint32_t w, bool esn) {
    Steps s;
    // Fill the whole window, then jump exactly one window, then far.
    for (std::uint64_t i = 1; i <= w; ++i) {
        s.push_back(accept(i));
    }
    const std::uint64_t j1 = 2ULL * w;
    s.push_back(accept(j1));
    // The ring words reused for [w + 1, 2w - 1] must have been cleared by the jump.
    for (std::uint64_t i = w + 1; i < j1; ++i) {
        s.push_back(accept(i));
    }
    s.push_back(old(w, esn));  // too old now
    const std::uint64_t j2 = j1 + 1000ULL * w + 17;
    s.push_back(accept(j2));
    s.push_back(accept(j2 - w + 1));
    s.push_back(old(j2 - w, esn));
    s.push_back(old(j1, esn));
    // Jumps of less than a word, then back.
    s.push_back(accept(j2 + 3));
    s.push_back(accept(j2 + 1));
    s.push_back(reject(j2 + 1));
    s.push_back(accept(j2 + w));
    s.push_back(accept(j2 + 2));
    s.push_back(old(j2, esn));
    return s;
}

Steps top_of_32_bits(std::uint32_t w, bool /*esn*/) {
    return {accept(7),
            accept(0xffffffffULL),
            reject(0xfffffffeULL - w + 1),
            accept(0xffffffffULL - w + 1),
            reject(0xffffffffULL),
            reject(7)};
}

Steps zero_never(std::uint32_t w, bool esn) {
    // With ESN, seq_low 0 is 2^32 once the window is past Case B.
    return {reject(0), accept(1), reject(0), accept(w + 2), old(0, esn)};
}

// ESN: the low 32 bits wrap; the high bits are inferred (RFC 4303 A2.2).
Steps esn_wrap(std::uint32_t w, bool /*esn*/) {
    const std::uint64_t start = kEpoch - w / 2;
    // A fresh window is in Case B with Th = 0: it must first see a number below the window
    // before one near 2^32 - 1 is not read as subspace -1.
    Steps s{reject(kEpoch - 1), accept(kEpoch - 3ULL * w)};
    for (std::uint64_t i = start; i < kEpoch; i += 2) {  // leave every other one out
        s.push_back(accept(i));
    }
    s.push_back(accept(kEpoch + 3));  // seq_low 3 → high bits 1
    s.push_back(accept(kEpoch + 1));
    s.push_back(reject(kEpoch + 1));
    // The previous subspace, inside the window (Case B): high bits 0 again.
    s.push_back(accept(kEpoch - 1));
    s.push_back(reject(kEpoch - 2));  // sent before the wrap
    s.push_back(accept(start + 1));
    s.push_back(reject(start + 1));
    s.push_back(accept(kEpoch + w));  // slides the window wholly into subspace 1
    // Case A with Bl = 1: an old subspace-0 seq_low now reads as far ahead in subspace 1.
    s.push_back({static_cast<std::uint32_t>(start + 3), kEpoch + (start + 3), true, false});
    return s;
}

Steps esn_case_b_first_subspace(std::uint32_t /*w*/, bool /*esn*/) {
    // T = 5 < W - 1 (Case B) with Th = 0: a seq_low in the upper part of the window belongs to
    // subspace -1, which does not exist: refused. Small values are subspace 0.
    return {accept(5), reject(0xffffffffULL), reject(0xfffffff0ULL), accept(4), accept(6),
            reject(0)};
}

Steps esn_far_ahead(std::uint32_t w, bool /*esn*/) {
    // Case A, seq_low below Bl: the next subspace (Th + 1).
    const std::uint64_t top = 0x100ULL + w;
    return {accept(top), {5, kEpoch + 5}, accept(kEpoch + 6), reject(kEpoch + 5)};
}

const std::vector<Scenario>& scenarios() {
    static const std::vector<Scenario> s = {
            {"in_order", false, in_order},
            {"reorder_inside", false, reorder_inside},
            {"duplicates", false, duplicates},
            {"too_old", false, too_old},
            {"big_jumps", false, big_jumps},
            {"top_of_32_bits", false, top_of_32_bits},
            {"zero_never", false, zero_never},
            {"in_order_esn", true, in_order},
            {"reorder_inside_esn", true, reorder_inside},
            {"duplicates_esn", true, duplicates},
            {"too_old_esn", true, too_old},
            {"big_jumps_esn", true, big_jumps},
            {"zero_never_esn", true, zero_never},
            {"esn_wrap", true, esn_wrap},
            {"esn_case_b_first_subspace", true, esn_case_b_first_subspace},
            {"esn_far_ahead", true, esn_far_ahead},
    };
    return s;
}

class ReplayWindowSizes : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(ReplayWindowSizes, Scenarios) {
    const std::uint32_t w = GetParam();
    for (const Scenario& sc : scenarios()) {
        SCOPED_TRACE(sc.name);
        ReplayWindow win(w, sc.esn);
        ASSERT_EQ(win.size(), w);
        std::size_t n = 0;
        for (const Step& st : sc.build(w, sc.esn)) {
            SCOPED_TRACE("step " + std::to_string(n++) + " seq_low " + std::to_string(st.seq_low));
            const auto got = win.check(st.seq_low);
            ASSERT_EQ(got, st.check);
            if (got && st.authentic) {
                EXPECT_EQ(win.update(*got), st.update);
                EXPECT_FALSE(win.check(st.seq_low).has_value()) << "accepted twice";
            }
        }
    }
}

TEST_P(ReplayWindowSizes, UpdateRefusesWhatBecameAReplay) {
    ReplayWindow win(GetParam(), false);
    // Two copies of packet 7 pass check() before either is authenticated (two in a batch).
    ASSERT_EQ(win.check(7), 7U);
    ASSERT_EQ(win.check(7), 7U);
    EXPECT_TRUE(win.update(7));
    EXPECT_FALSE(win.update(7));
    // One that fell out of the window while its ICV was checked.
    ASSERT_EQ(win.check(8), 8U);
    EXPECT_TRUE(win.update(8 + GetParam()));
    EXPECT_FALSE(win.update(8));
    EXPECT_EQ(win.highest(), 8U + GetParam());
}

TEST_P(ReplayWindowSizes, MatchesAPlainModel) {
    // Random arrivals around a moving front, compared with a set-based model.
    const std::uint32_t w = GetParam();
    for (const bool esn : {false, true}) {
        SCOPED_TRACE(esn ? "esn" : "32-bit");
        std::mt19937_64 rng(w * 2654435761ULL + (esn ? 1 : 0));
        ReplayWindow win(w, esn);
        std::set<std::uint64_t> seen;
        std::uint64_t top = 0;
        // ESN starts just below a wrap so the window crosses subspaces.
        std::uint64_t front = esn ? kEpoch - 3ULL * w : 1;
        if (esn) {
            ASSERT_TRUE(win.update(front));
            seen.insert(front);
            top = front;
        }
        for (int i = 0; i < 20000; ++i) {
            const std::uint64_t r = rng();
            std::uint64_t seq = 0;
            switch (r % 8) {
                case 0:  // big jump
                    front += 1 + (r >> 8U) % (4ULL * w + 1);
                    seq = front;
                    break;
                case 1:
                case 2:  // duplicate or old
                    seq = top > (r >> 8U) % (2ULL * w) ? top - (r >> 8U) % (2ULL * w) : 1;
                    break;
                default:  // next or a little reordered
                    front += 1;
                    seq = front > (r >> 8U) % 8 ? front - (r >> 8U) % 8 : front;
                    break;
            }
            if (!esn && seq > 0xffffffffULL) {
                break;
            }
            const bool in_window = seq != 0 && (seq > top || top - seq < w);
            const bool model = in_window && seen.count(seq) == 0;
            const auto got = win.check(static_cast<std::uint32_t>(seq));
            if (model) {
                ASSERT_EQ(got, seq) << "i=" << i;
                ASSERT_TRUE(win.update(seq));
                seen.insert(seq);
                top = std::max(top, seq);
            } else if (esn && !in_window) {
                // Older than the window: refused or read as another subspace (the ICV would
                // fail), never as itself.
                ASSERT_NE(got, std::optional<std::uint64_t>(seq)) << "i=" << i;
            } else {
                ASSERT_FALSE(got.has_value()) << "i=" << i << " seq=" << seq << " top=" << top;
            }
            ASSERT_EQ(win.highest(), top);
        }
        if (esn) {
            EXPECT_GT(top, kEpoch) << "the test never crossed the wrap";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ReplayWindowSizes, ::testing::Values(32U, 64U, 1024U, 4096U),
                         [](const auto& p) { return "w" + std::to_string(p.param); });

TEST(ReplayWindow, DisabledAcceptsEverythingButZero) {
    ReplayWindow win(0, false);
    EXPECT_FALSE(win.check(0).has_value());
    for (const std::uint32_t s : {5U, 5U, 1U, 100000U, 3U, 0xffffffffU}) {
        ASSERT_EQ(win.check(s), s);
        EXPECT_TRUE(win.update(s));
    }
    EXPECT_EQ(win.highest(), 0xffffffffU);
    EXPECT_FALSE(win.update(0));
    EXPECT_FALSE(win.update(kEpoch)) << "no 64-bit numbers without ESN";
}

TEST(ReplayWindow, DisabledWithEsnInfersTheClosestSubspace) {
    ReplayWindow win(0, true);
    ASSERT_TRUE(win.update(kEpoch - 10));
    EXPECT_EQ(win.check(5), kEpoch + 5);             // just after the wrap
    EXPECT_EQ(win.check(0xfffffff0U), kEpoch - 16);  // just before, duplicates allowed
    EXPECT_EQ(win.check(0xfffffff6U), kEpoch - 10);
    ASSERT_TRUE(win.update(kEpoch + 5));
    EXPECT_EQ(win.highest(), kEpoch + 5);
    EXPECT_EQ(win.check(0x80000004U), kEpoch + 0x80000004U);
    ReplayWindow fresh(0, true);
    EXPECT_FALSE(fresh.check(0xfffffff0U).has_value()) << "subspace -1 does not exist";
    EXPECT_EQ(fresh.check(1), 1U);
}

TEST(ReplayWindow, SizesAreClampedAndRingsSmall) {
    EXPECT_EQ(ReplayWindow(100000, false).size(), ReplayWindow::kMaxSize);
    ReplayWindow w(4096, false);
    ASSERT_TRUE(w.update(10000));
    EXPECT_EQ(w.check(10000 - 4095), 10000U - 4095);
    EXPECT_FALSE(w.check(10000 - 4096).has_value());
}

TEST(ReplayWindow, OddSizesKeepTheirExactWidth) {
    for (const std::uint32_t size : {1U, 31U, 33U, 65U, 100U, 1000U}) {
        SCOPED_TRACE(size);
        ReplayWindow w(size, false);
        ASSERT_TRUE(w.update(5000));
        if (size > 1) {
            EXPECT_EQ(w.check(5000 - size + 1), 5000U - size + 1);
        }
        EXPECT_FALSE(w.check(5000 - size).has_value());
        EXPECT_FALSE(w.check(5000).has_value());
        EXPECT_EQ(w.check(5001), 5001U);
    }
}

}  // namespace
}  // namespace ikeplex::esp
