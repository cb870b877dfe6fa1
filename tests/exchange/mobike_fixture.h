// Shared by the MOBIKE exchange tests (RFC 4555): two engines with `mobike = yes`, a (the
// original initiator) roaming between addresses, and checks that every backend SA and policy
// sits on its IKE SA's current endpoints.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "exchange_harness.h"
#include "flow_fixture.h"

namespace ikeplex::test {

inline IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

class MobikeTest : public ::testing::Test {
protected:
    MobikeTest() {
        cfg.a.mobike = true;
        cfg.b.mobike = true;
        cfg.b.remote_addrs.clear();  // a road warrior: b takes it from any address
    }

    /// Loads both sides and brings "conn"/"net" up, a initiating.
    void start() {
        load(h, cfg, psk_credentials(), psk_credentials());
        h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.initiate("conn", "net", s)); });
        ASSERT_TRUE(up());
    }

    /// Both sides have one established IKE SA with at least `children` installed Child SAs.
    bool up(std::size_t children = 1) { return both_up(h, children); }

    /// The one established IKE SA of a node, mutable.
    ike::IkeSa& sa(Node& n) {
        auto est = n.established();
        EXPECT_EQ(est.size(), 1U) << n.name;
        return *n.manager.find(est.front()->id());
    }

    /// a's address moves to `to` (the old one is gone); the engine hears of it as from the
    /// daemon's address monitor: the whole new set.
    void roam(const char* to, std::vector<IpAddress> extra = {}) {
        h.move(h.a(), ip(to));
        extra.insert(extra.begin(), ip(to));
        h.act(h.a(), [&](ike::Step& s) { h.a().manager.on_local_addresses(extra, s); });
    }

    /// Problems with where a node's SAs and policies point: every backend SA on its IKE SA's
    /// endpoints and encapsulation, every policy on the endpoints, no backend error.
    std::vector<std::string> misplaced(Node& n) {
        std::vector<std::string> out = n.backend.errors;
        auto est = n.established();
        if (est.size() != 1) {
            out.push_back(n.name + ": not one established IKE SA");
            return out;
        }
        const ike::IkeSa& s = *est.front();
        for (const auto& [key, in] : n.backend.sas) {
            const Endpoint& want_src = in.inbound ? s.remote() : s.local();
            const Endpoint& want_dst = in.inbound ? s.local() : s.remote();
            if (in.src != want_src || in.dst != want_dst || in.udp_encap != s.udp_encap()) {
                out.push_back(fmt::format("{}: SA {} {} at {} -> {} encap {}, IKE SA {} - {}",
                                          n.name, in.spi, in.inbound ? "in" : "out", in.src, in.dst,
                                          in.udp_encap, s.local(), s.remote()));
            }
        }
        for (const auto& [key, p] : n.backend.policies) {
            if (p.local != s.local() || p.remote != s.remote()) {
                out.push_back(fmt::format("{}: policy at {} - {}, IKE SA {} - {}", n.name, p.local,
                                          p.remote, s.local(), s.remote()));
            }
        }
        return out;
    }

    /// Both sides agree (check_consistent) and everything sits on the current path.
    void expect_settled() {
        EXPECT_EQ(check_consistent(h), std::vector<std::string>{});
        EXPECT_EQ(misplaced(h.a()), std::vector<std::string>{});
        EXPECT_EQ(misplaced(h.b()), std::vector<std::string>{});
    }

    Harness h{11};
    PairConfig cfg = psk_pair();
};

}  // namespace ikeplex::test
