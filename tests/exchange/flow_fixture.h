// Shared fixture of the exchange flow tests: every flow runs twice, once with a as the
// initiator and once with b (GetParam() == true: a initiates).
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "cert_factory.h"
#include "exchange_harness.h"
#include "traces.h"

namespace ikeplex::test {

inline std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) {
        out += l;
        out += '\n';
    }
    return out;
}

/// Roughly the longest any exchange can take to give up: 5 retransmits with back-off 1.8
/// from 4 s (4 * (1 + 1.8 + ... + 1.8^5) ≈ 165 s), plus slack.
inline constexpr Duration kSettle = std::chrono::seconds(240);

/// Short retransmissions for the heal tests: a request and 2 retransmits 1 s and 2 s later,
/// given up 4 s after the last (7 s per attempt); retries after 1 s, 2 s, 4 s ... up to 8 s,
/// plus up to half of that at random.
inline ike::Settings quick_heal_settings() {
    ike::Settings s;
    s.retransmit_timeout = std::chrono::seconds(1);
    s.retransmit_base = 2.0;
    s.retransmit_tries = 2;
    s.restart_delay = std::chrono::seconds(1);
    s.restart_delay_max = std::chrono::seconds(8);
    return s;
}

/// Runs `h` until both sides have one established IKE SA with at least `children` installed
/// Child SAs (60 s of virtual time at most).
inline bool both_up(Harness& h, std::size_t children) {
    const auto ready = [&](Node& n) {
        auto est = n.established();
        if (est.size() != 1) {
            return false;
        }
        std::size_t installed = 0;
        for (const auto& c : est.front()->children()) {
            installed += c->state == ike::ChildState::kInstalled ? 1U : 0U;
        }
        return installed >= children;
    };
    return h.run_until([&] { return ready(h.a()) && ready(h.b()); }, std::chrono::seconds(60));
}

class FlowTest : public ::testing::TestWithParam<bool> {
protected:
    explicit FlowTest(ike::Settings settings = {}) : h(7, settings) {}
    /// Each side with its own settings (a's and b's, whichever initiates).
    FlowTest(ike::Settings a_settings, ike::Settings b_settings) : h(7, a_settings, b_settings) {}

    Node& ini() { return GetParam() ? h.a() : h.b(); }
    Node& res() { return h.peer(ini()); }
    ike::PeerConfig& ini_cfg() { return GetParam() ? cfg.a : cfg.b; }
    ike::PeerConfig& res_cfg() { return GetParam() ? cfg.b : cfg.a; }
    std::string ini_name() { return ini().name; }
    std::string res_name() { return res().name; }

    void load_psk() { load(h, cfg, psk_credentials(), psk_credentials()); }

    /// Starts "conn" (and `child`) on the initiator.
    std::uint32_t initiate(const char* child = "net") {
        std::uint32_t id = 0;
        h.act(ini(), [&](ike::Step& s) {
            auto r = ini().manager.initiate("conn", child, s);
            ASSERT_TRUE(r) << r.error().detail;
            id = *r;
        });
        return id;
    }

    /// Both sides have an established IKE SA with at least `children` installed Child SAs.
    bool up(std::size_t children = 1) { return both_up(h, children); }

    /// The only established IKE SA of a node.
    const ike::IkeSa& only_sa(Node& n) {
        auto est = n.established();
        EXPECT_EQ(est.size(), 1U);
        return *est.front();
    }

    /// The Child SA ids of a node's established IKE SAs that are installed.
    static std::vector<std::uint32_t> installed(Node& n) {
        std::vector<std::uint32_t> ids;
        for (const ike::IkeSa* sa : n.established()) {
            for (const auto& c : sa->children()) {
                if (c->state == ike::ChildState::kInstalled) {
                    ids.push_back(c->id);
                }
            }
        }
        return ids;
    }

    void settle() { h.run_for(kSettle); }

    /// Each side holds exactly one IKE SA with exactly one installed Child SA, consistently.
    void expect_single_pair() {
        for (Node* n : {&h.a(), &h.b()}) {
            EXPECT_EQ(n->manager.sas().size(), 1U) << n->name;
            EXPECT_EQ(installed(*n).size(), 1U) << n->name;
            EXPECT_EQ(n->backend.sas.size(), 2U) << n->name;
        }
        expect_consistent();
    }

    void expect_consistent() {
        const auto problems = check_consistent(h);
        EXPECT_TRUE(problems.empty()) << join(problems);
    }

    void expect_empty() {
        auto problems = check_empty(h.a());
        const auto more = check_empty(h.b());
        problems.insert(problems.end(), more.begin(), more.end());
        EXPECT_TRUE(problems.empty()) << join(problems);
    }

    Harness h;
    PairConfig cfg = psk_pair();
};

inline std::string role_name(const ::testing::TestParamInfo<bool>& info) {
    return info.param ? "a_initiates" : "b_initiates";
}

}  // namespace ikeplex::test
