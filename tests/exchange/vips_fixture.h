// The fixture of the virtual IP exchange tests (vips_test.cc, vips_bounds_test.cc): node a is
// the client (`vips`), node b the gateway (`pools`).
#pragma once

#include <gtest/gtest.h>

#include "flow_fixture.h"
#include "ike/config_payload.h"
#include "ike/payload_access.h"
#include "ike/pools.h"

namespace ikeplex::test {

inline IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

inline ike::TrafficSelector sel(const char* text) {
    return *ike::TrafficSelector::parse(text);
}

inline ike::PoolConfig pool(const char* name, const char* addrs,
                            std::vector<std::pair<const char*, const char*>> attrs = {}) {
    auto p = ike::PoolConfig::parse(name, addrs);
    EXPECT_TRUE(p) << addrs;
    for (const auto& [k, v] : attrs) {
        EXPECT_TRUE(p->add_attribute(k, v)) << k;
    }
    return *p;
}

class Vips : public ::testing::Test {
protected:
    Vips() {
        // The client: its own address is "dynamic" (asks for 0.0.0.0/0, installs the lease).
        client_ = cfg.a;
        client_.vips = {*IpAddress::parse("0.0.0.0")};
        client_.children.front().local_ts.clear();
        // The gateway: any client, its address from pool "p", selectors narrowed to it.
        gateway_ = cfg.b;
        gateway_.remote.id = *ike::Identity::parse("%any");
        gateway_.pools = {"p"};
        gateway_.children.front().remote_ts.clear();
    }

    /// Client connections c1..cn with identities client1@vpn.example ... (one IKE SA each).
    void load(std::size_t clients, std::vector<IpAddress> vips = {}) {
        std::vector<ike::PeerConfig> list;
        for (std::size_t i = 1; i <= clients; ++i) {
            ike::PeerConfig c = client_;
            c.name = fmt::format("c{}", i);
            c.local.id = *ike::Identity::parse(fmt::format("client{}@vpn.example", i));
            if (!vips.empty()) {
                c.vips = vips;
            }
            list.push_back(std::move(c));
        }
        h.a().manager.load(std::move(list));
        h.b().manager.load({gateway_});
        h.a().manager.set_credentials(psk_credentials());
        h.b().manager.set_credentials(psk_credentials());
    }

    std::uint32_t start(std::size_t i) {
        std::uint32_t id = 0;
        h.act(h.a(), [&](ike::Step& s) {
            auto r = h.a().manager.initiate(fmt::format("c{}", i), "net", s);
            ASSERT_TRUE(r) << r.error().detail;
            id = *r;
        });
        return id;
    }

    /// Both sides have `n` established IKE SAs.
    bool up(std::size_t n) {
        return h.run_until(
                [&] { return h.a().established().size() == n && h.b().established().size() == n; },
                std::chrono::seconds(60));
    }

    const ike::IkeSa* client_sa(std::uint32_t id) { return h.a().manager.sa(id); }
    /// The gateway's IKE SA whose peer is `client<i>@vpn.example`.
    const ike::IkeSa* gateway_sa(std::size_t i) {
        for (const ike::IkeSa* sa : h.b().established()) {
            if (sa->remote_id().to_string() == fmt::format("client{}@vpn.example", i)) {
                return sa;
            }
        }
        return nullptr;
    }
    static std::vector<IpAddress> local_vips(const ike::IkeSa* sa) {
        const auto* v = sa != nullptr ? ike::virtual_ips(*sa) : nullptr;
        return v != nullptr ? v->local : std::vector<IpAddress>{};
    }
    static std::vector<IpAddress> remote_vips(const ike::IkeSa* sa) {
        const auto* v = sa != nullptr ? ike::virtual_ips(*sa) : nullptr;
        return v != nullptr ? v->remote : std::vector<IpAddress>{};
    }
    const ike::AddressPool& the_pool() { return *h.b().manager.pools().find("p"); }

    void terminate(std::uint32_t id) {
        h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.terminate_ike(id, s)); });
        ASSERT_TRUE(h.run_until([&] { return h.a().manager.sa(id) == nullptr; },
                                std::chrono::seconds(30)));
        h.run_for(std::chrono::seconds(1));
    }

    Harness h{11};
    PairConfig cfg = psk_pair();
    ike::PeerConfig client_;
    ike::PeerConfig gateway_;
};

}  // namespace ikeplex::test
