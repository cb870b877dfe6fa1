#include "fragments.h"

#include <gtest/gtest.h>

#include "util/hex.h"

namespace ikeplex::test {

Bytes assemble(const Fragments& f) {
    Bytes out;
    for (const Fragment& x : f) {
        out.insert(out.end(), x.bytes.begin(), x.bytes.end());
    }
    return out;
}

Bytes truncate_at(const Fragments& f, std::size_t cut) {
    Bytes all = assemble(f);
    std::vector<std::size_t> start(f.size() + 1, 0);
    for (std::size_t i = 0; i < f.size(); ++i) {
        start[i + 1] = start[i] + f[i].bytes.size();
    }
    for (std::size_t i = 0; i < f.size(); ++i) {
        const Fragment& x = f[i];
        if (x.counts_from < 0 || start[i + 1] > cut) {
            continue;  // not a length, or the length field itself is cut
        }
        const std::size_t from = start[static_cast<std::size_t>(x.counts_from)];
        std::uint64_t len = 0;
        for (std::uint8_t b : x.bytes) {
            len = (len << 8U) | b;
        }
        if (from + len <= cut) {
            continue;  // the structure ends before the cut
        }
        std::uint64_t shortened = cut - from;
        for (std::size_t k = x.bytes.size(); k-- > 0;) {
            all[start[i] + k] = static_cast<std::uint8_t>(shortened);
            shortened >>= 8U;
        }
    }
    all.resize(cut);
    return all;
}

void check_boundaries(const Fragments& f, const std::function<Status(ByteView)>& parse) {
    const Bytes whole = assemble(f);
    const Status full = parse(whole);
    EXPECT_TRUE(full.has_value()) << "whole message: " << full.error().to_string();
    std::size_t pos = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
        for (std::size_t k = 0; k < f[i].bytes.size(); ++k) {
            const std::size_t cut = pos + k;
            const Bytes data = truncate_at(f, cut);
            const Status s = parse(data);
            const std::string& expected =
                    k == 0 && !f[i].error_at_start.empty() ? f[i].error_at_start : f[i].error;
            if (expected.empty()) {
                EXPECT_TRUE(s.has_value())
                        << "cut at " << cut << " (fragment " << i << "): " << s.error().to_string();
            } else if (s.has_value()) {
                ADD_FAILURE() << "cut at " << cut << " (fragment " << i << ") parsed; expected '"
                              << expected << "'; data " << to_hex(data);
            } else {
                EXPECT_EQ(std::string(s.error().detail), expected)
                        << "cut at " << cut << " (fragment " << i << ")";
            }
        }
        pos += f[i].bytes.size();
    }
}

}  // namespace ikeplex::test
